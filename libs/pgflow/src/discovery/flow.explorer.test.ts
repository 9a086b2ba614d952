import { Inject, Injectable, type LoggerService, Module, type Provider, Scope } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Flow } from '../decorators/flow.decorator.ts';
import { Step } from '../decorators/step.decorator.ts';
import { FlowNotFoundError } from '../errors/flow-not-found.error.ts';
import { InvalidFlowDefinitionError } from '../errors/invalid-flow-definition.error.ts';
import type { StepInput } from '../types/flow-types.ts';
import type { StepContext } from '../types/step-context.ts';
import { FlowExplorer } from './flow.explorer.ts';
import { FlowRegistry } from './flow.registry.ts';
import { PgflowDiscoveryModule } from './pgflow-discovery.module.ts';

/** Collects what the application logs. */
class CapturingLogger implements LoggerService {
  readonly warnings: string[] = [];
  readonly errors: string[] = [];
  log(): void {}
  warn(message: unknown): void {
    this.warnings.push(String(message));
  }
  error(message: unknown): void {
    this.errors.push(String(message));
  }
}

@Injectable()
class ScraperService {
  fetch(url: string): { url: string; title: string } {
    return { url, title: `title of ${url}` };
  }
}

@Flow({ slug: 'class_flow' })
class ClassFlow {
  constructor(private readonly scraper: ScraperService) {}

  @Step()
  website(input: { url: string }): { url: string; title: string } {
    return this.scraper.fetch(input.url);
  }

  @Step({ dependsOn: ['website'] })
  summary(deps: StepInput<ClassFlow, 'website'>): string {
    return deps.website.title;
  }
}

@Flow({ slug: 'value_flow' })
class ValueFlow {
  @Step()
  only(): string {
    return 'from a useValue provider';
  }
}

@Flow({ slug: 'factory_flow' })
class FactoryFlow {
  constructor(readonly scraper: ScraperService) {}

  @Step()
  only(): string {
    return 'from a useFactory provider';
  }
}

@Injectable({ scope: Scope.REQUEST })
@Flow({ slug: 'request_flow' })
class RequestScopedFlow {
  @Step()
  only(): void {}
}

@Injectable({ scope: Scope.REQUEST })
class RequestContext {}

@Flow({ slug: 'implicit_request_flow' })
class ImplicitlyRequestScopedFlow {
  constructor(readonly context: RequestContext) {}

  @Step()
  only(): void {}
}

@Flow({ slug: 'transient_flow' })
class TransientFlow {
  @Step()
  only(): void {}
}

class NotAFlow {}

@Module({ providers: [ScraperService], exports: [ScraperService] })
class ScraperModule {}

/** A feature module, so that discovery is shown to search every module, not just the root. */
@Module({
  imports: [ScraperModule],
  providers: [
    ClassFlow,
    { provide: 'VALUE_FLOW', useValue: new ValueFlow() },
    {
      provide: FactoryFlow,
      useFactory: (scraper: ScraperService) => new FactoryFlow(scraper),
      inject: [ScraperService],
    },
    { provide: 'CLASS_FLOW_ALIAS', useExisting: ClassFlow },
    { provide: 'PLAIN_VALUE', useValue: { some: 'config' } },
    { provide: 'NULL_VALUE', useValue: null },
  ],
})
class FeatureModule {}

async function boot(metadata: Parameters<typeof Test.createTestingModule>[0]): Promise<{
  app: TestingModule;
  logger: CapturingLogger;
}> {
  const logger = new CapturingLogger();
  const app = await Test.createTestingModule({
    ...metadata,
    imports: [PgflowDiscoveryModule, ...(metadata.imports ?? [])],
  })
    .setLogger(logger)
    .compile();
  app.useLogger(logger);
  return { app, logger };
}

function context(): StepContext {
  return {
    runId: 'r',
    flowSlug: 'class_flow',
    stepSlug: 'website',
    taskIndex: 0,
    attempt: 1,
    flowInput: {},
    signal: new AbortController().signal,
    kind: 'single',
  };
}

