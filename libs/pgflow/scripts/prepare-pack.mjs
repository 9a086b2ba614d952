/**
 * `npm pack` / `npm publish` of nestjs-pgflow run this first (the package's `prepack` script), so that
 * a fresh clone packs the compiled library, not an empty or stale dist: it removes dist, compiles
 * the library and its migrations (no source maps: the sources are not shipped), and copies the
 * repository's README (npm shows the package folder's README; the one at the root is the only one
 * kept up to date). A plain .mjs file, because it runs before anything is compiled.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));
const repositoryDir = dirname(dirname(packageDir));

rmSync(join(packageDir, 'dist'), { recursive: true, force: true });
// TypeScript exports no path to its compiler: find it through its package.json's `bin`.
const typescriptJson = createRequire(import.meta.url).resolve('typescript/package.json');
const tsc = join(dirname(typescriptJson), JSON.parse(readFileSync(typescriptJson, 'utf8')).bin.tsc);
const build = spawnSync(process.execPath, [tsc, '-p', join(packageDir, 'tsconfig.lib.json')], { stdio: 'inherit' });
if (build.status !== 0) {
  process.stderr.write('prepack: compiling the library failed (see above); nothing was packed.\n');
  process.exit(build.status ?? 1);
}
copyFileSync(join(repositoryDir, 'README.md'), join(packageDir, 'README.md'));
