/**
 * Started as root, the embedded PostgreSQL runs as the OS user postgres. In a folder that user
 * cannot enter (a clone under /root, mode 700) the start used to crash with a bare
 * `spawn .../initdb EACCES`; it now fails first with a message naming the folder and the fixes.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalPostgres } from '../../tools/local-postgres.ts';
import {
  assertPostgresUserCanRun,
  findAccessProblem,
  type OsUser,
  PostgresUserAccessError,
} from '../../tools/postgres-user-access.ts';

const folders: string[] = [];

afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/** A fresh folder under /tmp with `mode`, removed after the test. */
function folderWithMode(mode: number): string {
  const folder = mkdtempSync(join(tmpdir(), 'pgflow-access-'));
  folders.push(folder);
  chmodSync(folder, mode);
  return folder;
}

/** A user that owns nothing here and is in none of its groups: only the "others" bits apply to it. */
const STRANGER: OsUser = { name: 'stranger', uid: 54_321, gids: [54_321] };

describe('findAccessProblem', () => {
  it('finds the folder another user may not enter, on the way to a file', () => {
    const root = folderWithMode(0o700);
    mkdirSync(join(root, 'bin'));
    const binary = join(root, 'bin', 'initdb');
    writeFileSync(binary, '#!/bin/sh\n', { mode: 0o755 });

    expect(findAccessProblem(binary, 'read-execute', STRANGER)).toEqual({
      path: root,
      mode: '700',
      owner: process.getuid?.(),
      needed: 'enter',
    });
    chmodSync(root, 0o755);
    expect(findAccessProblem(binary, 'read-execute', STRANGER)).toBeUndefined();
  });

  it('needs read and execute on the file itself, and applies the owner and group bits to their users', () => {
    const root = folderWithMode(0o755);
    const binary = join(root, 'postgres');
    writeFileSync(binary, '#!/bin/sh\n', { mode: 0o750 });

    expect(findAccessProblem(binary, 'read-execute', STRANGER)).toMatchObject({ path: binary, mode: '750' });
    const groupMember: OsUser = { ...STRANGER, gids: [process.getgid?.() ?? 0] };
    expect(findAccessProblem(binary, 'read-execute', groupMember)).toBeUndefined();
  });

  it('skips the folders not created yet', () => {
    const root = folderWithMode(0o755);
    expect(findAccessProblem(join(root, 'later', 'data'), 'enter', STRANGER)).toBeUndefined();
  });
});

describe('assertPostgresUserCanRun', () => {
  it('names the user, the path, the folder in the way and the fixes', () => {
    const root = folderWithMode(0o700);
    const dataDir = join(root, '.pgdata', 'test');
    let error: unknown;
    try {
      assertPostgresUserCanRun({ binaries: [], dataDir, user: { ...STRANGER, name: 'postgres' } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PostgresUserAccessError);
    expect((error as Error).message).toBe(
      `The embedded PostgreSQL runs as the OS user 'postgres' (PostgreSQL refuses to run as root), and that user ` +
        `cannot read or execute ${join(root, '.pgdata')}: it may not enter the folder ${root} (mode 700, owner uid ` +
        `${process.getuid?.()}). Make every folder on the way readable and searchable for other users, e.g. ` +
        `\`chmod o+rx ${root}\` (and the same for each parent folder that needs it), or move the project to such a ` +
        'folder, or set DATABASE_URL to use a PostgreSQL server of your own.',
    );
  });
});

// Only root starts the server as another user; for anyone else the folder is their own.
const asRoot = process.getuid?.() === 0 ? it : it.skip;

describe('startLocalPostgres as root', () => {
  asRoot('refuses a data folder the postgres user cannot reach, before running initdb', async () => {
    const root = folderWithMode(0o700);
    const dataRoot = join(root, '.pgdata');

    const error = await startLocalPostgres({ name: 'unreachable', env: {}, dataRoot }).catch((caught) => caught);
    expect(error).toBeInstanceOf(PostgresUserAccessError);
    expect((error as Error).message).toContain(`it may not enter the folder ${root} (mode 700`);
    expect((error as Error).message).toContain('set DATABASE_URL');
  });
});
