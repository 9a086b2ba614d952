/**
 * Invalid flow structures and options: unknown, duplicate, self and cyclic dependencies, a map step
 * with two dependencies, zero or negative options. Through the decorators the boot stops with
 * InvalidFlowDefinitionError naming the class, the method and the value; through the engine's SQL
 * the call fails with its own SQLSTATE and a hint; module options throw InvalidOptionsError. Each is
 * refused with nothing written.
 */
import {
  Flow,
  type FlowDefinitionProblemCode,
  InvalidFlowDefinitionError,
  InvalidOptionsError,
  type MapStepContext,
  PgflowModule,
  Step,
  type StepOptions,
} from 'nestjs-pgflow';
import { useApps } from '../../library/fixtures/pgflow-app.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { refusedWithoutWrites, sqlErrorOf } from '../support/no-writes.ts';

const db = useTestDatabase();
const apps = useApps();

/** A flow `first → second` where `second` has the options given (and `first` the dependencies). */
function flowWith(second: StepOptions, first: StepOptions = {}, flow: Record<string, number> = {}) {
  @Flow({ slug: 'rel_bad_definition', ...flow })
  class BadDefinition {
    @Step(first)
    first() {
      return [1];
    }

    @Step(second)
    second(_input: unknown, _ctx: MapStepContext) {
      return 2;
    }
  }
  return BadDefinition;
}

const BOOT_CASES: ReadonlyArray<readonly [string, ReturnType<typeof flowWith>, FlowDefinitionProblemCode, string]> = [
  ['an unknown dependency', flowWith({ dependsOn: ['ghost'] }), 'UNKNOWN_DEPENDENCY', 'ghost'],
  ['a duplicate dependency', flowWith({ dependsOn: ['first', 'first'] }), 'DUPLICATE_DEPENDENCY', 'first'],
  ['a self dependency', flowWith({ dependsOn: ['second'] }), 'SELF_DEPENDENCY', 'second'],
  ['a cycle', flowWith({ dependsOn: ['first'] }, { dependsOn: ['second'] }), 'CYCLE', 'second'],
  ['timeout 0 on a step', flowWith({ timeout: 0 }), 'INVALID_OPTION', 'timeout'],
  ['maxAttempts -1 on a step', flowWith({ maxAttempts: -1 }), 'INVALID_OPTION', 'maxAttempts'],
  ['baseDelay -1 on a step', flowWith({ baseDelay: -1 }), 'INVALID_OPTION', 'baseDelay'],
  ['startDelay -1 on a step', flowWith({ startDelay: -1 }), 'INVALID_OPTION', 'startDelay'],
  ['a fractional timeout on a step', flowWith({ timeout: 1.5 }), 'INVALID_OPTION', '1.5'],
  ['timeout 0 on the flow', flowWith({}, {}, { timeout: 0 }), 'INVALID_OPTION', 'timeout'],
  ['maxAttempts -3 on the flow', flowWith({}, {}, { maxAttempts: -3 }), 'INVALID_OPTION', '-3'],
];

/** A flow with three roots, so that a map step can name two real dependencies. */
@Flow({ slug: 'rel_bad_map' })
class MapWithTwoDependencies {
  @Step()
  left() {
    return [1];
  }

  @Step()
  right() {
    return [2];
  }

  @Step({ map: true, dependsOn: ['left', 'right'] })
  both(item: number, _ctx: MapStepContext) {
    return item;
  }
}

beforeAll(async () => {
  await db.query("select pgflow.create_flow('rel_sql_host')");
  await db.query("select pgflow.add_step('rel_sql_host', 'a')");
  await db.query("select pgflow.add_step('rel_sql_host', 'b')");
});

describe('an invalid flow structure or option in the decorators stops the boot', () => {
  it.each(BOOT_CASES)(
    '%s: InvalidFlowDefinitionError naming it, nothing written',
    async (_label, flow, code, value) => {
      const error = await refusedWithoutWrites(db, () => apps.start({ url: db.url, providers: [flow] }));

      expect(error).toBeInstanceOf(InvalidFlowDefinitionError);
      expect((error as InvalidFlowDefinitionError).problems.map((problem) => problem.code)).toContain(code);
      expect(error.message).toContain('BadDefinition');
      expect(error.message).toContain(value);
    },
  );

  it('a map step with two existing dependencies: MAP_STEP_DEPENDENCIES naming both', async () => {
    const error = await refusedWithoutWrites(db, () =>
      apps.start({ url: db.url, providers: [MapWithTwoDependencies] }),
    );

    expect(error).toBeInstanceOf(InvalidFlowDefinitionError);
    expect((error as InvalidFlowDefinitionError).problems).toEqual([
      expect.objectContaining({ code: 'MAP_STEP_DEPENDENCIES', methodName: 'both' }),
    ]);
    expect(error.message).toMatch(/left.*right/);
  });
});

