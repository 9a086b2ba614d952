import { runNestedJest } from '../support/nested-jest.ts';

describe('the leak guard', () => {
  it('fails a test file that leaves a connection open, naming the connection', async () => {
    const { code, output } = await runNestedJest('**/leaky-connection.fixture.ts');
    expect(code).not.toBe(0);
    expect(output).toMatch(/left 1 connection\(s\) open after its last test/);
    expect(output).toMatch(/application_name='forgotten worker'/);
  }, 60_000);
});
