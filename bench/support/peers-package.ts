/**
 * The peer comparison (`npm run bench -- peers`) is a package of its own, bench/peers, with its own
 * package.json and lockfile: graphile-worker, pg-boss, DBOS Transact and @pgflow/core are installed
 * only by `npm run bench:peers:install` (npm ci in bench/peers), never by the repository's own
 * `npm install`. The `bench` script compiles it when it is installed (bench/peers/tsconfig.json, into
 * bench/peers/.build: its files must sit under bench/peers for Node to find its node_modules). It
 * uses the library, the migrations and bench/support from the repository.
 *
 * This is the repository's side of it: whether the package is installed and built, and its suite,
 * which loads the compiled code only when it runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../../tools/local-postgres.ts';
import type { BenchContext, BenchSuite } from './suite.ts';

export const PEERS_INSTALL_COMMAND = 'npm run bench:peers:install';

const FOLDER = join(projectRoot(), 'bench', 'peers');
const COMPILED_SUITE = join(FOLDER, '.build', 'bench', 'peers', 'peers.suite.js');

/** What the compiled peers.suite.ts exports. */
interface PeersModule {
  runPeers(context: BenchContext): Promise<string>;
}

/** The version of a package installed in bench/peers/node_modules, or undefined. */
export function peerVersion(name: string): string | undefined {
  const manifest = join(FOLDER, 'node_modules', name, 'package.json');
  if (!existsSync(manifest)) return undefined;
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/** Why the peers suite cannot run on this checkout, naming the fix; undefined when it can. */
export function peersUnavailable(): string | undefined {
  const { dependencies } = JSON.parse(readFileSync(join(FOLDER, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const missing = Object.entries(dependencies).filter(([name, version]) => peerVersion(name) !== version);
  if (missing.length > 0) {
    return (
      `The peers suite needs packages that the repository's npm install does not install: ` +
      `${missing.map(([name, version]) => `${name} ${version} (${peerVersion(name) ?? 'not installed'})`).join(', ')}. ` +
      `Run \`${PEERS_INSTALL_COMMAND}\` once (npm ci in bench/peers), then \`npm run bench -- peers\`.`
    );
  }
  if (!existsSync(COMPILED_SUITE)) {
    return `The peers suite is installed but not compiled (${COMPILED_SUITE} is missing): run it through \`npm run bench -- peers\`, which compiles it.`;
  }
  return undefined;
}

export const peersSuite: BenchSuite = {
  name: 'peers',
  summary: `the library next to graphile-worker, pg-boss, DBOS and pgflow’s engine: drain, chains, latency (needs \`${PEERS_INSTALL_COMMAND}\`)`,
  unavailable: peersUnavailable,
  async run(context) {
    const suite = (await import(pathToFileURL(COMPILED_SUITE).href)) as PeersModule;
    return suite.runPeers(context);
  },
};
