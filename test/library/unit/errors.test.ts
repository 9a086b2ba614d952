import * as pgflow from 'nestjs-pgflow';
import {
  DataSourceNotFoundError,
  DuplicateRegistrationError,
  FlowAssignmentError,
  FlowNotFoundError,
  FlowShapeMismatchError,
  InvalidFlowDefinitionError,
  InvalidOptionsError,
  InvalidRunInputError,
  MigrationsNotAppliedError,
  NonRetryableError,
  NotJsonError,
  PgflowError,
  PgflowErrorCode,
  PgflowShutdownError,
  RunAlreadyExistsError,
  RunCancelledError,
  RunFailedError,
  RunNotFoundError,
  RunNotRetryableError,
  ScheduleNotFoundError,
  SignalRefusedError,
  TaskTimeoutError,
  WaitTimeoutError,
} from 'nestjs-pgflow';

describe('error classes', () => {
  const cause = new Error('underlying');
  const cases: Array<[PgflowError, string, PgflowErrorCode]> = [
    [
      new InvalidFlowDefinitionError('MyFlow', 'my_flow', [{ code: 'NO_STEPS', message: 'MyFlow: no steps.' }]),
      'InvalidFlowDefinitionError',
      'PGFLOW_INVALID_DEFINITION',
    ],
    [new FlowNotFoundError('nope', 'slug', ['a_flow']), 'FlowNotFoundError', 'PGFLOW_FLOW_NOT_FOUND'],
    [new InvalidRunInputError('a_flow', 'input is bad', { cause }), 'InvalidRunInputError', 'PGFLOW_INVALID_INPUT'],
    [new NotJsonError('input.a', 'is a BigInt (1n)'), 'NotJsonError', 'PGFLOW_NOT_JSON'],
    [new FlowShapeMismatchError('a_flow', ['Step a: type differs']), 'FlowShapeMismatchError', 'PGFLOW_SHAPE_MISMATCH'],
    [new RunNotFoundError('r1'), 'RunNotFoundError', 'PGFLOW_RUN_NOT_FOUND'],
    [new RunFailedError('r1', 'save', 'disk full'), 'RunFailedError', 'PGFLOW_RUN_FAILED'],
    [new WaitTimeoutError('r1', 500), 'WaitTimeoutError', 'PGFLOW_WAIT_TIMEOUT'],
    [
      new InvalidOptionsError('worker.maxConcurrent', 0, 'an integer from 1'),
      'InvalidOptionsError',
      'PGFLOW_INVALID_OPTIONS',
    ],
    [new RunAlreadyExistsError('r1', { cause }), 'RunAlreadyExistsError', 'PGFLOW_RUN_EXISTS'],
    [new PgflowShutdownError('r1'), 'PgflowShutdownError', 'PGFLOW_SHUTTING_DOWN'],
    [
      new TaskTimeoutError({ runId: 'r1', stepSlug: 'save', taskIndex: 0, attempt: 1, timeoutSeconds: 5 }),
      'TaskTimeoutError',
      'PGFLOW_TASK_TIMEOUT',
    ],
    [new MigrationsNotAppliedError('app', ['A1'], true), 'MigrationsNotAppliedError', 'PGFLOW_MIGRATIONS_NOT_APPLIED'],
    [new DataSourceNotFoundError('jobs', []), 'DataSourceNotFoundError', 'PGFLOW_DATA_SOURCE_NOT_FOUND'],
    [new DuplicateRegistrationError('billing'), 'DuplicateRegistrationError', 'PGFLOW_DUPLICATE_REGISTRATION'],
    [
      FlowAssignmentError.unclaimed([{ slug: 'a_flow' }], ['billing', 'reports']),
      'FlowAssignmentError',
      'PGFLOW_FLOW_ASSIGNMENT',
    ],
    [new RunCancelledError('r1', 'wrong input'), 'RunCancelledError', 'PGFLOW_RUN_CANCELLED'],
    [new NonRetryableError('the order has no lines'), 'NonRetryableError', 'PGFLOW_NON_RETRYABLE'],
    [
      new RunNotRetryableError('r1', 'run-state', 'Run r1 is started.', 'Wait for it to end.'),
      'RunNotRetryableError',
      'PGFLOW_RUN_NOT_RETRYABLE',
    ],
    [new ScheduleNotFoundError('nightly', ['weekly']), 'ScheduleNotFoundError', 'PGFLOW_SCHEDULE_NOT_FOUND'],
    [
      new SignalRefusedError(
        '00000000-0000-4000-8000-000000000001',
        'approval',
        'duplicate',
        'Run already received signal.',
        'Once per run.',
      ),
      'SignalRefusedError',
      'PGFLOW_SIGNAL_REFUSED',
    ],
  ];

  it.each(cases)('%s extends PgflowError and Error, with its name and stable code', (error, name, code) => {
    expect(error).toBeInstanceOf(PgflowError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(String(error)).toMatch(new RegExp(`^${name}: `));
    expect(error.stack).toContain(name);
  });

  it('exposes every code as a constant', () => {
    expect(Object.values(PgflowErrorCode).sort()).toEqual(cases.map(([, , code]) => code).sort());
  });

  it('keeps the cause, and has none when not given', () => {
    expect(new InvalidRunInputError('a_flow', 'bad', { cause }).cause).toBe(cause);
    expect('cause' in new RunNotFoundError('r1')).toBe(false);
  });

  it('FlowNotFoundError lists the known flows and says how to register one', () => {
    const error = new FlowNotFoundError('nope', 'slug', ['a_flow', 'b_flow']);
    expect(error).toMatchObject({ flow: 'nope', reference: 'slug', knownFlows: ['a_flow', 'b_flow'] });
    expect(error.message).toBe(
      "No flow with slug 'nope' is registered. A flow is a provider class decorated with @Flow({ slug }), listed " +
        "in the providers of a module of the application that imports PgflowModule. Known flows: 'a_flow', 'b_flow'.",
    );
    expect(new FlowNotFoundError('X', 'class', []).message).toMatch(/^No flow for class X is registered\..*none\.$/);
  });

  it('InvalidRunInputError names the flow, the reason and the path', () => {
    const notJson = new NotJsonError('input.items[3].price', 'is NaN: JSON numbers must be finite');
    const error = InvalidRunInputError.notJson('orders', notJson);
    expect(error).toMatchObject({ flowSlug: 'orders', path: 'input.items[3].price', cause: notJson });
    expect(error.message).toBe(
      "Invalid input for flow 'orders': input.items[3].price is NaN: JSON numbers must be finite. No run was started.",
    );
    expect(new InvalidRunInputError('orders', 'the engine refused it.').message).toBe(
      "Invalid input for flow 'orders': the engine refused it. No run was started.",
    );
    const notArray = InvalidRunInputError.notAnArray('orders', ['each_order'], { orders: [] });
    expect(notArray.path).toBeUndefined();
    expect(notArray.message).toMatch(/input is an object, but the flow's root map step 'each_order'.*must be an array/);
  });

  it('FlowShapeMismatchError lists the differences and both fixes', () => {
    const error = new FlowShapeMismatchError('orders', ['Step count differs', "Step 'a': dependencies differ"]);
    expect(error.differences).toEqual(['Step count differs', "Step 'a': dependencies differ"]);
    expect(error.message).toContain("  - Step count differs\n  - Step 'a': dependencies differ\n");
    expect(error.message).toContain("'orders_v2'");
    expect(error.message).toContain("compilation: 'recompile'");
  });

  it('RunFailedError, RunNotFoundError and WaitTimeoutError carry the run and what happened', () => {
    expect(new RunFailedError('r1', 'save', 'disk full')).toMatchObject({
      runId: 'r1',
      stepSlug: 'save',
      errorMessage: 'disk full',
      message: expect.stringMatching(/^Run 'r1' failed at step 'save': disk full\./),
    });
    expect(new RunFailedError('r1', null, null).message).toMatch(/^Run 'r1' failed\. /);
    // A quoted error that ends a sentence itself (a step timeout's does) gets no second full stop.
    expect(new RunFailedError('r1', 'fetch', "Step 'fetch' did not finish within its timeout of 1 s.").message).toBe(
      "Run 'r1' failed at step 'fetch': Step 'fetch' did not finish within its timeout of 1 s. Its step states and " +
        "tasks (FlowClient.getRun('r1')) hold the errors of every attempt.",
    );
    expect(new RunNotFoundError('r2')).toMatchObject({ runId: 'r2', message: expect.stringContaining("'r2'") });
    expect(new WaitTimeoutError('r3', 250)).toMatchObject({
      runId: 'r3',
      timeoutMs: 250,
      message: expect.stringMatching(/within 250 ms.*not cancelled/),
    });
  });

  it('TaskTimeoutError carries the run, the step, the task, the attempt and the timeout', () => {
    const error = new TaskTimeoutError({ runId: 'r1', stepSlug: 'save', taskIndex: 3, attempt: 2, timeoutSeconds: 5 });
    expect(error).toMatchObject({ runId: 'r1', stepSlug: 'save', taskIndex: 3, attempt: 2, timeoutSeconds: 5 });
    // The attempt's stored error message: unchanged since the class had no code.
    expect(error.message).toBe("Step 'save' did not finish within its timeout of 5 s.");
  });

  it('RunAlreadyExistsError names the run id, or says why it cannot', () => {
    expect(new RunAlreadyExistsError('r1')).toMatchObject({ runId: 'r1', message: expect.stringContaining("'r1'") });
    expect(new RunAlreadyExistsError(null)).toMatchObject({
      runId: null,
      message: expect.stringMatching(/started earlier in the same transaction; no run was started/),
    });
  });

  it('DuplicateRegistrationError names the DataSource and says to register once per DataSource', () => {
    expect(new DuplicateRegistrationError('billing')).toMatchObject({
      dataSource: 'billing',
      message: expect.stringMatching(/registered twice on the TypeORM DataSource 'billing'.*once per DataSource/),
    });
    expect(new DuplicateRegistrationError('default').message).toMatch(/twice on the default TypeORM DataSource/);
  });

  it('FlowAssignmentError names the flows, the registrations and the fix of each problem', () => {
    const invoice = { slug: 'invoice', className: 'InvoiceFlow' };
    expect(FlowAssignmentError.flowsMissing('reports', ['billing', 'reports'])).toMatchObject({
      problem: 'flows_missing',
      flows: [],
      registrations: ['reports'],
      message: expect.stringMatching(/'billing', 'reports'.*on 'reports' has no flows option.*dataSource: 'reports'/),
    });
    expect(FlowAssignmentError.claimedTwice(invoice, 'billing', 'reports')).toMatchObject({
      problem: 'claimed_twice',
      flows: ['invoice'],
      registrations: ['billing', 'reports'],
      message: expect.stringMatching(
        /^Flow 'invoice' \(class InvoiceFlow\) is in the flows of two .*'billing' and 'reports'.*Remove it/,
      ),
    });
    expect(FlowAssignmentError.unclaimed([invoice, { slug: 'other' }], ['billing', 'reports'])).toMatchObject({
      problem: 'unclaimed',
      flows: ['invoice', 'other'],
      message: expect.stringMatching(
        /^Flows 'invoice' \(class InvoiceFlow\), 'other' are in the flows of no .*Add each/,
      ),
    });
    expect(FlowAssignmentError.notInRegistration(invoice, 'reports', 'billing')).toMatchObject({
      problem: 'not_in_registration',
      registrations: ['reports', 'billing'],
      message: expect.stringMatching(/^worker\.flows of .* on 'reports' names flow 'invoice'.*dataSource: 'billing'/),
    });
  });

  it('ScheduleNotFoundError names the schedule, the known ones and where names come from', () => {
    const error = new ScheduleNotFoundError('nightly', ['nightly_report', 'weekly']);
    expect(error).toMatchObject({ scheduleName: 'nightly', knownSchedules: ['nightly_report', 'weekly'] });
    expect(error.message).toBe(
      "No schedule is named 'nightly'. The schedules are: 'nightly_report', 'weekly'. Pass the name given to " +
        '@FlowSchedule(cron, { name }) (by default the flow slug), as listSchedules() returns it.',
    );
    expect(new ScheduleNotFoundError('x', []).message).toMatch(
      /There are no schedules: they are created when a worker/,
    );
  });

  it('InvalidOptionsError names the option, the value and what is allowed', () => {
    const error = new InvalidOptionsError('worker.batchSize', -1, 'an integer from 1 to 10000');
    expect(error).toMatchObject({ option: 'worker.batchSize', value: -1, expected: 'an integer from 1 to 10000' });
    expect(error.message).toBe(
      'Invalid PgflowModule option worker.batchSize: -1. Expected an integer from 1 to 10000.',
    );
  });
});

describe('the public API', () => {
  it('exports the definition side of the library', () => {
    expect(Object.keys(pgflow)).toEqual(
      expect.arrayContaining([
        'pgflowMigrations',
        'Flow',
        'Step',
        'pgflowEntities',
        'FlowEntity',
        'StepEntity',
        'DepEntity',
        'RunEntity',
        'StepStateEntity',
        'StepTaskEntity',
        'WorkerEntity',
        'ScheduleEntity',
        'ScheduleTickEntity',
        'FlowSchedule',
        'ScheduleNotFoundError',
        'PgflowError',
        'PgflowErrorCode',
        'InvalidFlowDefinitionError',
        'FlowNotFoundError',
        'InvalidRunInputError',
        'NotJsonError',
        'FlowShapeMismatchError',
        'RunNotFoundError',
        'RunFailedError',
        'WaitTimeoutError',
        'TaskTimeoutError',
        'InvalidOptionsError',
        'MigrationsNotAppliedError',
        'DataSourceNotFoundError',
        'DuplicateRegistrationError',
        'FlowAssignmentError',
        'RunCancelledError',
        'NonRetryableError',
        'RunNotRetryableError',
        'InjectFlowClient',
        'getFlowClientToken',
        'getPgflowWorkerToken',
      ]),
    );
  });

  it('does not export internals', () => {
    for (const internal of [
      'buildFlowDefinition',
      'toFlowShape',
      'toJsonValue',
      'resolvePgflowOptions',
      'PGFLOW_MODULE_OPTIONS',
    ]) {
      expect(Object.keys(pgflow)).not.toContain(internal);
    }
  });
});
