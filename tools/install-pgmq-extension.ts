/**
 * `npm run pgmq:install`: installs the real pgmq extension (1.5.1, from PGFLOW_PGMQ_VENDOR_DIR or
 * the shared vendor folder) into the server the tests would use: the one in DATABASE_URL (which
 * must run on this machine; its extension folder is read from the server), else the embedded
 * PostgreSQL of `npm test`. Then `PGFLOW_PGMQ=extension npm test` runs the suite on it. Copying
 * the same files again changes nothing.
 */
import pg from 'pg';
import {
  embeddedExtensionDir,
  type InstallResult,
  installPgmqFiles,
  offeredPgmqVersion,
  PGMQ_VENDOR_VERSION,
  pgmqVendorDir,
  serverExtensionDir,
} from './pgmq-extension.ts';

async function main(argv: string[]): Promise<void> {
  if (argv.length > 0) {
    throw new Error(
      `Unknown argument ${argv.map((a) => `'${a}'`).join(', ')}. Usage: npm run pgmq:install ` +
        '(DATABASE_URL names the server; unset: the embedded PostgreSQL).',
    );
  }
  const vendorDir = pgmqVendorDir();
  const url = process.env.DATABASE_URL?.trim();
  if (!url) {
    report('the embedded PostgreSQL', installPgmqFiles(vendorDir, await embeddedExtensionDir()));
    return;
  }
  const client = new pg.Client({ connectionString: url, application_name: 'pgflow pgmq install' });
  await client.connect();
  try {
    const result = installPgmqFiles(vendorDir, await serverExtensionDir(client));
    const offered = await offeredPgmqVersion(client);
    if (offered !== PGMQ_VENDOR_VERSION) {
      throw new Error(
        `Copied pgmq ${PGMQ_VENDOR_VERSION} into ${result.extensionDir}, but the server offers ` +
          `${offered === null ? 'no pgmq' : `pgmq ${offered}`}: is DATABASE_URL a server on this machine?`,
      );
    }
    report(`the server at ${redacted(url)}`, result);
  } finally {
    await client.end();
  }
}

function report(server: string, result: InstallResult): void {
  const what = result.copied.length > 0 ? `copied ${result.copied.join(', ')}` : 'already installed';
  console.log(`pgmq ${PGMQ_VENDOR_VERSION} for ${server}: ${what} (${result.extensionDir}).`);
}

function redacted(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
