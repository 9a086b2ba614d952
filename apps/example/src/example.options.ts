/**
 * The options of the example application (see AppModule.forRoot), their token, and where the pages
 * it serves offline live.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PgflowRetentionOptions, PgflowWorkerOptions } from 'nestjs-pgflow';

export interface ExampleOptions {
  /** The PostgreSQL database to use (the library's tables and the app's runs live there). */
  readonly databaseUrl: string;
  /** Apply the library's migrations at boot [true]. */
  readonly migrationsRun?: boolean;
  /** Worker options of PgflowModule [the library's defaults]. */
  readonly worker?: PgflowWorkerOptions;
  /** The folder of the HTML pages PageFetcher serves [apps/example/pages]. */
  readonly pagesDir?: string;
  /** How long ended runs are kept [completed runs 30 days, failed and cancelled runs 90 days]. */
  readonly retention?: PgflowRetentionOptions;
  /** The password of the pgflow dashboard at /pgflow [none: the dashboard refuses everyone]. */
  readonly dashboardToken?: string;
}

/** The example keeps a month of completed runs, and failed or cancelled ones a quarter to look into. */
export const EXAMPLE_RETENTION: PgflowRetentionOptions = Object.freeze({ completedRuns: 30, failedRuns: 90 });

/** The injection token of the resolved {@link ExampleOptions}. */
export const EXAMPLE_OPTIONS = Symbol('EXAMPLE_OPTIONS');

/** ExampleOptions with every default applied. */
export type ResolvedExampleOptions = Required<
  Pick<ExampleOptions, 'databaseUrl' | 'migrationsRun' | 'pagesDir' | 'retention'>
> &
  Pick<ExampleOptions, 'worker' | 'dashboardToken'>;

export function resolveExampleOptions(options: ExampleOptions): ResolvedExampleOptions {
  return {
    databaseUrl: options.databaseUrl,
    migrationsRun: options.migrationsRun ?? true,
    worker: options.worker,
    pagesDir: options.pagesDir ?? defaultPagesDir(),
    retention: options.retention ?? EXAMPLE_RETENTION,
    dashboardToken: options.dashboardToken,
  };
}

/**
 * `apps/example/pages`, found by walking up from this file: it runs from the sources under Jest and
 * from `.build/apps/example/src` after `npm run build:run`, and the pages are not copied there.
 */
export function defaultPagesDir(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'apps', 'example', 'pages');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) {
      throw new Error(
        `The example's pages folder (apps/example/pages) was not found above ${start}. ` +
          'Pass AppModule.forRoot({ pagesDir }) to say where it is.',
      );
    }
  }
}
