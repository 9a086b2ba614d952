/**
 * What `npm pack` puts in the nestjs-pgflow tarball, from a clean copy of the sources (no dist: the
 * prepack script builds it): the README and LICENSE, the compiled library and migrations with their
 * declarations, and nothing else: no source maps (the TypeScript sources are not shipped), no tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../tools/local-postgres.ts';
import { type PackResult, type StagedPackage, stagePackage } from './support/staged-package.ts';

const root = projectRoot();
const readJson = (path: string) => JSON.parse(readFileSync(join(root, path), 'utf8'));
const library = readJson('libs/pgflow/package.json');

let staged: StagedPackage;
let packed: PackResult;
let paths: string[];

beforeAll(async () => {
  staged = await stagePackage();
  packed = await staged.pack({ dryRun: true });
  paths = packed.files.map((file) => file.path);
}, 240_000);

afterAll(() => staged?.remove());

describe('npm pack of nestjs-pgflow', () => {
  it('holds the README, the LICENSE and package.json', () => {
    expect(paths).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'package.json']));
    expect(readFileSync(join(staged.packageDir, 'README.md'), 'utf8')).toBe(
      readFileSync(join(root, 'README.md'), 'utf8'),
    );
  });

  it('builds the library on prepack: its entry point, declarations and every module of src', () => {
    const entry = library.exports['.'];
    for (const target of [library.main, library.types, entry.types, entry.default]) {
      expect(paths).toContain(target.replace(/^\.\//, ''));
    }
    const compiled = paths.filter((path) => path.startsWith('dist/libs/pgflow/src/') && path.endsWith('.js'));
    for (const js of compiled) expect(paths).toContain(js.replace(/\.js$/, '.d.ts'));
    expect(compiled.length).toBeGreaterThan(40);
  });

  it('holds the compiled migrations that pgflowMigrations lists', () => {
    expect(paths).toEqual(
      expect.arrayContaining([
        'dist/migrations/index.js',
        'dist/migrations/index.d.ts',
        'dist/migrations/1764150000000-queue-layer.js',
        'dist/migrations/1764150100000-engine.js',
      ]),
    );
  });

  it('has no source map, no test, no TypeScript source, and nothing outside dist but the three files', () => {
    expect(paths.filter((path) => path.endsWith('.map'))).toEqual([]);
    expect(paths.filter((path) => /\.(test|spec)\.|(^|\/)test\//.test(path))).toEqual([]);
    expect(paths.filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'))).toEqual([]);
    expect(paths.filter((path) => !path.startsWith('dist/')).sort()).toEqual(['LICENSE', 'README.md', 'package.json']);
  });
});

describe('the package metadata', () => {
  it('has an MIT LICENSE file at the root and in the package, the same text', () => {
    const license = readFileSync(join(root, 'LICENSE'), 'utf8');
    expect(library.license).toBe('MIT');
    expect(license).toMatch(/^MIT License\n/);
    expect(readFileSync(join(root, 'libs', 'pgflow', 'LICENSE'), 'utf8')).toBe(license);
  });

  it('requires the Node.js versions TypeORM 1.x requires (the strictest of its runtime dependencies), in both package.json files', () => {
    const typeorm = readJson('node_modules/typeorm/package.json');
    expect(library.engines.node).toBe(typeorm.engines.node);
    expect(readJson('package.json').engines.node).toBe(library.engines.node);
  });
});
