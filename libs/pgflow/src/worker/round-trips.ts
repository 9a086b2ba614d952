import type { Logger } from '@nestjs/common';
import { sql } from '../db/engine.sql.ts';
import type { PgflowDatabase } from '../db/pgflow-database.ts';
import { isConnectionError, sqlStateOf } from '../db/sql-state.ts';
import type { ResolvedPgflowWorkerOptions } from '../pgflow-options.ts';
import type { LocalOutcomes, RunOutcomeJson } from '../registration/local-outcomes.ts';
import { Backoff } from '../support/backoff.ts';
import { sleep } from '../support/sleep.ts';
import { type ClaimRow, type FlowPoller, nextPollAt } from './flow-poller.ts';
import type { ResultBuffer, Results } from './result-buffer.ts';
import type { TaskDispatcher } from './task-dispatcher.ts';
import type { ClaimedTask } from './task-execution.ts';

/**
 * Round trips in flight at once. Two let the database work on one batch while the other's rows
 * travel and its tasks are dispatched (a server has more than one core); the second starts only
 * when there is a backlog or results to report, so an idle worker still polls once.
 */
export const MAX_ROUND_TRIPS = 2;

/** A row of pgflow._report_and_claim: a claimed task, when to poll next, or an awaited run's outcome. */
type ReportRow = ClaimRow & { readonly run_outcome: RunOutcomeJson | null };

/**
 * The worker's round trips to the engine. Each reports every result waiting in the ResultBuffer and
 * claims up to a number of tasks of one flow, in one statement (pgflow._report_and_claim: one
 * commit, however many tasks), then hands the claimed tasks to the TaskDispatcher. When one fails:
 * - the database is unreachable: the results go back to the buffer, and no round trip starts before
 *   a backoff has passed ({@link pausedUntil});
 * - the batch failed otherwise: each result is reported on its own (ResultBuffer.isolate); those
 *   that failed again for a reason of the moment (a deadlock, a lock or statement timeout) are
 *   kept, and reported again after a backoff, never turned into failures;
 * - the claim failed: that flow's next claim waits for a backoff.
 * A report that ends a run a wait() of this process waits for settles that wait (LocalOutcomes).
 * Which flow to claim for, and when, is the worker loop's decision; this class only carries it out.
 */
export class RoundTrips {
  private readonly inFlight = new Set<Promise<void>>();
  /** The results of the reports under way. */
  private readonly reporting = new Set<Results>();
  private readonly backoff = new Backoff(100, 5_000);
  /** While the database is unreachable, or results wait to be stored again: no round trip before this time (epoch ms). */
  private pausedUntilMs = 0;
  /** The last failure was a lost connection: say so when a round trip succeeds again. */
  private unreachable = false;
  /** Results are waiting to be stored again after a failure of the moment. */
  private storeRetrying = false;
  /** Task slots the claims in flight may fill. */
  private reserved = 0;

  /**
   * @param outcomes the wait()s of this process in the worker's database.
   * @param onEnded called when a round trip ended (a slot of its own, and maybe task slots, are free).
   */
  constructor(
    private readonly database: PgflowDatabase,
    private readonly settings: ResolvedPgflowWorkerOptions,
    private readonly results: ResultBuffer,
    private readonly dispatcher: TaskDispatcher,
    private readonly logger: Logger,
    private readonly outcomes: () => LocalOutcomes,
    private readonly onEnded: () => void,
  ) {}

  /** Round trips in flight now. */
  get size(): number {
    return this.inFlight.size;
  }

  /** Task slots reserved for the tasks the round trips in flight may claim. */
  get reservedSlots(): number {
    return this.reserved;
  }

  /** No round trip should start before this time (epoch ms): the database was unreachable, or results wait for a retry. */
  get pausedUntil(): number {
    return this.pausedUntilMs;
  }

  /**
   * Starts a round trip without waiting for it: it reports the pending results and claims up to
   * `quantity` tasks of `poller`'s flow (none without a poller). Its claim's slots are reserved
   * until it ends. `poll` false: the poller is not due (its queue was read lately, no wake-up since),
   * so the engine reads the queue only for what the report itself makes ready.
   */
  launch(poller: FlowPoller | undefined, quantity: number, poll = true): void {
    this.reserved += quantity;
    if (poller !== undefined) poller.claiming += 1;
    const trip = this.run(poller, quantity, poll)
      // Every failure the round trip expects is handled inside; anything else is logged, never left
      // as an unhandled rejection (which ends the process under Node's defaults).
      .catch((error: unknown) =>
        this.logger.error(`A round trip failed unexpectedly: ${(error as Error)?.message}`, (error as Error)?.stack),
      )
      .finally(() => {
        this.reserved -= quantity;
        if (poller !== undefined) poller.claiming -= 1;
        this.inFlight.delete(trip);
        this.onEnded();
        this.outcomes().heldChanged();
      });
    this.inFlight.add(trip);
  }

  /** Adds the runs of the results being reported to `runIds`. */
  addReportedRunIds(runIds: Set<string>): void {
    for (const results of this.reporting) for (const runId of reportedRunIds(results)) runIds.add(runId);
  }

