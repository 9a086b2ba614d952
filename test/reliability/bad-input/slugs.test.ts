/**
 * Invalid slugs, through every door: @Flow() and @Step() (the boot stops with
 * InvalidFlowDefinitionError naming the class, the slug and the rule), the engine's SQL functions
 * (SQLSTATE PF001 naming the slug, with a hint), and FlowClient.start / pgflow.start_flow (an
 * unknown flow). Each is refused with nothing written.
 */
import { Flow, FlowNotFoundError, InvalidFlowDefinitionError, Step } from 'nestjs-pgflow';
import { useApps } from '../../library/fixtures/pgflow-app.ts';
import { useTestDatabase } from '../../support/test-database.ts';
import { refusedWithoutWrites, sqlErrorOf } from '../support/no-writes.ts';

const db = useTestDatabase();
const apps = useApps();

/** Invalid for both kinds of slug. */
const INVALID: ReadonlyArray<readonly [string, string]> = [
  ['empty', ''],
  ['starting with a digit', '1st_step'],
  ['reserved', 'run'],
  ['with SQL metacharacters', "x'); drop table public.canary; --"],
  ['with a quote', "it's"],
  ['with a double quote', 'say"hi'],
  ['with unicode letters', 'café_naïve'],
  ['with a space', 'two words'],
  ['with a hyphen', 'my-flow'],
];
/** A flow slug is also its queue's name: at most 47 characters; a step slug at most 128. */
const FLOW_SLUGS = [...INVALID, ['too long (48 characters)', 'f'.repeat(48)] as const];
const STEP_SLUGS = [...INVALID, ['too long (129 characters)', 's'.repeat(129)] as const];

function flowWithSlug(slug: string) {
  @Flow({ slug })
  class BadFlowSlug {
    @Step()
    only() {
      return 1;
    }
  }
  return BadFlowSlug;
}

function flowWithStepSlug(slug: string) {
  @Flow({ slug: 'rel_bad_step_slug' })
  class BadStepSlug {
    @Step({ slug })
    only() {
      return 1;
    }
  }
  return BadStepSlug;
}

/** How PostgreSQL's format('%L') quotes a string. */
function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

beforeAll(async () => {
  await db.query('create table public.canary (id int)');
  await db.query("select pgflow.create_flow('rel_slug_host')");
});

afterAll(async () => {
  // The injection attempts among the slugs ended as data or errors: the canary is still there.
  expect(await db.query("select to_regclass('public.canary') is not null as present")).toEqual([{ present: true }]);
});

describe('an invalid flow slug', () => {
  it.each(FLOW_SLUGS)('%s in @Flow() stops the boot, naming the class and the slug', async (_label, slug) => {
    const error = await refusedWithoutWrites(db, () => apps.start({ url: db.url, providers: [flowWithSlug(slug)] }));

    expect(error).toBeInstanceOf(InvalidFlowDefinitionError);
    expect(error).toMatchObject({
      flowClass: 'BadFlowSlug',
      problems: [expect.objectContaining({ code: 'INVALID_FLOW_SLUG' })],
    });
    expect(error.message).toContain(slug === '' ? 'is empty' : `'${slug}'`);
  });

  it.each(FLOW_SLUGS)(
    '%s in pgflow.create_flow() fails with PF001, naming the slug, with a hint',
    async (_label, slug) => {
      const error = await refusedWithoutWrites(db, () =>
        db.query('select pgflow.create_flow(flow_slug => $1)', [slug]),
      );

      expect(sqlErrorOf(error)).toEqual({
        code: 'PF001',
        message: expect.stringContaining(`Invalid flow slug ${literal(slug)}`),
        hint: expect.any(String),
      });
    },
  );

  it.each(FLOW_SLUGS)('%s in pgflow.start_flow() fails with PF002 (no such flow)', async (_label, slug) => {
    const error = await refusedWithoutWrites(db, () => db.query("select pgflow.start_flow($1, '{}')", [slug]));

    expect(sqlErrorOf(error)).toMatchObject({ code: 'PF002', message: expect.stringContaining(literal(slug)) });
  });

  it.each(FLOW_SLUGS)('%s in FlowClient.start() fails with FlowNotFoundError', async (_label, slug) => {
    const { client } = await apps.start({ url: db.url, pgflow: { worker: { enabled: false } } });
    const error = await refusedWithoutWrites(db, () => client.start(slug, {}));

    expect(error).toBeInstanceOf(FlowNotFoundError);
    expect(error.message).toContain(`'${slug}'`);
  });
});

describe('an invalid step slug', () => {
  it.each(STEP_SLUGS)('%s in @Step() stops the boot, naming the class and the slug', async (_label, slug) => {
    const error = await refusedWithoutWrites(db, () =>
      apps.start({ url: db.url, providers: [flowWithStepSlug(slug)] }),
    );

    expect(error).toBeInstanceOf(InvalidFlowDefinitionError);
    expect(error).toMatchObject({
      flowClass: 'BadStepSlug',
      problems: [expect.objectContaining({ code: 'INVALID_STEP_SLUG' })],
    });
    expect(error.message).toContain(slug === '' ? 'is empty' : `'${slug}'`);
  });

  it.each(STEP_SLUGS)(
    '%s in pgflow.add_step() fails with PF001, naming the slug, with a hint',
    async (_label, slug) => {
      const error = await refusedWithoutWrites(db, () =>
        db.query("select pgflow.add_step(flow_slug => 'rel_slug_host', step_slug => $1)", [slug]),
      );

      expect(sqlErrorOf(error)).toEqual({
        code: 'PF001',
        message: expect.stringContaining(`Invalid step slug ${literal(slug)}`),
        hint: expect.any(String),
      });
    },
  );
});
