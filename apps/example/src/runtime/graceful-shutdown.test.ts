import { GracefulShutdown, importWithoutSignalHooks } from './graceful-shutdown.ts';

describe('importWithoutSignalHooks', () => {
  it('removes the signal listeners the import added, and keeps the others', async () => {
    const ours = (): void => {};
    const hook = (): void => {};
    const exitHook = (): void => {};
    process.on('SIGINT', ours);
    try {
      const loaded = await importWithoutSignalHooks(async () => {
        for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, hook);
        process.on('exit', exitHook);
        return 'module';
      });
      expect(loaded).toBe('module');
      expect(process.listeners('SIGINT')).toContain(ours);
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
        expect(process.listeners(signal)).not.toContain(hook);
      // The exit hook stays: it stops a server the process did not stop.
      expect(process.listeners('exit')).toContain(exitHook);
    } finally {
      process.removeListener('SIGINT', ours);
      process.removeListener('exit', exitHook);
    }
  });
});

describe('GracefulShutdown', () => {
  it('stops what was registered last first, once, and reports a step that failed', async () => {
    const lines: string[] = [];
    const shutdown = new GracefulShutdown((line) => lines.push(line), 1_000);
    const order: string[] = [];
    shutdown.add('database', async () => {
      order.push('database');
    });
    shutdown.add('application', async () => {
      order.push('application');
      throw new Error('still busy');
    });

    const [first, second] = await Promise.all([shutdown.run(), shutdown.run()]);

    expect(order).toEqual(['application', 'database']);
    expect([first, second]).toEqual([false, false]);
    expect(lines).toEqual(['Could not stop the application cleanly: still busy']);
  });

  it('is requested when a signal arrives, and stops listening once it has run', async () => {
    const shutdown = new GracefulShutdown(() => {}, 60_000).listen();
    expect(shutdown.requested).toBe(false);
    process.emit('SIGTERM', 'SIGTERM');
    await shutdown.untilRequested();
    expect(shutdown.requested).toBe(true);
    expect(shutdown.signal.aborted).toBe(true);
    await shutdown.run();
    expect(process.listenerCount('SIGTERM')).toBe(0);
  });
});
