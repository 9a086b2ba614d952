/**
 * The program of a scaling-suite worker process (worker-hosts.ts starts it and sends its commands).
 * It lives for the whole suite, so that loading the modules (seconds on a loaded machine) is paid
 * once, and boots a Nest application of its own for every measurement:
 * - prepare: the app (worker disabled) starts the workload's runs by one startMany(), then closes;
 * - boot: the app boots with its worker disabled, on the measurement's database;
 * - go: the CPU clock starts and the worker starts; handler calls are reported as they grow;
 * - stop: the CPU clock stops, the app closes (its connections end), the counts are reported;
 * - exit.
 */
import { PgflowWorker } from 'nestjs-pgflow';
import { handled } from '../worker/throughput-flows.ts';
import type { WorkerApp } from '../worker/worker-app.ts';
import { bootScalingApp, startRuns } from './scaling.workloads.ts';
import type { HostCommand, HostReply } from './worker-hosts.ts';

/** How often the process reports its handler calls to the parent, ms. */
const PROGRESS_EVERY_MS = 10;

let app: WorkerApp | undefined;
let cpuStart: NodeJS.CpuUsage | undefined;
let reporter: NodeJS.Timeout | undefined;

function send(reply: HostReply): Promise<void> {
  return new Promise((resolve, reject) => {
    process.send?.(reply, undefined, {}, (error) => (error ? reject(error) : resolve()));
  });
}

async function handle(command: HostCommand): Promise<void> {
  switch (command.type) {
    case 'prepare':
      await send({ type: 'prepared', ...(await startRuns(command.input)) });
      return;
    case 'boot':
      app = await bootScalingApp(command.input);
      handled.count = 0;
      await send({ type: 'ready' });
      return;
    case 'go': {
      if (app === undefined) throw new Error('go before boot');
      cpuStart = process.cpuUsage();
      let reported = 0;
      reporter = setInterval(() => {
        if (handled.count === reported) return;
        reported = handled.count;
        void send({ type: 'progress', value: reported });
      }, PROGRESS_EVERY_MS);
      await app.app.get(PgflowWorker).start();
      return;
    }
    case 'stop': {
      const cpu = process.cpuUsage(cpuStart);
      clearInterval(reporter);
      const calls = handled.count;
      await app?.close();
      app = undefined;
      await send({ type: 'stopped', handled: calls, cpuMicros: cpu.user + cpu.system });
      return;
    }
    case 'exit':
      process.exit(0);
  }
}

process.on('message', (command: HostCommand) => {
  handle(command).catch(async (error: unknown) => {
    const failure = error instanceof Error ? error : new Error(String(error));
    await send({ type: 'error', message: failure.message, stack: failure.stack }).catch(() => {});
    process.exit(1);
  });
});
