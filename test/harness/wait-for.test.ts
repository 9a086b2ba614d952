import { waitFor } from '../support/wait-for.ts';

describe('waitFor', () => {
  it('returns the first truthy value the check produces', async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls >= 3 ? { calls } : undefined), { intervalMs: 1 });
    expect(value).toEqual({ calls: 3 });
  });

  it('keeps checking when the check throws, until it succeeds', async () => {
    let calls = 0;
    const value = await waitFor(
      () => {
        calls += 1;
        if (calls < 3) throw new Error('not yet');
        return 'ready';
      },
      { intervalMs: 1 },
    );
    expect(value).toBe('ready');
  });

  it('fails after the deadline, naming what it waited for and keeping the last error', async () => {
    const failure = waitFor(
      () => {
        throw new Error('still down');
      },
      { timeoutMs: 30, intervalMs: 5, description: 'the server' },
    );
    await expect(failure).rejects.toThrow(/Timed out after 30 ms waiting for the server/);
    await expect(failure.catch((error: Error) => (error.cause as Error).message)).resolves.toBe('still down');
  });
});
