/**
 * Idempotent starts: start_flow / start_flows with an idempotency key create the run once; every
 * later start of the flow with the key returns that run, also when the starts are concurrent.
 */
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '../support/test-database.ts';
import { defineFlow, json, onClient, queueMessages, snapshotTables } from './support/engine-driver.ts';
import { expectEngineError } from './support/engine-errors.ts';

const db = useTestDatabase();

let flows = 0;
async function flow() {
  const slug = `idem_${++flows}`;
  await defineFlow(db, slug, [{ slug: 'only' }]);
  return slug;
}

function start(slug: string, input: unknown, key: string | null, runId: string | null = null) {
  return db.query<{ run_id: string; input: unknown; idempotency_key: string | null }>(
    'select * from pgflow.start_flow(flow_slug => $1, input => $2::jsonb, run_id => $3::uuid, idempotency_key => $4)',
    [slug, json(input), runId, key],
  );
}

it('a second start with the key returns the first run and starts nothing', async () => {
  const slug = await flow();
  const [first] = await start(slug, { n: 1 }, 'order-1');
  const [second] = await start(slug, { n: 2 }, 'order-1', randomUUID());
  expect(second).toMatchObject({ run_id: first?.run_id, input: { n: 1 }, idempotency_key: 'order-1' });
  expect(await db.query('select count(*)::int as n from pgflow.runs where flow_slug = $1', [slug])).toEqual([{ n: 1 }]);
  expect(await queueMessages(db, slug)).toHaveLength(1);
});

it('the key is per flow; starts without a key are never deduplicated', async () => {
  const [a, b] = [await flow(), await flow()];
  const [inA] = await start(a, 1, 'same');
  const [inB] = await start(b, 1, 'same');
  expect(inA?.run_id).not.toBe(inB?.run_id);
  const [x] = await start(a, 1, null);
  const [y] = await start(a, 1, null);
  expect(x?.run_id).not.toBe(y?.run_id);
});

it('20 concurrent starts with one key create one run and all return it', async () => {
  const slug = await flow();
  const clients = await Promise.all(Array.from({ length: 20 }, () => db.connect()));
  const results = await Promise.all(
    clients.map((client, i) =>
      onClient(client).query<{ run_id: string }>('select run_id from pgflow.start_flow($1, $2::jsonb, $3::uuid, $4)', [
        slug,
        json({ i }),
        randomUUID(),
        'concurrent',
      ]),
    ),
  );
  await Promise.all(clients.map((client) => client.end()));
  const ids = new Set(results.map(([row]) => row?.run_id));
  expect(ids.size).toBe(1);
  expect(await db.query('select count(*)::int as n from pgflow.runs where flow_slug = $1', [slug])).toEqual([{ n: 1 }]);
});

it('start_flows: keys repeated in a batch or known already map to one run each', async () => {
  const slug = await flow();
  const [known] = await start(slug, 0, 'k0');
  const rows = await db.query<{ run_id: string }>(
    'select run_id from pgflow.start_flows($1, $2::jsonb, null, $3::text[])',
    [slug, json([1, 2, 3, 4]), ['k1', 'k0', 'k1', null]],
  );
  expect(rows).toHaveLength(4);
  expect(rows[1]?.run_id).toBe(known?.run_id);
  expect(rows[2]?.run_id).toBe(rows[0]?.run_id);
  expect(new Set(rows.map((r) => r.run_id)).size).toBe(3);
});

it('a run id that exists stays PF008, also with a new key', async () => {
  const slug = await flow();
  const [first] = await start(slug, 1, 'a');
  await expectEngineError(start(slug, 1, 'b', first?.run_id), { code: 'PF008', naming: [first?.run_id as string] });
});

it('a key longer than 255 characters (or empty) is PF007, naming it, and changes nothing', async () => {
  const slug = await flow();
  const before = await snapshotTables(db);
  await expectEngineError(start(slug, 1, 'k'.repeat(256)), { code: 'PF007', naming: ['256'] });
  await expectEngineError(start(slug, 1, ''), { code: 'PF007', naming: ['0 characters'] });
  expect(await snapshotTables(db)).toEqual(before);
});
