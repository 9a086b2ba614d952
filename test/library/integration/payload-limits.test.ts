/**
 * Payload limits seen from the library: the engine's (pgflow.limits, for every caller) come back as
 * the library's errors, and a process's own stricter limits (PgflowModule limits) refuse before
 * anything is sent.
 */
import {
  Flow,
  InvalidOptionsError,
  InvalidRunInputError,
  type MapStepContext,
  RunFailedError,
  Step,
} from 'nestjs-pgflow';
import { resolvePgflowOptions } from '../../../libs/pgflow/src/pgflow-options.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { useApps } from '../fixtures/pgflow-app.ts';

@Flow({ slug: 'limits_echo', maxAttempts: 1 })
class EchoFlow {
  @Step()
  echo(input: { text: string; repeat?: number }) {
    return input.text.repeat(input.repeat ?? 1);
  }
}

@Flow({ slug: 'limits_map', maxAttempts: 1 })
class MapFlow {
  @Step({ map: true })
  each(item: number, _ctx: MapStepContext) {
    return item;
  }
}

const db = useTestDatabase();
const apps = useApps();

afterEach(() => db.query('update pgflow.limits set max_input_bytes = default, max_map_tasks = default'));

async function runCount(slug: string): Promise<number> {
  const [row] = await db.query<{ n: number }>('select count(*)::int as n from pgflow.runs where flow_slug = $1', [
    slug,
  ]);
  return row?.n ?? 0;
}

describe("the engine's limits (pgflow.limits)", () => {
  it('refuse a start with InvalidRunInputError naming the size and the limit (PF011, PF012)', async () => {
    const { client } = await apps.start({ url: db.url, providers: [EchoFlow, MapFlow] });
    await db.query('update pgflow.limits set max_input_bytes = 1000, max_map_tasks = 3');

    const tooBig = await client.start(EchoFlow, { text: 'x'.repeat(2000) }).catch((error) => error);
    expect(tooBig).toBeInstanceOf(InvalidRunInputError);
    expect(tooBig.message).toMatch(/bytes: more than the 1000 bytes a run input may have/);
    const tooWide = await client.start(MapFlow, [1, 2, 3, 4]).catch((error) => error);
    expect(tooWide).toBeInstanceOf(InvalidRunInputError);
    expect(tooWide.message).toMatch(/more than the 3 tasks a map step may have/);
    expect(await runCount('limits_echo')).toBe(0);
    expect(await runCount('limits_map')).toBe(0);
  });
});

describe("a process's own limits (PgflowModule limits)", () => {
  it('refuse an input over limits.maxInputBytes before anything is sent', async () => {
    const { client } = await apps.start({
      url: db.url,
      providers: [EchoFlow],
      pgflow: { limits: { maxInputBytes: 100 } },
    });
    const error = await client.start(EchoFlow, { text: 'y'.repeat(200) }).catch((caught) => caught);
    expect(error).toBeInstanceOf(InvalidRunInputError);
    expect(error.message).toMatch(
      /input is \d+ bytes of JSON, more than this process's limit of 100 \(PgflowModule limits.maxInputBytes\)/,
    );
    expect(await runCount('limits_echo')).toBe(0);
    expect((await (await client.start(EchoFlow, { text: 'ok' })).wait({ timeoutMs: 10_000 })).output).toEqual({
      echo: 'ok',
    });
  });

  it('fail an attempt whose output is over limits.maxOutputBytes, saying so', async () => {
    const { client } = await apps.start({
      url: db.url,
      providers: [EchoFlow],
      pgflow: { limits: { maxOutputBytes: 500 } },
    });
    const run = await client.start(EchoFlow, { text: 'z', repeat: 1000 });
    const error = await run.wait({ timeoutMs: 10_000 }).catch((caught) => caught);
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.errorMessage).toMatch(
      /^\[OUTPUT_TOO_LARGE\] The output of step 'echo' is 1002 bytes of JSON; this process's limit is 500/,
    );
  });

  it('refuse a bad limit at boot, naming the option', () => {
    expect(() => resolvePgflowOptions({ limits: { maxInputBytes: 0 } })).toThrow(InvalidOptionsError);
    expect(() => resolvePgflowOptions({ limits: { maxInputBytes: 0 } })).toThrow(/limits\.maxInputBytes/);
    expect(() => resolvePgflowOptions({ limits: { maxOutputByte: 5 } as never })).toThrow(/limits\.maxOutputByte/);
  });
});
