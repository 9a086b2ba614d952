/**
 * Finding pgmq 1.5.1's SQL (PGFLOW_PGMQ_VENDOR_DIR, the machine's shared folder, or next to the
 * clone) and copying it into an extension folder, as `npm run pgmq:install`, .ci/run and the test
 * harness do.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  embeddedExtensionDir,
  installPgmqFiles,
  PGMQ_EXTENSION_FILES,
  PGMQ_VENDOR_DIR_ENV,
  pgmqVendorDir,
} from '../../tools/pgmq-extension.ts';
import { withPgmqMode } from '../queue/support/migrate-queue-layer.ts';
import { createEmptyDatabaseOffering, pgmqServer } from '../queue/support/pgmq-server.ts';
import { preparePgmqForTests } from '../support/pgmq-for-tests.ts';

const server = await pgmqServer();

let scratch: string;

beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'pgflow-pgmq-test-'));
});

afterEach(() => rmSync(scratch, { recursive: true, force: true }));

/** A vendor folder with the two files (small stand-ins: only their presence and bytes matter here). */
function vendorFolder(path: string, files: readonly string[] = PGMQ_EXTENSION_FILES): string {
  mkdirSync(path, { recursive: true });
  for (const file of files) writeFileSync(join(path, file), `-- ${file}\n`);
  return path;
}

describe('pgmqVendorDir', () => {
  it(`uses ${PGMQ_VENDOR_DIR_ENV} when it is set (relative to the repository)`, () => {
    const repo = join(scratch, 'repo');
    vendorFolder(join(scratch, 'elsewhere'));
    expect(pgmqVendorDir({ [PGMQ_VENDOR_DIR_ENV]: '../elsewhere' }, repo, join(scratch, 'none'))).toBe(
      join(scratch, 'elsewhere'),
    );
  });

  it(`fails naming ${PGMQ_VENDOR_DIR_ENV} and the missing file when the folder it names lacks one`, () => {
    const dir = vendorFolder(join(scratch, 'half'), ['pgmq.control']);
    expect(() => pgmqVendorDir({ [PGMQ_VENDOR_DIR_ENV]: dir }, scratch)).toThrow(
      `${PGMQ_VENDOR_DIR_ENV}="${dir}" does not hold pgmq 1.5.1's SQL: pgmq--1.5.1.sql missing in ${dir}.`,
    );
  });

  it("takes the machine's shared folder first, then ../shared/vendor/pgmq-1.5.1 next to the repository", () => {
    const repo = join(scratch, 'clone');
    const besideRepo = vendorFolder(join(scratch, 'shared', 'vendor', 'pgmq-1.5.1'));
    const machine = vendorFolder(join(scratch, 'machine'));
    expect(pgmqVendorDir({}, repo, machine)).toBe(machine);
    expect(pgmqVendorDir({}, repo, join(scratch, 'none'))).toBe(besideRepo);
  });

  it(`fails naming ${PGMQ_VENDOR_DIR_ENV} and where it looked when no folder holds the files`, () => {
    const repo = join(scratch, 'clone');
    expect(() => pgmqVendorDir({}, repo, join(scratch, 'none'))).toThrow(
      new RegExp(
        `was not found in .*none nor in .*shared/vendor/pgmq-1\\.5\\.1\\. Set ${PGMQ_VENDOR_DIR_ENV} to the folder`,
      ),
    );
  });
});

describe('installPgmqFiles', () => {
  it('copies both files into the extension folder, and a second time changes nothing', () => {
    const vendor = vendorFolder(join(scratch, 'vendor'));
    const extension = join(scratch, 'share', 'extension');
    mkdirSync(extension, { recursive: true });

    expect(installPgmqFiles(vendor, extension)).toEqual({
      extensionDir: extension,
      copied: [...PGMQ_EXTENSION_FILES],
      unchanged: [],
    });
    for (const file of PGMQ_EXTENSION_FILES) {
      expect(readFileSync(join(extension, file), 'utf8')).toBe(`-- ${file}\n`);
    }
    expect(installPgmqFiles(vendor, extension)).toMatchObject({ copied: [], unchanged: [...PGMQ_EXTENSION_FILES] });
  });

  it('fails naming the folder and what to do when the extension folder is not on this machine', () => {
    const vendor = vendorFolder(join(scratch, 'vendor'));
    const missing = join(scratch, 'remote', 'extension');
    expect(() => installPgmqFiles(vendor, missing)).toThrow(
      `The extension folder ${missing} does not exist on this machine`,
    );
    expect(existsSync(missing)).toBe(false);
  });
});

describe('embeddedExtensionDir', () => {
  it("is the extension folder of the embedded PostgreSQL's binaries (it holds plpgsql's control file)", async () => {
    expect(existsSync(join(await embeddedExtensionDir(), 'plpgsql.control'))).toBe(true);
  });
});

describe('the test harness with PGFLOW_PGMQ=extension', () => {
  it('does nothing for other modes, whatever the server offers', async () => {
    const database = await createEmptyDatabaseOffering(server.offerStates[0] ?? false);
    const target = { url: database.url, source: 'DATABASE_URL' } as const;
    const embedded = join(scratch, 'embedded-extension');
    mkdirSync(embedded);
    await expect(withPgmqMode('fallback', () => preparePgmqForTests(target, embedded))).resolves.toBeUndefined();
    expect(readdirSync(embedded)).toEqual([]);
  });

  if (server.offerStates.includes(false)) {
    it('installs pgmq into the embedded binaries, but never changes a DATABASE_URL server that lacks it: it names the command', async () => {
      const database = await createEmptyDatabaseOffering(false);
      const target = { url: database.url, source: 'DATABASE_URL' } as const;
      // The embedded binaries' folder stands in a scratch folder here: this run's server stays as it is.
      const embedded = join(scratch, 'embedded-extension');
      mkdirSync(embedded);
      await expect(withPgmqMode('extension', () => preparePgmqForTests(target, embedded))).rejects.toThrow(
        'PGFLOW_PGMQ=extension, but the PostgreSQL server in DATABASE_URL does not offer the pgmq extension. ' +
          'Install it with `npm run pgmq:install`',
      );
      expect(readdirSync(embedded).sort()).toEqual([...PGMQ_EXTENSION_FILES].sort());
    });
  }
});
