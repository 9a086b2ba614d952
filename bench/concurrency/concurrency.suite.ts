/**
 * Concurrency limits (flows.opt_concurrency, flows.opt_concurrency_per_key): what they cost the claim
 * path. Four variants drain the same runs of a one-step flow in one round, interleaved, with the SQL
 * driver of our worker (pgflow._report_and_claim, see ../engine/engine.driver.ts):
 * - before: the engine without the feature (every migration before ConcurrencyLimits), no limit;
 * - unlimited: the engine with it, the same flow, no limit (target: tasks/s within 5% of before);
 * - per-key: concurrencyPerKey 5 over 100 keys (half the runs wait at first, and are admitted as the
 *   others end; target: seconds per task within 2x of unlimited);
 * - flow-limit: options.concurrency of twice a batch (each claim counts the flow's started tasks).
 */
import type pg from 'pg';
import { ConcurrencyLimits1796563483158 } from '../../migrations/1796563483158-concurrency-limits.ts';
import { pgflowMigrations } from '../../migrations/index.ts';
import { BATCH, EngineDriver, WORKER_ID } from '../engine/engine.driver.ts';
import { perRound, range, type Target, targetsTable } from '../support/figures.ts';
import { compareRound, perSecond, type Sample, spread } from '../support/measure.ts';
import { formatNumber, tableOf } from '../support/results.ts';
import type { BenchDatabase } from '../support/server.ts';
import type { BenchContext, BenchSuite } from '../support/suite.ts';

type Variant = 'before' | 'unlimited' | 'per-key' | 'flow-limit';
const VARIANTS: readonly Variant[] = ['before', 'unlimited', 'per-key', 'flow-limit'];

const FLOW = 'bench_concurrency';
const KEYS = 100;
const PER_KEY_LIMIT = 5;
const FLOW_LIMIT = 2 * BATCH;
const CONNECTIONS = 2;

const BEFORE_MIGRATIONS = pgflowMigrations.slice(0, pgflowMigrations.indexOf(ConcurrencyLimits1796563483158));

const DESCRIPTIONS: Record<Variant, string> = {
  before: 'the engine before the feature (every migration before ConcurrencyLimits), no limit',
  unlimited: 'the engine with the feature, no limit',
  'per-key': `concurrencyPerKey ${PER_KEY_LIMIT}, runs spread over ${KEYS} keys`,
  'flow-limit': `concurrency ${FLOW_LIMIT} (the flow's started tasks)`,
};

function shape(variant: Variant): unknown {
  const options: Record<string, unknown> = { timeout: 120 };
  if (variant === 'per-key') options.concurrencyPerKey = PER_KEY_LIMIT;
  if (variant === 'flow-limit') options.concurrency = FLOW_LIMIT;
  return {
    options,
    steps: [
      {
        slug: 'work',
        stepType: 'single',
        dependencies: [],
        whenUnmet: 'skip',
        whenExhausted: 'fail',
        requiredInputPattern: { defined: false },
        forbiddenInputPattern: { defined: false },
      },
    ],
  };
}

/** Creates the flow and starts `runs` runs of it, keyed for the per-key variant (untimed). */
async function prepare(variant: Variant, database: BenchDatabase, runs: number): Promise<void> {
  const client = await database.connect('pgflow bench setup');
  try {
    await client.query(`insert into pgflow.workers (worker_id, queue_name, function_name) values ($1, $2, 'bench')`, [
      WORKER_ID,
      FLOW,
    ]);
    await client.query('select pgflow.ensure_flow_compiled($1, $2::jsonb)', [FLOW, JSON.stringify(shape(variant))]);
    const inputs = JSON.stringify(Array.from({ length: runs }, (_, i) => ({ i })));
    if (variant === 'per-key') {
      const keys = Array.from({ length: runs }, (_, i) => `tenant-${i % KEYS}`);
      await client.query('select count(*) from pgflow.start_flows($1, $2::jsonb, concurrency_keys => $3::text[])', [
        FLOW,
        inputs,
        keys,
      ]);
    } else {
      await client.query('select count(*) from pgflow.start_flows($1, $2::jsonb)', [FLOW, inputs]);
    }
  } finally {
    await client.end();
  }
}

interface Measured {
  readonly samples: Record<Variant, Sample[]>;
  readonly statements: Record<Variant, number[]>;
}

