/**
 * The program of a benchmark worker process (see child.ts): runs one workload and reports its
 * result, CPU time and peak RSS to the parent, then exits.
 */
import type { ChildControl, ChildMessage, ChildWorkload, ParentMessage } from './child.ts';

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    process.send?.(message, undefined, {}, (error) => (error ? reject(error) : resolve()));
  });
}

let go: (() => void) | undefined;

process.on('message', (message: ParentMessage) => {
  if (message.type === 'go') {
    go?.();
    return;
  }
  void run(message.module, message.exportName, message.input).then(
    () => process.exit(0),
    async (error: unknown) => {
      const failure = error instanceof Error ? error : new Error(String(error));
      await send({ type: 'error', message: failure.message, stack: failure.stack }).catch(() => {});
      process.exit(1);
    },
  );
});

async function run(module: string, exportName: string, input: unknown): Promise<void> {
  const loaded = (await import(module)) as Record<string, unknown>;
  const workload = loaded[exportName];
  if (typeof workload !== 'function') throw new Error(`${module} exports no function ${exportName}.`);
  let cpuStart = process.cpuUsage();
  let cpuMicros: number | undefined;
  const control: ChildControl = {
    ready: async () => {
      const started = new Promise<void>((resolve) => {
        go = resolve;
      });
      await send({ type: 'ready' });
      await started;
      cpuStart = process.cpuUsage();
    },
    measured: () => {
      const used = process.cpuUsage(cpuStart);
      cpuMicros ??= used.user + used.system;
    },
    log: (line) => {
      void send({ type: 'log', line });
    },
  };
  const result = await (workload as ChildWorkload<unknown, unknown>)(input, control);
  control.measured();
  await send({
    type: 'done',
    result,
    cpuMicros: cpuMicros ?? 0,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  });
}
