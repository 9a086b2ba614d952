/**
 * Concurrency limits in the engine tests: compile a flow from a shape with its limits
 * (options.concurrency, options.concurrencyPerKey, a step's options.concurrency), start runs with
 * concurrency keys, claim through the worker's path (_claim_tasks), and read the per-key ledger and
 * the runs' admission state for assertions.
 */
import { json, registerWorker, type Sql } from './engine-driver.ts';

export interface LimitedStep {
  readonly slug: string;
  readonly type?: 'single' | 'map';
  readonly deps?: readonly string[];
  /** The step's options.concurrency (any JSON, to try invalid values). */
  readonly concurrency?: unknown;
}

export interface LimitedShape {
  readonly steps: readonly LimitedStep[];
  /** options.concurrency (any JSON, to try invalid values). */
  readonly concurrency?: unknown;
  /** options.concurrencyPerKey (any JSON, to try invalid values). */
  readonly concurrencyPerKey?: unknown;
  /** options.maxAttempts (1: a failed task fails its run). */
  readonly maxAttempts?: number;
}

function shapeJson(shape: LimitedShape): unknown {
  const options: Record<string, unknown> = {};
  if (shape.concurrency !== undefined) options.concurrency = shape.concurrency;
  if (shape.concurrencyPerKey !== undefined) options.concurrencyPerKey = shape.concurrencyPerKey;
  if (shape.maxAttempts !== undefined) options.maxAttempts = shape.maxAttempts;
  return {
    ...(Object.keys(options).length > 0 ? { options } : {}),
    steps: shape.steps.map((step) => ({
      slug: step.slug,
      stepType: step.type ?? 'single',
      dependencies: step.deps ?? [],
      whenUnmet: 'skip',
      whenExhausted: 'fail',
      requiredInputPattern: { defined: false },
      forbiddenInputPattern: { defined: false },
      ...(step.concurrency !== undefined ? { options: { concurrency: step.concurrency } } : {}),
    })),
  };
}

export interface CompileResult {
  status: string;
  options_changed?: string[];
}

/** ensure_flow_compiled with the shape: creates the flow, or verifies it and syncs its limits. */
export async function compileLimited(db: Sql, flowSlug: string, shape: LimitedShape): Promise<CompileResult> {
  const [row] = await db.query<{ r: CompileResult }>('select pgflow.ensure_flow_compiled($1, $2::jsonb) as r', [
    flowSlug,
    json(shapeJson(shape)),
  ]);
  if (!row) throw new Error('ensure_flow_compiled returned no row');
  return row.r;
}

/** The flow's limits and its steps', as stored. */
export async function limitsOf(
  db: Sql,
  flowSlug: string,
): Promise<{ concurrency: number | null; perKey: number | null; steps: Record<string, number | null> }> {
  const [flow] = await db.query<{ opt_concurrency: number | null; opt_concurrency_per_key: number | null }>(
    'select opt_concurrency, opt_concurrency_per_key from pgflow.flows where flow_slug = $1',
    [flowSlug],
  );
  const steps = await db.query<{ step_slug: string; opt_concurrency: number | null }>(
    'select step_slug, opt_concurrency from pgflow.steps where flow_slug = $1 order by step_slug',
    [flowSlug],
  );
  return {
    concurrency: flow?.opt_concurrency ?? null,
    perKey: flow?.opt_concurrency_per_key ?? null,
    steps: Object.fromEntries(steps.map((s) => [s.step_slug, s.opt_concurrency])),
  };
}

export interface KeyedRun {
  run_id: string;
  status: string;
  concurrency_key: string | null;
  concurrency_state: string | null;
  concurrency_ticket: string | null;
  priority: number;
}

/**
 * start_flows with one input per key (null: no key), returned in input order. `runIds` lets a
 * listener subscribe to the runs' channels before they start.
 */
export async function startKeyed(
  db: Sql,
  flowSlug: string,
  keys: readonly (string | null)[],
  options: { priority?: number; runIds?: readonly string[]; input?: (i: number) => unknown } = {},
): Promise<KeyedRun[]> {
  return db.query<KeyedRun>(
    `select run_id, status, concurrency_key, concurrency_state, concurrency_ticket, priority
       from pgflow.start_flows($1, $2::jsonb, run_ids => $3::uuid[], priority => $4, concurrency_keys => $5::text[])`,
    [
      flowSlug,
      json(keys.map((_, i) => options.input?.(i) ?? { i })),
      options.runIds ?? null,
      options.priority ?? 0,
      keys,
    ],
  );
}

/** The runs' current admission state, in the order of the ids given. */
export async function keyedRuns(db: Sql, runIds: readonly string[]): Promise<KeyedRun[]> {
  return db.query<KeyedRun>(
    `select r.run_id, r.status, r.concurrency_key, r.concurrency_state, r.concurrency_ticket, r.priority
       from unnest($1::uuid[]) with ordinality as i(run_id, n) join pgflow.runs r using (run_id) order by i.n`,
    [runIds],
  );
}

/** The state of each run, in the order given: 'admitted', 'waiting', or null (not limited). */
export async function admission(db: Sql, runIds: readonly string[]): Promise<(string | null)[]> {
  return (await keyedRuns(db, runIds)).map((r) => r.concurrency_state);
}

/** The per-key ledger of a flow: in_progress by key. */
export async function ledger(db: Sql, flowSlug: string): Promise<Record<string, number>> {
  const rows = await db.query<{ concurrency_key: string; in_progress: number }>(
    'select concurrency_key, in_progress from pgflow.concurrency_keys where flow_slug = $1 order by 1',
    [flowSlug],
  );
  return Object.fromEntries(rows.map((r) => [r.concurrency_key, r.in_progress]));
}

export interface Claimed {
  run_id: string;
  step_slug: string;
  task_index: number;
}

/** Claims through the worker's path (_claim_tasks), as many as `qty`. */
export async function claim(db: Sql, flowSlug: string, qty = 100): Promise<Claimed[]> {
  const worker = await registerWorker(db, flowSlug);
  return db.query<Claimed>(
    'select run_id, step_slug, task_index from pgflow._claim_tasks($1, $2, 30, $3::uuid) order by step_slug, task_index',
    [flowSlug, qty, worker],
  );
}

/** How many tasks of the flow (of one step, when named) are started now. */
export async function startedTasks(db: Sql, flowSlug: string, stepSlug?: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `select count(*)::int as n from pgflow.step_tasks
      where flow_slug = $1 and status = 'started' and ($2::text is null or step_slug = $2)`,
    [flowSlug, stepSlug ?? null],
  );
  return row?.n ?? -1;
}

/** How many step states of the run have started (0 while the run waits for a slot). */
export async function startedSteps(db: Sql, runId: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    "select count(*)::int as n from pgflow.step_states where run_id = $1 and status <> 'created'",
    [runId],
  );
  return row?.n ?? -1;
}