async function measure(context: BenchContext, runs: number): Promise<Measured> {
  const samples = Object.fromEntries(VARIANTS.map((v) => [v, [] as Sample[]])) as Record<Variant, Sample[]>;
  const statements = Object.fromEntries(VARIANTS.map((v) => [v, [] as number[]])) as Record<Variant, number[]>;
  for (let round = 0; round < context.repetitions; round++) {
    const drivers = new Map<pg.Client, EngineDriver>();
    const driverFor = (client: pg.Client): EngineDriver => {
      let driver = drivers.get(client);
      if (driver === undefined) {
        driver = new EngineDriver(client, FLOW, 'report_and_claim');
        drivers.set(client, driver);
      }
      return driver;
    };
    const roundStatements = Object.fromEntries(VARIANTS.map((v) => [v, 0])) as Record<Variant, number>;
    const measured = await compareRound(context.server, {
      variants: VARIANTS,
      migrations: (variant) => (variant === 'before' ? BEFORE_MIGRATIONS : pgflowMigrations),
      setup: (variant, database) => prepare(variant, database, runs),
      connections: CONNECTIONS,
      items: runs,
      sliceItems: BATCH * 5,
      slice: async (variant, clients, budget) => {
        const share = Math.ceil(budget / clients.length);
        // A pass can find nothing for a moment while the other connection's commit admits waiting
        // runs (per-key) or holds the flow's claim turn (flow-limit): try again before calling it done.
        for (let attempt = 0; attempt < 3; attempt++) {
          const counts = await Promise.all(
            clients.map(async (client) => {
              const driver = driverFor(client);
              const before = driver.statements;
              const done = await driver.work(share);
              roundStatements[variant] += driver.statements - before;
              return done;
            }),
          );
          const done = counts.reduce((a, b) => a + b, 0);
          if (done > 0) return done;
        }
        return 0;
      },
    });
    for (const variant of VARIANTS) {
      const sample = measured[variant];
      if (sample.items !== runs) throw new Error(`${variant}: drained ${sample.items} of ${runs} tasks`);
      samples[variant].push(sample);
      statements[variant].push(roundStatements[variant] / sample.items);
    }
    context.log(
      `  round ${round + 1}: ` +
        VARIANTS.map((variant) => `${variant} ${formatNumber(perSecond(measured[variant]))}`).join(', ') +
        ' tasks/s',
    );
  }
  return { samples, statements };
}

interface Figures {
  readonly unlimitedOverBefore: number[];
  readonly perKeyCost: number[];
  readonly flowLimitCost: number[];
}

const secondsPerTask = (s: Sample) => s.seconds / s.items;

export const concurrencySuite: BenchSuite = {
  name: 'concurrency',
  summary: 'concurrency limits: an unlimited flow before and after the feature, a per-key limit, a flow limit',

  async run(context) {
    const runs = context.quick ? 200 : 2_000;
    const measured = await measure(context, runs);
    return report(measured, runs, context.repetitions);
  },
};

function report({ samples, statements }: Measured, runs: number, repetitions: number): string {
  const perTask = (variant: Variant, pick: (s: Sample) => number) =>
    spread(samples[variant].map((s) => pick(s) / s.items)).median;
  const figures: Figures = {
    unlimitedOverBefore: perRound(samples.unlimited, samples.before, perSecond),
    perKeyCost: perRound(samples['per-key'], samples.unlimited, secondsPerTask),
    flowLimitCost: perRound(samples['flow-limit'], samples.unlimited, secondsPerTask),
  };
  const median = (values: readonly number[]) => (values.length === 0 ? Number.NaN : spread(values).median);
  const targets: ReadonlyArray<Target<Figures>> = [
    {
      target: 'no limit: tasks/s ÷ before ≥ 0.95',
      measure: (f) => median(f.unlimitedOverBefore),
      shown: (f) => range(f.unlimitedOverBefore, 2),
      met: (value) => value >= 0.95,
    },
    {
      target: `per-key limit (${KEYS} keys): seconds/task ÷ unlimited ≤ 2`,
      measure: (f) => median(f.perKeyCost),
      shown: (f) => range(f.perKeyCost, 2),
      met: (value) => value <= 2,
    },
    {
      target: 'flow limit: seconds/task ÷ unlimited ≤ 2',
      measure: (f) => median(f.flowLimitCost),
      shown: (f) => range(f.flowLimitCost, 2),
      met: (value) => value <= 2,
    },
  ];
  return [
    '## Concurrency limits',
    '',
    `${repetitions} rounds. ${formatNumber(runs)} runs of a one-step flow per variant, drained by ${CONNECTIONS} ` +
      `connections with our worker's statement (pgflow.\\_report\\_and\\_claim, batches of ${BATCH}, no handler ` +
      `work). Every variant of a round gets a fresh database and the variants run in alternating slices of ` +
      `${BATCH * 5} tasks. **before** is the same engine without the ConcurrencyLimits migration (every ` +
      'migration before it), so "within 5% of before" is measured in the same rounds, not against an old ' +
      `record. The per-key variant's runs are spread over ${KEYS} keys with a limit of ${PER_KEY_LIMIT}: ` +
      'half of them wait at the start and are admitted at the commit of the runs that end.',
    '',
    tableOf<Variant>(
      [
        { heading: 'variant', cell: (v) => `**${v}**: ${DESCRIPTIONS[v]}` },
        { heading: 'tasks/s median (min–max)', cell: (v) => range(samples[v].map(perSecond)) },
        { heading: 'statements/task', cell: (v) => formatNumber(spread(statements[v]).median, 3) },
        {
          heading: 'commits/task',
          cell: (v) =>
            formatNumber(
              perTask(v, (s) => s.commits),
              3,
            ),
        },
        { heading: 'WAL bytes/task', cell: (v) => formatNumber(perTask(v, (s) => s.walBytes)) },
      ],
      VARIANTS,
    ),
    '',
    '### Targets (ratios per round, then median (min–max))',
    '',
    targetsTable(figures, targets),
  ].join('\n');
}