  /** Resolves when every round trip in flight has ended. */
  async allEnded(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  /** Reports what is left at shutdown, until it is stored or the deadline passes. */
  async drain(deadline: number): Promise<void> {
    while (this.results.pending > 0 && Date.now() < deadline) {
      if (Date.now() < this.pausedUntilMs) await sleep(Math.min(this.pausedUntilMs, deadline) - Date.now());
      else await this.run(undefined, 0);
    }
  }

  private async run(poller: FlowPoller | undefined, quantity: number, poll = true): Promise<void> {
    const outcomes = this.outcomes();
    const results = this.results.take();
    const notified = poller?.notified;
    const awaited = outcomes.startReport(reportedRunIds(results));
    this.reporting.add(results);
    let reported: ReportRow[];
    try {
      reported = await this.database.query<ReportRow>(sql.reportAndClaim, [
        JSON.stringify(results.completions),
        JSON.stringify(results.failures),
        poller?.definition.slug ?? null,
        quantity,
        this.settings.visibilityTimeout,
        poller?.workerId ?? null,
        this.dispatcher.knownRunIds(),
        poll,
        awaited,
      ]);
    } catch (error) {
      outcomes.reportEnded(awaited);
      // The results stay in hand (held, see heldRunIds) while failed() reports them one by one.
      await this.failed(error, results, poller);
      return;
    } finally {
      this.reporting.delete(results);
    }
    // This statement carried every result that was waiting (take() takes them all).
    if (this.unreachable) this.logger.log('Database reachable again: the worker resumed.');
    if (this.storeRetrying) this.logger.log('The task results that had to wait are stored.');
    this.unreachable = false;
    this.storeRetrying = false;
    this.backoff.reset();
    let rows: ClaimRow[] = reported;
    if (awaited.length > 0) {
      outcomes.deliver(reported.flatMap((row) => (row.run_outcome === null ? [] : [row.run_outcome])));
      rows = reported.filter((row) => row.run_outcome === null);
    }
    outcomes.reportEnded(awaited);
    if (poller === undefined) return;
    const tasks = rows.filter((row): row is ClaimRow & ClaimedTask => row.run_id !== null);
    poller.backlog = tasks.length > 0 && tasks.length >= quantity;
    if (rows.length === 0) {
      // The engine did not read the queue (poll false, nothing made ready): when to read it next
      // stands, unless a wake-up came meanwhile.
      if (poller.notified !== notified) poller.dueAt = 0;
      return;
    }
    if (tasks.length === 0) {
      // Work notified while this read was under way may not have been visible to it: read again.
      poller.dueAt = poller.notified === notified ? nextPollAt(rows[0], this.settings) : 0;
      return;
    }
    // A claim that got fewer tasks than it asked for, alone on its flow, took every message it could
    // start: reading the queue again at once would find it empty, and a result of the tasks just
    // claimed would wait for that read to end. The next read comes with the report of those tasks
    // (which claims what they make ready), at a notification of new work, or after pollIntervalMs
    // (the read then says when a delayed message becomes visible). With another claim of the flow
    // in flight (a backlog), the queue is read again at once, as with a full claim.
    const drained = !poller.backlog && poller.claiming === 1 && poller.notified === notified;
    poller.dueAt = drained ? Date.now() + this.settings.pollIntervalMs : 0;
    await this.dispatcher.dispatch(poller, tasks);
  }

  private async failed(error: unknown, results: Results, poller: FlowPoller | undefined): Promise<void> {
    const reported = results.completions.length + results.failures.length;
    if (isConnectionError(error)) {
      this.results.putBack(results);
      this.pausedUntilMs = Date.now() + this.backoff.next();
      if (!this.unreachable) {
        this.logger.error(`Database unreachable (${(error as Error).message}); retrying with a backoff.`);
      }
      this.unreachable = true;
      return;
    }
    if (reported > 0) {
      // Report each result on its own (no claim this time): one the engine refuses cannot block the
      // others, and most of a batch that lost a race (a deadlock, a lock timeout) goes through so.
      const { kept, cause } = await this.results.isolate(results);
      if (kept > 0) this.retryStoring(kept, cause);
      return;
    }
    const slug = poller?.definition.slug ?? '(none)';
    this.logger.error(`Could not claim tasks of '${slug}': ${(error as Error).message}`, (error as Error).stack);
    if (poller !== undefined) poller.dueAt = Date.now() + this.backoff.next();
  }

  /** Results that could not be stored for a reason of the moment: the next round trip waits a backoff. */
  private retryStoring(kept: number, cause: unknown): void {
    const wait = this.backoff.next();
    this.pausedUntilMs = Date.now() + wait;
    const state = sqlStateOf(cause) ?? 'none';
    const what = `${kept} task result(s) could not be stored for now (SQLSTATE ${state}: ${(cause as Error)?.message})`;
    if (this.storeRetrying) {
      this.logger.debug(`${what}; reporting them again in ${wait} ms.`);
    } else {
      this.logger.warn(`${what}; they are kept and reported again with a backoff.`);
    }
    this.storeRetrying = true;
  }
}

/** The runs of the reported tasks. */
function* reportedRunIds(results: Results): Iterable<string> {
  for (const completion of results.completions) yield completion.run_id;
  for (const failure of results.failures) yield failure.run_id;
}
