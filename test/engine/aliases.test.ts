/**
 * Flow versions under an alias: a shape's options.alias sets pgflow.flows.alias; start_flow and
 * start_flows take a slug or an alias (pgflow._resolve_flow_slug: the flow with that slug, else the
 * newest flow under that alias); an alias is never a flow's slug, nor a slug an alias.
 */
import { useTestDatabase } from '../support/test-database.ts';
import { completeTask, pollOne, startRun } from './support/engine-driver.ts';
import { expectEngineError } from './support/engine-errors.ts';

const db = useTestDatabase();

const STEPS = [
  {
    slug: 'work',
    stepType: 'single',
    dependencies: [],
    whenUnmet: 'skip',
    whenExhausted: 'fail',
    requiredInputPattern: { defined: false },
    forbiddenInputPattern: { defined: false },
  },
];

function shape(options?: Record<string, unknown>): unknown {
  return options === undefined ? { steps: STEPS } : { steps: STEPS, options };
}

interface Compiled {
  status: string;
  differences: string[];
  options_changed?: string[];
}

async function compile(flowSlug: string, flowShape: unknown): Promise<Compiled> {
  const [row] = await db.query<{ r: Compiled }>('select pgflow.ensure_flow_compiled($1, $2::jsonb) as r', [
    flowSlug,
    JSON.stringify(flowShape),
  ]);
  return row?.r as Compiled;
}

async function aliasOf(flowSlug: string): Promise<string | null | undefined> {
  const [row] = await db.query<{ alias: string | null }>('select alias from pgflow.flows where flow_slug = $1', [
    flowSlug,
  ]);
  return row?.alias;
}

async function flowSlugs(): Promise<string[]> {
  const rows = await db.query<{ flow_slug: string }>('select flow_slug from pgflow.flows order by flow_slug');
  return rows.map((row) => row.flow_slug);
}

describe('starting by alias', () => {
  it('starts the newest flow under the alias; runs of the older version go on on it', async () => {
    expect(await compile('order_v1', shape({ alias: 'order', maxAttempts: 2 }))).toMatchObject({ status: 'compiled' });
    expect(await aliasOf('order_v1')).toBe('order');
    const first = await startRun(db, 'order', { n: 1 });
    expect(first.flow_slug).toBe('order_v1');

    expect(await compile('order_v2', shape({ alias: 'order' }))).toMatchObject({ status: 'compiled' });
    const second = await startRun(db, 'order', { n: 2 });
    expect(second.flow_slug).toBe('order_v2');
    const many = await db.query<{ flow_slug: string }>(
      `select flow_slug from pgflow.start_flows('order', '[{"n": 3}, {"n": 4}]'::jsonb)`,
    );
    expect(many.map((run) => run.flow_slug)).toEqual(['order_v2', 'order_v2']);

    // The run of v1 started before v2 existed completes on v1.
    const task = await pollOne(db, 'order_v1', 'work');
    expect(task.run_id).toBe(first.run_id);
    await completeTask(db, first.run_id, 'work', 0, { version: 1 });
    const [run] = await db.query<{ status: string; flow_slug: string }>(
      'select status, flow_slug from pgflow.runs where run_id = $1',
      [first.run_id],
    );
    expect(run).toEqual({ status: 'completed', flow_slug: 'order_v1' });
  });

  it('an exact slug wins: a version stays reachable by its own slug', async () => {
    await compile('invoice_v1', shape({ alias: 'invoice' }));
    await compile('invoice_v2', shape({ alias: 'invoice' }));
    expect((await startRun(db, 'invoice_v1', {})).flow_slug).toBe('invoice_v1');
    expect((await startRun(db, 'invoice', {})).flow_slug).toBe('invoice_v2');
  });

  it('a name that is neither a slug nor an alias is refused with PF002 naming it, for one run or many', async () => {
    await expectEngineError(startRun(db, 'no_such_flow', {}), { code: 'PF002', naming: ['no_such_flow', 'alias'] });
    await expectEngineError(db.query(`select * from pgflow.start_flows('no_such_flow', '[1]'::jsonb)`), {
      code: 'PF002',
      naming: ['no_such_flow'],
    });
  });

  it('resolves through pgflow._resolve_flow_slug', async () => {
    await compile('quote_v1', shape({ alias: 'quote' }));
    const [row] = await db.query<{ slug: string }>(`select pgflow._resolve_flow_slug('quote') as slug`);
    expect(row?.slug).toBe('quote_v1');
  });
});

describe('compiling an alias', () => {
  it('refuses an alias that is the slug of another flow, and creates nothing', async () => {
    await compile('shipment', shape());
    await expectEngineError(compile('shipment_v2', shape({ alias: 'shipment' })), {
      code: 'PF016',
      naming: ["'shipment'", "'shipment_v2'"],
    });
    expect(await flowSlugs()).not.toContain('shipment_v2');
  });

  it("refuses an alias that is the flow's own slug", async () => {
    await expectEngineError(compile('refund', shape({ alias: 'refund' })), { code: 'PF016', naming: ["'refund'"] });
    expect(await flowSlugs()).not.toContain('refund');
  });

  it('refuses a flow whose slug is an existing alias (pgflow.create_flow too)', async () => {
    await compile('payment_v1', shape({ alias: 'payment' }));
    await expectEngineError(compile('payment', shape()), { code: 'PF016', naming: ["'payment'", "'payment_v1'"] });
    await expectEngineError(db.query(`select pgflow.create_flow('payment')`), { code: 'PF016', naming: ["'payment'"] });
    expect(await flowSlugs()).not.toContain('payment');
  });

  it('refuses an alias that breaks the slug rules, or is not a string', async () => {
    await expectEngineError(compile('bad_alias_a', shape({ alias: 'my-flow' })), {
      code: 'PF001',
      naming: ["'my-flow'"],
    });
    await expectEngineError(compile('bad_alias_b', shape({ alias: 'x'.repeat(48) })), { code: 'PF001' });
    await expectEngineError(compile('bad_alias_c', shape({ alias: 7 })), { code: 'PF007', naming: ['7'] });
    expect(await flowSlugs()).not.toContain('bad_alias_a');
  });

  it("verifying sets an added or changed alias; a shape without one (pgflow's) leaves it", async () => {
    await compile('report', shape());
    expect(await aliasOf('report')).toBeNull();
    expect(await compile('report', shape({ alias: 'reporting' }))).toMatchObject({
      status: 'verified',
      options_changed: ["alias null -> 'reporting'"],
    });
    expect(await aliasOf('report')).toBe('reporting');
    expect(await compile('report', shape())).toMatchObject({ status: 'verified', options_changed: [] });
    expect(await aliasOf('report')).toBe('reporting');
    expect((await startRun(db, 'reporting', {})).flow_slug).toBe('report');
  });

  it('the table refuses an invalid alias written directly', async () => {
    await compile('direct', shape());
    await expect(db.query(`update pgflow.flows set alias = 'not valid' where flow_slug = 'direct'`)).rejects.toThrow(
      /flows_alias_is_valid/,
    );
  });
});
