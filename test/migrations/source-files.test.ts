/** The layout of the current definitions: one function name per file, named after it. */
import pg from 'pg';
import { IMPLEMENTATION_QUERY } from '../../migrations/queue-layer/detect.ts';
import { readSqlSource, type SourceSchema } from '../../tools/migrations/sql-source.ts';
import { useTestDatabase } from '../support/test-database.ts';

const database = useTestDatabase();
const DEFINES = /create\s+(?:or\s+replace\s+)?function\s+(pgmq|pgflow)\.(\w+)\s*\(/gi;

describe('migrations/sql', () => {
  it('defines each function of the migrated database in exactly one file, named after the function', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    let functions: Array<{ schema: SourceSchema; name: string }>;
    let schemas: SourceSchema[];
    try {
      const [row] = (await client.query(IMPLEMENTATION_QUERY)).rows;
      const queueLayer = String(row?.pgmq_implementation).split(' ')[0];
      schemas = queueLayer === 'fallback' ? ['pgmq', 'pgflow'] : ['pgflow'];
      functions = (
        await client.query(
          `select distinct n.nspname as schema, p.proname as name
             from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where n.nspname = any($1::text[]) order by 1, 2`,
          [schemas],
        )
      ).rows;
    } finally {
      await client.end();
    }
    const sources = schemas.flatMap((schema) => readSqlSource(schema));
    const definedIn = (schema: string, name: string) =>
      sources
        .filter((file) => [...file.text.matchAll(DEFINES)].some((m) => m[1] === schema && m[2] === name))
        .map((file) => file.path);

    expect(functions.length).toBeGreaterThan(schemas.length * 10);
    for (const { schema, name } of functions) {
      expect({ function: `${schema}.${name}`, files: definedIn(schema, name) }).toEqual({
        function: `${schema}.${name}`,
        files: [
          `migrations/sql/${schema}/${sources.find((f) => f.schema === schema && f.kind === 'function' && f.name === name)?.file ?? `NNNN_function_${name}.sql`}`,
        ],
      });
    }
    // And no file defines a function of another name than its own.
    for (const file of sources.filter((f) => f.kind === 'function')) {
      const names = [...new Set([...file.text.matchAll(DEFINES)].map((m) => m[2]))];
      expect({ file: file.path, defines: names }).toEqual({ file: file.path, defines: [file.name] });
    }
  });
});