describe('an invalid flow structure or option through the engine fails with its SQLSTATE and a hint', () => {
  const SQL_CASES: ReadonlyArray<readonly [string, string, unknown[], string, string]> = [
    ['an unknown dependency', "select pgflow.add_step('rel_sql_host', 'c', $1::text[])", [['ghost']], 'PF003', 'ghost'],
    ['a self dependency', "select pgflow.add_step('rel_sql_host', 'c', $1::text[])", [['c']], 'PF004', "'c'"],
    [
      'a map step with two dependencies',
      "select pgflow.add_step('rel_sql_host', 'c', $1::text[], step_type => 'map')",
      [['a', 'b']],
      'PF005',
      'a, b',
    ],
    ['max_attempts -1 on a flow', "select pgflow.create_flow('rel_sql_new', max_attempts => $1)", [-1], 'PF007', '-1'],
    ['base_delay -1 on a flow', "select pgflow.create_flow('rel_sql_new', base_delay => $1)", [-1], 'PF007', '-1'],
    ['timeout 0 on a flow', "select pgflow.create_flow('rel_sql_new', timeout => $1)", [0], 'PF007', 'timeout'],
    ['timeout 0 on a step', "select pgflow.add_step('rel_sql_host', 'c', timeout => $1)", [0], 'PF007', 'timeout'],
    ['start_delay -1 on a step', "select pgflow.add_step('rel_sql_host', 'c', start_delay => $1)", [-1], 'PF007', '-1'],
    ['an unknown flow', "select pgflow.add_step($1, 'c')", ['rel_no_such_flow'], 'PF002', 'rel_no_such_flow'],
  ];

  it.each(SQL_CASES)('%s', async (_label, statement, params, code, value) => {
    const error = await refusedWithoutWrites(db, () => db.query(statement, params));

    expect(sqlErrorOf(error)).toEqual({ code, message: expect.stringContaining(value), hint: expect.any(String) });
  });

  it('a cycle cannot be made: adding an existing step again returns it unchanged, with its dependencies', async () => {
    await db.query("select pgflow.add_step('rel_sql_host', 'after_a', array['a'])");
    const before = await db.query("select * from pgflow.deps where flow_slug = 'rel_sql_host' order by 2, 3");

    await db.query("select pgflow.add_step('rel_sql_host', 'a', array['after_a'])");
    expect(await db.query("select * from pgflow.deps where flow_slug = 'rel_sql_host' order by 2, 3")).toEqual(before);
  });

  it('duplicate dependencies are counted once', async () => {
    const [step] = await db.query<{ deps_count: number }>(
      "select deps_count from pgflow.add_step('rel_sql_host', 'twice', array['a', 'a'])",
    );
    expect(step).toEqual({ deps_count: 1 });
  });
});

describe('zero or negative module options', () => {
  const OPTIONS: ReadonlyArray<readonly [string, number]> = [
    ['maxConcurrent', 0],
    ['maxConcurrent', -1],
    ['batchSize', 0],
    ['maxPollSeconds', -1],
    ['pollIntervalMs', 0],
    ['visibilityTimeout', 0],
    ['heartbeatIntervalMs', 0],
    ['shutdownTimeoutMs', -1],
  ];

  it.each(OPTIONS)(
    'worker.%s = %d throws InvalidOptionsError naming the option, the value and the range',
    (option, value) => {
      const error = (() => {
        try {
          PgflowModule.forRoot({ worker: { [option]: value } });
        } catch (thrown) {
          return thrown;
        }
        return undefined;
      })();

      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect(error).toMatchObject({ option: `worker.${option}`, value });
      expect((error as Error).message).toMatch(
        new RegExp(`worker\\.${option}: ${value}\\. Expected an integer .* from \\d+ to \\d+`),
      );
    },
  );
});
