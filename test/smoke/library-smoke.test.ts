import { type INestApplication, Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Flow, FlowClient, PgflowModule, Step, type StepInput } from 'nestjs-pgflow';
import { useTestDatabase } from '../support/test-database.ts';

@Injectable()
class Greeter {
  greet(name: string) {
    return `hello ${name}`;
  }
}

@Flow({ slug: 'smoke_chain', baseDelay: 0 })
class SmokeFlow {
  constructor(private readonly greeter: Greeter) {}

  @Step()
  first(input: { name: string }) {
    return this.greeter.greet(input.name);
  }

  @Step({ dependsOn: ['first'] })
  second(deps: StepInput<SmokeFlow, 'first'>) {
    return deps.first.toUpperCase();
  }

  @Step({ dependsOn: ['second'] })
  third(deps: StepInput<SmokeFlow, 'second'>) {
    return { length: deps.second.length };
  }
}

const db = useTestDatabase();
let app: INestApplication;

afterEach(async () => {
  await app?.close();
});

it('runs a 3-step flow end to end', async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({ type: 'postgres', url: db.url, autoLoadEntities: true }),
      PgflowModule.forRoot({ worker: { maxConcurrent: 5 } }),
    ],
    providers: [Greeter, SmokeFlow],
  }).compile();
  app = moduleRef.createNestApplication();
  await app.init();
  const client = app.get(FlowClient);
  const started = Date.now();
  const run = await client.start(SmokeFlow, { name: 'ada' });
  const done = await run.wait({ timeoutMs: 10_000 });
  console.log('3-step run took', Date.now() - started, 'ms');
  expect(done.output).toEqual({ third: { length: 9 } });
});
