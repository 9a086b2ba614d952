/**
 * The example application's retention (EXAMPLE_RETENTION: completed runs 30 days, failed and
 * cancelled runs 90 days): at boot its worker deletes the runs that ended longer ago than that, and
 * keeps the others.
 */
import { EXAMPLE_RETENTION } from '../../apps/example/src/example.options.ts';
import { insertEndedRuns } from '../engine/support/old-runs.ts';
import { useTestDatabase } from '../support/test-database.ts';
import { waitFor } from '../support/wait-for.ts';
import { useExampleServer } from './support/example-app.ts';

const db = useTestDatabase();
const startServer = useExampleServer(() => db.url);

it('deletes the runs older than its limits at boot, and keeps the younger ones', async () => {
  expect(EXAMPLE_RETENTION).toEqual({ completedRuns: 30, failedRuns: 90 });
  await startServer(); // compiles the flows
  const ended = (status: 'completed' | 'failed', endedDaysAgo: number) =>
    insertEndedRuns(db, { flowSlug: 'analyze_website', stepSlug: 'website', status, count: 2, endedDaysAgo });
  const old = [...(await ended('completed', 31)), ...(await ended('failed', 91))];
  const kept = [...(await ended('completed', 29)), ...(await ended('failed', 89))];

  await startServer(); // its worker applies retention at boot
  const ids = async () =>
    (await db.query<{ run_id: string }>('select run_id from pgflow.runs')).map((row) => row.run_id).sort();
  await waitFor(async () => (await ids()).every((id) => !old.includes(id)), {
    timeoutMs: 30_000,
    description: 'the old runs to be deleted',
  });
  expect(await ids()).toEqual([...kept].sort());
});
