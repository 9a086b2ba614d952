/**
 * Wiring PgflowModule into an application: forRootAsync with useFactory (and inject, imports),
 * useClass and useExisting; the module is global (any module can inject FlowClient); flows are
 * found whatever kind of provider holds them.
 */
import { Injectable, Module } from '@nestjs/common';
import {
  Flow,
  FlowClient,
  PgflowModule,
  type PgflowModuleOptions,
  type PgflowOptionsFactory,
  Step,
} from 'nestjs-pgflow';
// The resolved options are internal: the tests read them through the library's own token.
import { PGFLOW_MODULE_OPTIONS } from '../../../libs/pgflow/src/pgflow.constants.ts';
import type { ResolvedPgflowOptions } from '../../../libs/pgflow/src/pgflow-options.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { FAST_WORKER, useApps } from '../fixtures/pgflow-app.ts';

@Flow({ slug: 'wiring_hello', maxAttempts: 1 })
class HelloFlow {
  @Step()
  greet(input: { name: string }) {
    return `hello ${input.name}`;
  }
}

/** Configuration a real application would read from its environment. */
@Injectable()
class JobsConfig {
  readonly maxConcurrent = 4;
  readonly calls: string[] = [];
}

@Module({ providers: [JobsConfig], exports: [JobsConfig] })
class JobsConfigModule {}

@Injectable()
class PgflowConfigService implements PgflowOptionsFactory {
  constructor(private readonly config: JobsConfig) {}

  createPgflowOptions(): PgflowModuleOptions {
    this.config.calls.push('createPgflowOptions');
    return { worker: { ...FAST_WORKER, maxConcurrent: this.config.maxConcurrent } };
  }
}

@Module({ providers: [JobsConfig, PgflowConfigService], exports: [JobsConfig, PgflowConfigService] })
class PgflowConfigModule {}

/** A service in a module that does not import PgflowModule: the module is global. */
@Injectable()
class SignupService {
  constructor(private readonly flows: FlowClient) {}

  async signUp(name: string): Promise<unknown> {
    const run = await this.flows.start(HelloFlow, { name });
    return (await run.wait({ timeoutMs: 10_000 })).output;
  }
}

@Module({ providers: [SignupService] })
class SignupModule {}

@Flow({ slug: 'wiring_value', maxAttempts: 1 })
class ValueFlow {
  constructor(private readonly greeting: string) {}

  @Step()
  say() {
    return this.greeting;
  }
}

@Flow({ slug: 'wiring_factory', maxAttempts: 1 })
class FactoryFlow {
  constructor(private readonly config: JobsConfig) {}

  @Step()
  limit() {
    return this.config.maxConcurrent;
  }
}

const db = useTestDatabase();
const apps = useApps();

