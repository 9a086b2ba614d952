import { runNestedJest } from '../support/nested-jest.ts';

describe('test database isolation', () => {
  it('two test files running at the same time each see only their own database', async () => {
    // A memory limit makes Jest use its workers even for two fast files (it would otherwise run them
    // one after the other in its own process), so the two files really run at the same time.
    const { code, output } = await runNestedJest('**/isolation-?.fixture.ts', [
      '--maxWorkers=2',
      '--workerIdleMemoryLimit=2GB',
    ]);
    expect(output).toMatch(/Tests:\s+2 passed, 2 total/);
    expect(code).toBe(0);
  }, 60_000);
});
