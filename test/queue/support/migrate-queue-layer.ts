/** Runs the queue layer migration on a database through TypeORM, as an application would. */
import { DataSource, type Logger } from 'typeorm';
import { QueueLayer1764150000000 } from '../../../migrations/1764150000000-queue-layer.ts';
import { PGMQ_MODE_ENV } from '../../../migrations/queue-layer/detect.ts';

/** Runs `action` with PGFLOW_PGMQ set to `mode` (unset for undefined), then restores it. */
export async function withPgmqMode<T>(mode: string | undefined, action: () => Promise<T>): Promise<T> {
  const saved = process.env[PGMQ_MODE_ENV];
  if (mode === undefined) delete process.env[PGMQ_MODE_ENV];
  else process.env[PGMQ_MODE_ENV] = mode;
  try {
    return await action();
  } finally {
    if (saved === undefined) delete process.env[PGMQ_MODE_ENV];
    else process.env[PGMQ_MODE_ENV] = saved;
  }
}

/** The tests assert on the errors; TypeORM would also print every failed migration. */
export const silentLogger: Logger = {
  logQuery: () => {},
  logQueryError: () => {},
  logQuerySlow: () => {},
  logSchemaBuild: () => {},
  logMigration: () => {},
  log: () => {},
};

export async function migrateQueueLayer(url: string, direction: 'up' | 'down', mode?: string): Promise<void> {
  await withPgmqMode(mode, async () => {
    const dataSource = new DataSource({
      type: 'postgres',
      url,
      migrations: [QueueLayer1764150000000],
      migrationsTransactionMode: 'each',
      logger: silentLogger,
    });
    await dataSource.initialize();
    try {
      if (direction === 'up') await dataSource.runMigrations({ transaction: 'each' });
      else await dataSource.undoLastMigration({ transaction: 'each' });
    } finally {
      await dataSource.destroy();
    }
  });
}
