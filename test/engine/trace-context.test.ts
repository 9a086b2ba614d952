/**
 * A run's trace context: start_flow and start_flows store the W3C traceparent they are given on the
 * run (pgflow.runs.trace_context), keep working without it, and refuse anything else (PF007, naming
 * it, nothing started).
 */
import { useTestDatabase } from '../support/test-database.ts';
import { defineFlow, json, snapshotTables } from './support/engine-driver.ts';
import { expectEngineError } from './support/engine-errors.ts';

const db = useTestDatabase();
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

let flows = 0;
async function flow() {
  const slug = `traced_${++flows}`;
  await defineFlow(db, slug, [{ slug: 'only' }]);
  return slug;
}

it('start_flow stores the trace context on the run; without one (the pgflow call) it is null', async () => {
  const slug = await flow();
  const [traced] = await db.query<{ trace_context: string | null }>(
    'select * from pgflow.start_flow($1, $2::jsonb, trace_context => $3)',
    [slug, json({ n: 1 }), TRACEPARENT],
  );
  const [plain] = await db.query<{ trace_context: string | null }>('select * from pgflow.start_flow($1, $2::jsonb)', [
    slug,
    json({ n: 2 }),
  ]);
  expect([traced?.trace_context, plain?.trace_context]).toEqual([TRACEPARENT, null]);
});

it('start_flows stores one trace context per input, null elements for none', async () => {
  const slug = await flow();
  const runs = await db.query<{ trace_context: string | null }>(
    'select * from pgflow.start_flows($1, $2::jsonb, trace_contexts => $3::text[])',
    [slug, json([1, 2]), [TRACEPARENT, null]],
  );
  expect(runs.map((run) => run.trace_context)).toEqual([TRACEPARENT, null]);
});

it('a trace context that is not a traceparent, or one too few, is PF007 naming it, and starts nothing', async () => {
  const slug = await flow();
  const before = await snapshotTables(db);
  await expectEngineError(
    db.query('select * from pgflow.start_flow($1, $2::jsonb, trace_context => $3)', [slug, json(1), 'not-a-trace']),
    { code: 'PF007', naming: ['not-a-trace'] },
  );
  await expectEngineError(
    db.query('select * from pgflow.start_flows($1, $2::jsonb, trace_contexts => $3::text[])', [
      slug,
      json([1, 2]),
      [TRACEPARENT],
    ]),
    { code: 'PF007', naming: ['2 inputs but 1 trace contexts'] },
  );
  expect(await snapshotTables(db)).toEqual(before);
});
