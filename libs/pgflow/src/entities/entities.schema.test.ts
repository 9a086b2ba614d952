/**
 * The entities against the real schema the library's migrations create: every mapped column exists
 * with a matching type, and each entity can be queried with its relations.
 */
import { DataSource } from 'typeorm';
import { useTestDatabase } from '../../../../test/support/test-database.ts';
import { pgflowEntities, RunEntity, StepStateEntity } from './index.ts';

/** The PostgreSQL udt_name each TypeORM column type maps to. */
const UDT_NAMES: Record<string, string> = {
  text: 'text',
  int: 'int4',
  bigint: 'int8',
  uuid: 'uuid',
  jsonb: 'jsonb',
  timestamptz: 'timestamptz',
};

describe('pgflow entities on the migrated schema', () => {
  const database = useTestDatabase();
  let dataSource: DataSource;

  beforeAll(async () => {
    dataSource = new DataSource({ type: 'postgres', url: database.url, entities: [...pgflowEntities] });
    await dataSource.initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
  });

  it('map only columns that exist, with matching types and nullability', async () => {
    const rows = await database.query<{
      table_name: string;
      column_name: string;
      udt_name: string;
      is_nullable: string;
    }>(
      `select table_name, column_name, udt_name, is_nullable from information_schema.columns where table_schema = 'pgflow'`,
    );
    const actual = new Map(rows.map((row) => [`${row.table_name}.${row.column_name}`, row]));
    const mismatches: string[] = [];
    for (const metadata of dataSource.entityMetadatas) {
      for (const column of metadata.columns) {
        const key = `${metadata.tableName}.${column.databaseName}`;
        const row = actual.get(key);
        if (row === undefined) mismatches.push(`${key} does not exist`);
        else if (row.udt_name !== UDT_NAMES[String(column.type)]) {
          mismatches.push(`${key} is ${row.udt_name}, mapped as ${String(column.type)}`);
        } else if ((row.is_nullable === 'YES') !== column.isNullable) {
          mismatches.push(`${key} nullable=${row.is_nullable}, mapped nullable=${column.isNullable}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('can be queried, relations included', async () => {
    for (const entity of pgflowEntities)
      await expect(dataSource.getRepository(entity).find({ take: 1 })).resolves.toEqual([]);
    await expect(
      dataSource.getRepository(RunEntity).find({ relations: { flow: true, stepStates: { tasks: true, step: true } } }),
    ).resolves.toEqual([]);
    await expect(dataSource.getRepository(StepStateEntity).find({ relations: { run: true } })).resolves.toEqual([]);
  });
});
