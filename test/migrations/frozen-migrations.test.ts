/** Released migrations never change: their SQL is checked against migrations/frozen.json. */
import { Engine1764150100000 } from '../../migrations/1764150100000-engine.ts';
import type { MigrationSql } from '../../migrations/support/apply-migration.ts';
import {
  currentChecksums,
  frozenProblems,
  type MigrationClass,
  readFrozen,
} from '../../tools/migrations/frozen-migrations.ts';

describe('released migrations', () => {
  it('every migration is frozen and its SQL matches its checksum', () => {
    expect(frozenProblems(currentChecksums(), readFrozen())).toEqual([]);
  });

  it('one character changed in a released migration fails, saying to write a new migration', () => {
    const released = Engine1764150100000.sql;
    const [first, ...rest] = released.up.engine ?? [];
    const edited: MigrationSql = { ...released, up: { engine: [`${first} `, ...rest] } };
    const tampered = class extends Engine1764150100000 {
      static override readonly sql = edited;
      override readonly name = 'Engine1764150100000';
    } as MigrationClass;
    const migrations = currentChecksums().map((entry) =>
      entry.name === 'Engine1764150100000' ? currentChecksums([tampered])[0] : entry,
    );
    const problems = frozenProblems(migrations as ReturnType<typeof currentChecksums>, readFrozen());
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^Released migration Engine1764150100000 changed/);
    expect(problems[0]).toMatch(/write a new migration with `npm run migration:generate -- <name>`/);
  });

  it('a migration added without freezing it fails, saying how to freeze it', () => {
    const frozen = readFrozen();
    const problems = frozenProblems(currentChecksums(), frozen.slice(0, -1));
    expect(problems).toEqual([expect.stringMatching(/^Migration \w+ is not frozen: run `npm run migration:freeze`/)]);
  });

  it('a released migration removed or moved fails', () => {
    const current = currentChecksums();
    expect(frozenProblems(current.slice(1), readFrozen())[0]).toMatch(/is gone from pgflowMigrations/);
    expect(frozenProblems([...current].reverse(), readFrozen())).toContainEqual(
      expect.stringMatching(/moved in pgflowMigrations/),
    );
  });
});
