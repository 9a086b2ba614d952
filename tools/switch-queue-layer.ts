/**
 * `npm run queue-layer:switch -- <extension|fallback>`: moves the database in DATABASE_URL to the
 * other queue layer with its queues and messages (migrations/queue-layer/switch.ts, exported by the
 * library as switchQueueLayer). Stop the workers first; re-run GRANTs to other roles afterwards.
 */
import { DataSource } from 'typeorm';
import type { PgmqImplementation } from '../migrations/queue-layer/detect.ts';
import { switchQueueLayer } from '../migrations/queue-layer/switch.ts';

const USAGE = 'Usage: npm run queue-layer:switch -- <extension|fallback>   (DATABASE_URL names the database)';

async function main(argv: string[]): Promise<void> {
  const [target, ...rest] = argv;
  if ((target !== 'extension' && target !== 'fallback') || rest.length > 0) {
    throw new UsageError(`Expected one argument, extension or fallback; got ${JSON.stringify(argv)}. ${USAGE}`);
  }
  const url = process.env.DATABASE_URL?.trim();
  if (!url) throw new UsageError(`DATABASE_URL is not set. Set it to the database to switch. ${USAGE}`);
  const dataSource = new DataSource({ type: 'postgres', url, logging: ['error'] });
  await dataSource.initialize();
  try {
    const result = await switchQueueLayer(dataSource, target satisfies PgmqImplementation);
    console.log(
      result.switched
        ? `Switched the queue layer from the ${result.from} to the ${result.to}: ${result.queues} queue(s), ` +
            `${result.messages} message(s), ${result.archived} archived message(s) moved.`
        : `The database already has the ${result.to}: nothing to do.`,
    );
  } finally {
    await dataSource.destroy();
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
