/**
 * The library as `npm pack` packs it, from a copy of the files it is built from (the root README,
 * LICENSE, package.json (its "type": "module" makes the migrations ES modules) and
 * tsconfig.base.json, migrations/ and libs/pgflow/) in a temporary folder whose
 * node_modules is the workspace's. Packing runs the package's prepack script, which rewrites its
 * dist: in the copy, that cannot disturb another test reading libs/pgflow/dist at the same time.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../../tools/local-postgres.ts';

const run = promisify(execFile);

/** One file of `npm pack --json`'s answer. */
export interface PackedFile {
  readonly path: string;
  readonly size: number;
}

/** What `npm pack --json` says about the tarball it made (or would make, with --dry-run). */
export interface PackResult {
  readonly filename: string;
  readonly files: readonly PackedFile[];
}

export interface StagedPackage {
  /** The copy of libs/pgflow. */
  readonly packageDir: string;
  /** The temporary folder holding the copy; removed by remove(). */
  readonly root: string;
  /** `npm pack --json` in the copy (prepack included); `dryRun` writes no tarball. */
  pack(options?: { dryRun?: boolean }): Promise<PackResult & { readonly tarball: string }>;
  remove(): Promise<void>;
}

/** Copies what the package is built from into a new temporary folder. */
export async function stagePackage(): Promise<StagedPackage> {
  const source = projectRoot();
  const root = await mkdtemp(join(tmpdir(), 'nestjs-pgflow-pack-'));
  for (const file of ['README.md', 'LICENSE', 'package.json', 'tsconfig.base.json'])
    await cp(join(source, file), join(root, file));
  await cp(join(source, 'migrations'), join(root, 'migrations'), { recursive: true });
  const library = join(source, 'libs', 'pgflow');
  // What a clean clone has: no build output, no copied README.
  const generated = ['dist', 'node_modules', 'README.md'].map((name) => join(library, name));
  await cp(library, join(root, 'libs', 'pgflow'), {
    recursive: true,
    filter: (path) => !generated.some((skip) => path === skip || path.startsWith(`${skip}${sep}`)),
  });
  // The compiler and the types the library compiles against.
  await symlink(join(source, 'node_modules'), join(root, 'node_modules'), 'dir');
  const packageDir = join(root, 'libs', 'pgflow');
  return {
    root,
    packageDir,
    pack: async ({ dryRun = false } = {}) => {
      const args = ['pack', '--json', '--pack-destination', root, ...(dryRun ? ['--dry-run'] : [])];
      const { stdout } = await npm(args, packageDir);
      const [result] = JSON.parse(stdout) as PackResult[];
      if (result === undefined) throw new Error(`npm pack printed no result:\n${stdout}`);
      return { ...result, tarball: join(root, result.filename) };
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

/** Runs npm (the one running the tests when started by `npm test`) in `cwd`, with `env` over process.env. */
export async function npm(
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ stdout: string; stderr: string }> {
  const cli = process.env.npm_execpath;
  const [command, commandArgs] = cli?.endsWith('.js') ? [process.execPath, [cli, ...args]] : ['npm', [...args]];
  try {
    return await run(command, commandArgs, { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm ${args.join(' ')} failed in ${relative(process.cwd(), cwd) || cwd}:\n${stdout}${stderr}`, {
      cause: error,
    });
  }
}