describe('flow discovery in a Nest application', () => {
  let app: TestingModule;
  let logger: CapturingLogger;
  let registry: FlowRegistry;

  beforeAll(async () => {
    ({ app, logger } = await boot({ imports: [FeatureModule] }));
    await app.init();
    registry = app.get(FlowRegistry);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('finds flows registered as a class, with useValue and with useFactory, once each', () => {
    expect(registry.getSlugs().sort()).toEqual(['class_flow', 'factory_flow', 'value_flow']);
  });

  it('runs steps on the provider instance, with its injected dependencies', () => {
    const definition = registry.get(ClassFlow);
    expect(definition.instance).toBe(app.get(ClassFlow));
    expect(definition.steps[0]?.handler({ url: 'https://a.test' }, context())).toEqual({
      url: 'https://a.test',
      title: 'title of https://a.test',
    });
  });

  it('uses the instance a useValue provider holds', () => {
    expect(registry.get('value_flow').instance).toBe(app.get('VALUE_FLOW'));
    expect(registry.get(ValueFlow).slug).toBe('value_flow');
  });

  it('uses the instance a useFactory provider produced', () => {
    const definition = registry.get(FactoryFlow);
    expect(definition.instance).toBe(app.get(FactoryFlow));
    expect((definition.instance as FactoryFlow).scraper).toBeInstanceOf(ScraperService);
  });

  it('does not warn about a useExisting alias of a flow', () => {
    expect(logger.warnings.filter((warning) => warning.includes('ClassFlow is registered'))).toEqual([]);
  });

  it('throws FlowNotFoundError for an unknown slug, listing the known flows and how to register one', () => {
    const error = catchError(() => registry.get('nope'));
    expect(error).toBeInstanceOf(FlowNotFoundError);
    expect(error).toMatchObject({ flow: 'nope', reference: 'slug', code: 'PGFLOW_FLOW_NOT_FOUND' });
    expect(error.message).toMatch(/No flow with slug 'nope' is registered\. A flow is a provider class decorated/);
    expect(error.message).toMatch(/Known flows: 'class_flow', 'value_flow', 'factory_flow'\./);
  });

  it('explains why a class is not a flow: no @Flow(), or not discovered', () => {
    expect(catchError(() => registry.get(NotAFlow)).message).toMatch(
      /No flow for class NotAFlow is registered\. Class NotAFlow has no @Flow\(\{ slug \}\) decorator\./,
    );
    expect(catchError(() => registry.get(RequestScopedFlow)).message).toMatch(
      /Class RequestScopedFlow has @Flow\(\{ slug: 'request_flow' \}\) but no instance of it was discovered: list it/,
    );
  });

  it('looks several flows up at once (the worker option `flows`)', () => {
    expect(registry.getMany(['value_flow', ClassFlow]).map((definition) => definition.slug)).toEqual([
      'value_flow',
      'class_flow',
    ]);
    expect(() => registry.getMany(['value_flow', 'missing'])).toThrow(FlowNotFoundError);
  });

  it('returns the same definitions from the explorer', () => {
    expect(
      app
        .get(FlowExplorer)
        .explore()
        .map((definition) => definition.slug),
    ).toEqual(registry.getSlugs());
  });
});

describe('flow discovery errors and edge cases', () => {
  it('finds a flow registered with useClass under its base class token', async () => {
    @Flow({ slug: 'real_flow' })
    class RealFlow {
      @Step()
      only(): string {
        return 'real';
      }
    }
    class FakeFlow extends RealFlow {
      override only(): string {
        return 'fake';
      }
    }
    Step()(FakeFlow.prototype, 'only', Object.getOwnPropertyDescriptor(FakeFlow.prototype, 'only') as never);
    const { app } = await boot({ providers: [{ provide: RealFlow, useClass: FakeFlow }] });
    try {
      await app.init();
      const definition = app.get(FlowRegistry).get(RealFlow);
      expect(definition.flowClass).toBe(FakeFlow);
      expect(definition.steps[0]?.handler(undefined, context())).toBe('fake');
    } finally {
      await app.close();
    }
  });

  it('warns when one flow class is registered under two tokens, and keeps one flow', async () => {
    @Flow({ slug: 'twice_registered' })
    class TwiceFlow {
      @Step()
      only(): void {}
    }
    const { app, logger } = await boot({
      providers: [TwiceFlow, { provide: 'SECOND', useClass: TwiceFlow }],
    });
    try {
      await app.init();
      expect(app.get(FlowRegistry).getSlugs()).toEqual(['twice_registered']);
      expect(logger.warnings).toEqual([
        expect.stringMatching(/TwiceFlow is registered as a provider more than once \(tokens TwiceFlow and 'SECOND'\)/),
      ]);
    } finally {
      await app.close();
    }
  });

  it('refuses to boot when two classes declare the same flow slug, naming both', async () => {
    @Flow({ slug: 'same_slug' })
    class FirstFlow {
      @Step()
      only(): void {}
    }
    @Flow({ slug: 'same_slug' })
    class SecondFlow {
      @Step()
      only(): void {}
    }
    const error = await initError([FirstFlow, SecondFlow]);
    expect(error.problems).toEqual([expect.objectContaining({ code: 'DUPLICATE_FLOW_SLUG' })]);
    expect(error.message).toMatch(/SecondFlow and FirstFlow both declare @Flow\(\{ slug: 'same_slug' \}\)/);
  });

  it('refuses to boot on an invalid flow, naming the class and method', async () => {
    @Flow({ slug: 'broken' })
    class BrokenFlow {
      @Step({ dependsOn: ['missing'] })
      only(): void {}
    }
    const error = await initError([BrokenFlow]);
    expect(error.message).toMatch(/BrokenFlow\.only\(\): dependsOn names 'missing'/);
  });

  it('refuses to boot on a provider with @Step() methods but no @Flow()', async () => {
    @Injectable()
    class StepsWithoutFlow {
      @Step()
      only(): void {}
    }
    const error = await initError([StepsWithoutFlow]);
    expect(error.problems[0]?.code).toBe('MISSING_FLOW_DECORATOR');
  });

  it.each<[string, Provider[], RegExp]>([
    ['RequestScopedFlow', [RequestScopedFlow], /has request scope \(Scope\.REQUEST/],
    ['ImplicitlyRequestScopedFlow', [ImplicitlyRequestScopedFlow, RequestContext], /a dependency on a request-scoped/],
    ['TransientFlow', [{ provide: TransientFlow, useClass: TransientFlow, scope: Scope.TRANSIENT }], /transient scope/],
  ])('refuses to boot on a flow that is not a singleton: %s', async (name, providers, scope) => {
    const error = await initError(providers);
    expect(error.flowClass).toBe(name);
    expect(error.problems).toEqual([expect.objectContaining({ code: 'FLOW_NOT_SINGLETON' })]);
    expect(error.message).toMatch(scope);
    expect(error.message).toMatch(/flows must be singleton-scoped/);
  });

  it('throws the first invalid flow and logs the others', async () => {
    @Flow({ slug: 'bad_one' })
    class BadOneFlow {}
    @Flow({ slug: 'bad_two' })
    class BadTwoFlow {}
    const logger = new CapturingLogger();
    const error = await initError([BadOneFlow, BadTwoFlow], logger);
    expect(error.flowClass).toBe('BadOneFlow');
    expect(logger.errors).toEqual([expect.stringMatching(/^Invalid flow class BadTwoFlow/)]);
  });

  it('fills the registry at the first lookup when it comes before onModuleInit', async () => {
    @Flow({ slug: 'early' })
    class EarlyFlow {
      @Step()
      only(): void {}
    }
    @Injectable()
    class EarlyUser {
      constructor(@Inject(FlowRegistry) readonly registry: FlowRegistry) {}
    }
    const { app } = await boot({ providers: [EarlyFlow, EarlyUser] });
    try {
      expect(app.get(EarlyUser).registry.getSlugs()).toEqual(['early']);
    } finally {
      await app.close();
    }
  });
});

async function initError(providers: Provider[], logger?: CapturingLogger): Promise<InvalidFlowDefinitionError> {
  const booted = await boot({ providers });
  if (logger !== undefined) booted.app.useLogger(logger);
  try {
    await booted.app.init();
  } catch (error) {
    if (error instanceof InvalidFlowDefinitionError) return error;
    throw error;
  } finally {
    await booted.app.close();
  }
  throw new Error('expected the application to refuse to boot');
}

function catchError(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    if (error instanceof Error) return error;
  }
  throw new Error('expected an error');
}
