/**
 * Every code block of the README is code the test suite compiles or runs, so the README cannot rot:
 * a TypeScript block is a file of test/readme/fixtures (compiled by `npm run check`; the quick
 * start is booted by quick-start.test.ts, and built as a new application by
 * test/package/new-app.test.ts with the quick start's JSON blocks), a JSON block parses, a SQL block
 * runs against a migrated database, and a shell block only uses npm scripts that exist and packages
 * the library declares.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../tools/local-postgres.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { readmeBlocks } from './readme-blocks.ts';

const root = projectRoot();
const fixtures = join(root, 'test', 'readme', 'fixtures');
const fixtureTexts = readdirSync(fixtures).map((name) => ({ name, text: readFileSync(join(fixtures, name), 'utf8') }));
const blocks = readmeBlocks();
const db = useTestDatabase();

describe('README code blocks', () => {
  it('has TypeScript, SQL and shell blocks to check', () => {
    const languages = new Set(blocks.map((block) => block.language));
    expect([...languages]).toEqual(expect.arrayContaining(['ts', 'sql', 'bash', 'json']));
  });

  it.each(blocks.filter((block) => block.language === 'json').map((block) => [block.line, block]))(
    'the JSON block at line %i parses',
    (_line, block) => {
      expect(() => JSON.parse(block.code)).not.toThrow();
    },
  );

  it.each(blocks.filter((block) => block.language === 'ts').map((block) => [block.line, block]))(
    'the TypeScript block at line %i is a fixture file, word for word',
    (_line, block) => {
      const match = fixtureTexts.find((fixture) => fixture.text === block.code);
      expect(match?.name ?? `no file of test/readme/fixtures holds the block:\n${block.code}`).toMatch(/\.ts$/);
    },
  );

  it.each(blocks.filter((block) => block.language === 'sql').map((block) => [block.line, block]))(
    'the SQL block at line %i runs on a migrated database',
    async (_line, block) => {
      const client = await db.connect();
      try {
        await client.query('begin');
        await expect(client.query(block.code)).resolves.toBeDefined();
      } finally {
        await client.query('rollback');
        await client.end();
      }
    },
  );

  it.each(blocks.filter((block) => block.language === 'bash').map((block) => [block.line, block]))(
    'the shell block at line %i uses only existing npm scripts, declared packages and the library command',
    (_line, block) => {
      const workspace = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
      const library = JSON.parse(readFileSync(join(root, 'libs', 'pgflow', 'package.json'), 'utf8'));
      const known = new Set([library.name, ...Object.keys(library.peerDependencies ?? {})]);
      for (const line of block.code.split('\n')) {
        const command = line.replace(/#.*$/, '').trim();
        for (const part of command
          .split('&&')
          .map((p) => p.trim())
          .filter(Boolean)) {
          const words = part.split(/\s+/);
          // The library's own command (its package.json `bin`).
          if (words[0] === 'npx') {
            expect(Object.keys(library.bin ?? {})).toContain(words[1]);
            continue;
          }
          expect(words[0]).toBe('npm');
          if (words[1] === 'run') expect(Object.keys(workspace.scripts)).toContain(words[2]);
          else if (words[1] === 'install') {
            // Development tools (`--save-dev`) are ones this repository uses itself.
            const dev = words.includes('--save-dev') || words.includes('-D');
            const allowed = dev ? new Set(Object.keys(workspace.devDependencies)) : known;
            for (const pkg of words.slice(2).filter((word) => !word.startsWith('-'))) expect(allowed).toContain(pkg);
          } else expect(['start', 'test', 'install']).toContain(words[1]);
        }
      }
    },
  );
});