describe('PgflowModule.forRootAsync', () => {
  it('useFactory with inject and imports: the factory gets the injected provider, its options apply', async () => {
    const seen: unknown[] = [];
    const { app, client } = await apps.start({
      url: db.url,
      providers: [HelloFlow],
      pgflowModule: PgflowModule.forRootAsync({
        imports: [JobsConfigModule],
        inject: [JobsConfig],
        useFactory: (config: JobsConfig) => {
          seen.push(config);
          return { worker: { ...FAST_WORKER, maxConcurrent: config.maxConcurrent, batchSize: 7 } };
        },
      }),
    });

    expect(seen).toEqual([expect.any(JobsConfig)]);
    const options = app.get<ResolvedPgflowOptions>(PGFLOW_MODULE_OPTIONS);
    expect(options.worker).toMatchObject({ maxConcurrent: 4, batchSize: 7, enabled: true });
    const run = await client.start(HelloFlow, { name: 'factory' });
    await expect(run.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { greet: 'hello factory' } });
  });

  it('useFactory may be async', async () => {
    const { client } = await apps.start({
      url: db.url,
      providers: [HelloFlow],
      pgflowModule: PgflowModule.forRootAsync({
        useFactory: async () => {
          await Promise.resolve();
          return { worker: FAST_WORKER };
        },
      }),
    });
    const run = await client.start(HelloFlow, { name: 'async' });
    await expect(run.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { greet: 'hello async' } });
  });

  it('useClass: the options class is instantiated with its dependencies and its options apply', async () => {
    const { app, client } = await apps.start({
      url: db.url,
      providers: [HelloFlow],
      pgflowModule: PgflowModule.forRootAsync({ imports: [JobsConfigModule], useClass: PgflowConfigService }),
    });

    expect(app.get<ResolvedPgflowOptions>(PGFLOW_MODULE_OPTIONS).worker.maxConcurrent).toBe(4);
    const run = await client.start(HelloFlow, { name: 'class' });
    await expect(run.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { greet: 'hello class' } });
  });

  it('useExisting: the options come from the provider an imported module exports', async () => {
    const { app, client } = await apps.start({
      url: db.url,
      providers: [HelloFlow],
      imports: [PgflowConfigModule],
      pgflowModule: PgflowModule.forRootAsync({ imports: [PgflowConfigModule], useExisting: PgflowConfigService }),
    });

    expect(app.get(JobsConfig).calls).toEqual(['createPgflowOptions']);
    expect(app.get<ResolvedPgflowOptions>(PGFLOW_MODULE_OPTIONS).worker.maxConcurrent).toBe(4);
    const run = await client.start(HelloFlow, { name: 'existing' });
    await expect(run.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { greet: 'hello existing' } });
  });

  it('forRootAsync options can disable the worker, like forRoot', async () => {
    const { client } = await apps.start({
      url: db.url,
      providers: [HelloFlow],
      pgflowModule: PgflowModule.forRootAsync({ useFactory: () => ({ worker: { enabled: false } }) }),
    });
    const run = await client.start(HelloFlow, { name: 'nobody' });
    await expect(run.wait({ timeoutMs: 200 })).rejects.toMatchObject({ code: 'PGFLOW_WAIT_TIMEOUT' });
  });
});

describe('PgflowModule in an application', () => {
  it('forRoot() without options boots with the defaults', async () => {
    const { app } = await apps.start({ url: db.url, providers: [HelloFlow], pgflowModule: PgflowModule.forRoot() });
    expect(app.get<ResolvedPgflowOptions>(PGFLOW_MODULE_OPTIONS)).toMatchObject({
      dataSource: undefined,
      compilation: 'verify',
      worker: { enabled: true, maxConcurrent: 10, batchSize: 10, heartbeatIntervalMs: 5000 },
    });
  });

  it('is global: a module that does not import it can inject FlowClient', async () => {
    const { app } = await apps.start({ url: db.url, providers: [HelloFlow], imports: [SignupModule] });
    await expect(app.get(SignupService).signUp('global')).resolves.toEqual({ greet: 'hello global' });
  });

  it('finds and runs flows provided with useValue and useFactory', async () => {
    const { client } = await apps.start({
      url: db.url,
      imports: [JobsConfigModule],
      providers: [
        { provide: 'VALUE_FLOW', useValue: new ValueFlow('from a value') },
        { provide: FactoryFlow, useFactory: (config: JobsConfig) => new FactoryFlow(config), inject: [JobsConfig] },
      ],
    });

    const byValue = await client.start(ValueFlow, {});
    const byFactory = await client.start('wiring_factory', {});
    await expect(byValue.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { say: 'from a value' } });
    await expect(byFactory.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { limit: 4 } });
  });

  it('runs steps on the provider instance the application holds', async () => {
    const instance = new ValueFlow('the same instance');
    const { app, client } = await apps.start({ url: db.url, providers: [{ provide: ValueFlow, useValue: instance }] });

    expect(app.get(ValueFlow)).toBe(instance);
    // Replaced after boot, as a test double would be: the worker calls what the instance holds now.
    const calls: unknown[] = [];
    instance.say = function (this: unknown) {
      calls.push(this);
      return 'replaced after boot';
    };
    const run = await client.start(ValueFlow, {});
    await expect(run.wait({ timeoutMs: 10_000 })).resolves.toMatchObject({ output: { say: 'replaced after boot' } });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toBe(instance);
  });
});
