import {
  ConsoleLogger,
  type DynamicModule,
  type LoggerService,
  type LogLevel,
  Module,
  type ModuleMetadata,
  type Provider,
} from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { pgflowMigrations } from '../../../../migrations/index.ts';
import { InvalidOptionsError } from '../errors/invalid-options.error.ts';
import { PgflowModule } from '../pgflow.module.ts';
import type { PgflowModuleOptions, PgflowWorkerOptions } from '../pgflow-options.ts';
import type { FlowClass } from '../types/flow-class.ts';
import type { StepKey } from '../types/flow-types.ts';
import { PgflowTesting } from './pgflow-testing.ts';
import {
  checkOverride,
  PGFLOW_STEP_OVERRIDES,
  type StepOverride,
  StepOverridesLoader,
  type StepReplacement,
} from './step-overrides.ts';

/** What a test application is made of. */
export interface PgflowTestingOptions {
  /**
   * The test database's URL: TypeORM is set up on it (`autoLoadEntities`) and the library's
   * migrations are applied at startup. Leave it out to import your own TypeOrmModule.forRoot() in
   * `imports`.
   */
  readonly database?: string;
  /** Modules the flows need (your feature modules, ConfigModule ...). */
  readonly imports?: ModuleMetadata['imports'];
  /** The flows under test and the providers they inject (or stand-ins: `{ provide, useValue }`). */
  readonly providers?: Provider[];
  /**
   * PgflowModule options. The worker polls and heartbeats often and gets 2 s to stop (so that a test
   * neither waits out a poll nor a long shutdown), unless set here.
   */
  readonly pgflow?: PgflowModuleOptions;
  /** Nest's logger, or the levels to print [errors and warnings]. */
  readonly logger?: LoggerService | LogLevel[] | false;
}

/** Worker timings for tests. */
const TEST_WORKER: PgflowWorkerOptions = {
  pollIntervalMs: 10,
  maxPollSeconds: 1,
  heartbeatIntervalMs: 1_000,
  shutdownTimeoutMs: 2_000,
};

/** @nestjs/testing, loaded only here, so that applications that never test need not install it. */
async function loadNestTesting(): Promise<typeof import('@nestjs/testing')> {
  try {
    return await import('@nestjs/testing');
  } catch (error) {
    throw new Error(
      'PgflowTestingModule builds on @nestjs/testing, which is not installed: npm install --save-dev @nestjs/testing',
      { cause: error },
    );
  }
}

/** A logger that prints nothing (`logger: false`). */
class SilentLogger implements LoggerService {
  log(): void {}
  error(): void {}
  warn(): void {}
}

function toLogger(logger: LoggerService | LogLevel[]): LoggerService {
  return Array.isArray(logger) ? new ConsoleLogger({ logLevels: logger }) : logger;
}

/** The root module of a test application. */
@Module({})
class PgflowTestingRootModule {}

/**
 * Test applications for your flows, against a real PostgreSQL:
 *
 * ```ts
 * const testing = await PgflowTestingModule.create({ database: url, providers: [MyFlow, MyService] })
 *   .overrideStep(MyFlow, 'charge', () => ({ chargeId: 'test' }))
 *   .compile();
 * const done = await testing.run(MyFlow, input); // done.output is typed from MyFlow's leaf steps
 * await testing.close();
 * ```
 */
export class PgflowTestingModule {
  /** Describes a test application; `compile()` starts it. */
  static create(options: PgflowTestingOptions): PgflowTestingBuilder {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionsError('options', options, '{ database?, imports?, providers?, pgflow?, logger? }', {
        subject: 'PgflowTestingModule.create() argument',
      });
    }
    if (options.database !== undefined && (typeof options.database !== 'string' || options.database === '')) {
      throw new InvalidOptionsError('database', options.database, 'a PostgreSQL connection URL', {
        subject: 'PgflowTestingModule.create() option',
      });
    }
    return new PgflowTestingBuilder(options);
  }
}

/** A test application being described: replace steps, then `compile()`. */
export class PgflowTestingBuilder {
  private readonly overrides: StepOverride[] = [];

  constructor(private readonly options: PgflowTestingOptions) {}

  /**
   * Replaces step `step` (its method name) of `flow` with `handler`, which receives what the step
   * receives and returns what it returns: the way overrideProvider replaces a provider.
   */
  overrideStep<F extends object, K extends StepKey<F>>(
    flow: FlowClass<F>,
    step: K,
    handler: StepReplacement<F, K>,
  ): this {
    const override = { flow, step, handler: handler as (input: never, context: never) => unknown };
    checkOverride(override);
    this.overrides.push(override);
    return this;
  }

  /**
   * Creates and starts the application: TypeORM (with `database`), PgflowModule with a worker, your
   * imports and providers, the step replacements in place before the worker takes a task.
   */
  async compile(): Promise<PgflowTesting> {
    const { database, imports = [], providers = [], pgflow = {}, logger = ['error', 'warn'] } = this.options;
    const module: DynamicModule = {
      module: PgflowTestingRootModule,
      imports: [
        ...(database === undefined
          ? []
          : [
              TypeOrmModule.forRoot({
                type: 'postgres',
                url: database,
                autoLoadEntities: true,
                migrations: [...pgflowMigrations],
                migrationsRun: true,
              }),
            ]),
        PgflowModule.forRoot({ ...pgflow, worker: { ...TEST_WORKER, ...pgflow.worker } }),
        ...imports,
      ],
      providers: [...providers, { provide: PGFLOW_STEP_OVERRIDES, useValue: [...this.overrides] }, StepOverridesLoader],
    };
    const { Test } = await loadNestTesting();
    const builder = Test.createTestingModule({ imports: [module] });
    if (logger !== undefined) builder.setLogger(logger === false ? new SilentLogger() : toLogger(logger));
    const app = await builder.compile();
    try {
      // Not NestFactory.createApplicationContext(): when its init() fails, the context (and the
      // connections TypeORM opened) cannot be closed any more, and the test process never exits.
      await app.init();
    } catch (error) {
      await app.close().catch(() => undefined);
      throw error;
    }
    return new PgflowTesting(app, app.get(StepOverridesLoader).overrider);
  }
}
