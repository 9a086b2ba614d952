/**
 * `npm start`: the example application, with a demo. It starts PostgreSQL (the embedded one, unless
 * DATABASE_URL is set), the application (HTTP API and worker) on PORT [3000], runs analyze_website
 * once while printing its progress, then serves the API until Ctrl-C or SIGTERM, and shuts down in
 * order: the application first, the embedded PostgreSQL last (see runtime/graceful-shutdown.ts).
 *
 * Environment: DATABASE_URL (a server to use instead of the embedded one), PORT (0: any free port),
 * EXAMPLE_PGDATA (the embedded server's data folder under .pgdata/ [example]; kept between starts).
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { relative } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.ts';
import { runDemo } from './demo/demo-run.ts';
import { readDashboardToken, readDataFolder, readPort } from './runtime/environment.ts';
import { ExampleLogger } from './runtime/example-logger.ts';
import { GracefulShutdown, importWithoutSignalHooks } from './runtime/graceful-shutdown.ts';
import { describeStartupError, redactPassword } from './runtime/startup-error.ts';

/** How long Ctrl-C may take before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 15_000;
/** How long running tasks get to finish at shutdown before the worker hands them back. */
const WORKER_SHUTDOWN_MS = 5_000;

const print = (line: string): void => void process.stdout.write(`${line}\n`);
const printError = (line: string): void => void process.stderr.write(`${line}\n`);
const shutdown = new GracefulShutdown(print, SHUTDOWN_DEADLINE_MS).listen();

process.exit(await main());

async function main(): Promise<number> {
  let port: number;
  let dataFolder: string;
  try {
    port = readPort(process.env.PORT);
    dataFolder = readDataFolder(process.env.EXAMPLE_PGDATA);
  } catch (error) {
    printError((error as Error).message);
    return 1;
  }
  const { startLocalPostgres } = await importWithoutSignalHooks(() => import('../../../tools/local-postgres.ts'));

  let code = 0;
  let databaseUrl = '';
  try {
    let database: Awaited<ReturnType<typeof startLocalPostgres>>;
    try {
      database = await startLocalPostgres({ name: dataFolder, persistent: true });
    } catch (error) {
      printError((error as Error).message);
      return 1;
    }
    databaseUrl = database.url;
    shutdown.add('embedded PostgreSQL', () => database.stop());
    if (shutdown.requested) return 0;

    const app = await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot({
        databaseUrl,
        worker: { shutdownTimeoutMs: WORKER_SHUTDOWN_MS },
        dashboardToken: readDashboardToken(process.env.PGFLOW_DASHBOARD_TOKEN),
      }),
      // A browser keeps sockets open to a page's server (a dashboard tab; Chromium preconnects one
      // before a form's redirect), and Node's server.close() waits for them: close them at shutdown.
      { logger: new ExampleLogger(), abortOnError: false, forceCloseConnections: true },
    );
    shutdown.add('application', () => app.close());
    await app.listen(port);
    if (shutdown.requested) return 0;

    const api = `http://localhost:${(app.getHttpServer().address() as AddressInfo).port}`;
    const where =
      database.dataDir === undefined
        ? `PostgreSQL from DATABASE_URL (${redactPassword(databaseUrl)})`
        : `embedded PostgreSQL on ${new URL(databaseUrl).host} (data in ${relative(process.cwd(), database.dataDir) || database.dataDir})`;
    print(`nestjs-pgflow example: API at ${api}, ${where}. Ctrl-C to stop.`);

    print('\nDemo: analyze_website on https://example.com/docs');
    await runDemo(app, print, shutdown.signal);
    if (!shutdown.requested) {
      print(`\nServing the API at ${api} until Ctrl-C. Try:`);
      print(`  curl ${api}/flows`);
      print(
        `  curl -X POST ${api}/runs -H 'Content-Type: application/json' ` +
          `-d '{"flow":"analyze_website","input":{"url":"https://example.com/blog"}}'`,
      );
      print(`  curl ${api}/runs/<runId>`);
      print(`  curl ${api}/runs/<runId>/result   # waits for the run to end`);
    }
    await shutdown.untilRequested();
  } catch (error) {
    code = 1;
    printError(describeStartupError(error, { databaseUrl, port }));
  } finally {
    if (!(await shutdown.run())) code = 1;
  }
  if (code === 0) print('Stopped.');
  return code;
}
