/**
 * The queue layer a test run asks for (PGFLOW_PGMQ, read by every migration the tests run) must be
 * possible on its servers. With PGFLOW_PGMQ=extension, the embedded PostgreSQL's binaries (this
 * checkout's own, used by the embedded test server and by the tests that start servers of their own:
 * restarts, `npm start`) get the real pgmq installed when they lack it; a DATABASE_URL server is never
 * changed by the tests: a clear error names the command that installs it.
 */
import pg from 'pg';
import { PGMQ_MODE_ENV, pgmqMode } from '../../migrations/queue-layer/detect.ts';
import type { LocalPostgres } from '../../tools/local-postgres.ts';
import {
  embeddedExtensionDir,
  installPgmqFiles,
  offeredPgmqVersion,
  pgmqVendorDir,
} from '../../tools/pgmq-extension.ts';

/** `embeddedDir`: the embedded binaries' extension folder (a test of this function gives another). */
export async function preparePgmqForTests(
  server: Pick<LocalPostgres, 'url' | 'source'>,
  embeddedDir?: string,
): Promise<void> {
  if (pgmqMode() !== 'extension') return;
  installPgmqFiles(pgmqVendorDir(), embeddedDir ?? (await embeddedExtensionDir()));
  const client = new pg.Client({ connectionString: server.url, application_name: 'pgflow test harness' });
  await client.connect();
  try {
    if ((await offeredPgmqVersion(client)) !== null) return;
    if (server.source === 'embedded') {
      throw new Error('The pgmq extension was copied into the embedded PostgreSQL, which still does not offer it.');
    }
    throw new Error(
      `${PGMQ_MODE_ENV}=extension, but the PostgreSQL server in DATABASE_URL does not offer the pgmq extension. ` +
        "Install it with `npm run pgmq:install` (same DATABASE_URL; it copies pgmq 1.5.1 into the server's " +
        `extension folder), or run the tests with ${PGMQ_MODE_ENV}=auto or fallback.`,
    );
  } finally {
    await client.end();
  }
}
