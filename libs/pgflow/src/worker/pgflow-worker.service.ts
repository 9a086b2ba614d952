import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { FlowCompiler } from '../compilation/flow-compiler.service.ts';
import { CONTROL_CHANNEL, sql, WORK_CHANNEL } from '../db/engine.sql.ts';
import { NotificationListener } from '../db/notification-listener.ts';
import { PgflowDatabase } from '../db/pgflow-database.ts';
import { PGFLOW_MODULE_OPTIONS } from '../pgflow.constants.ts';
import type { ResolvedPgflowOptions, ResolvedPgflowWorkerOptions } from '../pgflow-options.ts';
import type { LocalOutcomes } from '../registration/local-outcomes.ts';
import { PgflowRegistrations } from '../registration/pgflow-registrations.ts';
import { FlowScheduler } from '../schedules/flow-scheduler.ts';
import { sleep } from '../support/sleep.ts';
import { loadTelemetry, observeQueueDepth } from '../telemetry/pgflow-telemetry.ts';
import { type FlowPoller, newPoller } from './flow-poller.ts';
import { Heartbeat } from './heartbeat.ts';
import type { LocalClaim, LocalClaimer } from './local-claim.ts';
import { ResultBuffer } from './result-buffer.ts';
import { MAX_ROUND_TRIPS, RoundTrips } from './round-trips.ts';
import { RunCancelWatcher } from './run-cancel-watcher.ts';
import { TaskDispatcher } from './task-dispatcher.ts';
import { type WorkerState, WorkerStateMachine } from './worker-state.ts';

/**
 * The worker: one per registration and process, serving the registration's flows (or `worker.flows`). It keeps up to
 * `maxConcurrent` tasks running, refilling slots as they free up; each round trip ({@link RoundTrips})
 * reports the results of the tasks that finished meanwhile and claims new tasks, which the
 * {@link TaskDispatcher} runs. This class holds the lifecycle and the loop that decides when to
 * start a round trip and for which flow: it wakes up on the engine's notifications instead of
 * waiting out a poll interval, heartbeats and sweeps stalled tasks ({@link Heartbeat}), and stops
 * gracefully: running tasks get `shutdownTimeoutMs` to finish, the rest are handed back to the queue.
 */
@Injectable()
export class PgflowWorker implements OnApplicationBootstrap, BeforeApplicationShutdown, LocalClaimer {
  private readonly logger = new Logger('PgflowWorker');
  private readonly machine = new WorkerStateMachine();
  private readonly settings: ResolvedPgflowWorkerOptions;
  /** The DataSource of this worker's registration (undefined: the default one). */
  private readonly dataSource: string | undefined;
  private readonly results: ResultBuffer;
  private readonly dispatcher: TaskDispatcher;
  private readonly roundTrips: RoundTrips;
  private readonly cancels: RunCancelWatcher;
  private pollers: FlowPoller[] = [];
  private wakeUp: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;
  private heartbeat: Heartbeat | undefined;
  private scheduler: FlowScheduler | undefined;
  private stopping: Promise<void> | undefined;
  private unsubscribes: Array<() => unknown> = [];
  /** Task slots reserved for claims made by this process's starts (LocalClaim). */
  private localReserved = 0;

  constructor(
    @Inject(PGFLOW_MODULE_OPTIONS) options: ResolvedPgflowOptions,
    private readonly registrations: PgflowRegistrations,
    private readonly database: PgflowDatabase,
    private readonly listener: NotificationListener,
    private readonly compiler: FlowCompiler,
  ) {
    this.settings = options.worker;
    this.dataSource = options.dataSource;
    this.results = new ResultBuffer(database, this.logger);
    const wake = (): void => this.wakeUp?.();
    this.dispatcher = new TaskDispatcher(
      database,
      this.results,
      this.logger,
      this.settings.batchSize,
      options.limits.maxOutputBytes,
      wake,
    );
    this.roundTrips = new RoundTrips(
      database,
      this.settings,
      this.results,
      this.dispatcher,
      this.logger,
      () => this.outcomes(),
      wake,
    );
    this.cancels = new RunCancelWatcher(
      database,
      this.logger,
      (flowSlug) => this.pollers.some((p) => p.definition.slug === flowSlug),
      (runId, reason) => this.dispatcher.cancelRun(runId, reason),
    );
  }

  /** created, starting, running, stopping or stopped. */
  get state(): WorkerState {
    return this.machine.state;
  }

  /** The slugs of the flows this worker serves (empty until it has started). */
  get servedFlows(): readonly string[] {
    return this.pollers.map((p) => p.definition.slug);
  }

  /** This worker's rows in pgflow.workers, one per served flow (empty until it has started). */
  get workerIds(): readonly string[] {
    return this.pollers.map((p) => p.workerId);
  }

  /** Whether the worker is enabled in the options (it starts at bootstrap). */
  get enabled(): boolean {
    return this.settings.enabled;
  }

  /** Milliseconds between two heartbeats. */
  get heartbeatIntervalMs(): number {
    return this.settings.heartbeatIntervalMs;
  }

  /** How many tasks are running now. */
  get runningTasks(): number {
    return this.dispatcher.runningCount;
  }

  /**
   * The runs of the tasks this worker has in hand: being started, running, their result waiting for
   * a report or in one under way (LocalOutcomes: a wait() of such a run defers its LISTEN).
   */
  heldRunIds(): ReadonlySet<string> {
    const runIds = new Set<string>();
    this.dispatcher.addHeldRunIds(runIds);
    this.results.addRunIds(runIds);
    this.roundTrips.addReportedRunIds(runIds);
    return runIds;
  }

  async onApplicationBootstrap(): Promise<void> {
    await loadTelemetry();
    await this.compiler.compileAll();
    if (this.settings.enabled) await this.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  /** Registers the worker and starts polling (done at bootstrap when the worker is enabled). */
  async start(): Promise<void> {
    this.machine.transition('starting');
    try {
      const flows = this.registrations.workerFlowsOf(this.dataSource, this.settings.flows);
      this.pollers = flows.map((definition) => newPoller(definition, randomUUID()));
      if (this.pollers.length > 0) {
        const name = `nestjs-pgflow@${hostname()}:${process.pid}`;
        await this.database.query(sql.registerWorkers, [
          this.pollers.map((p) => p.workerId),
          this.pollers.map((p) => p.definition.slug),
          this.pollers.map(() => name),
          this.settings.declareDeadAfterMs,
        ]);
        this.unsubscribes.push(await this.listener.subscribe(WORK_CHANNEL, (queue) => this.onWork(queue)));
        this.unsubscribes.push(
          await this.listener.subscribe(CONTROL_CHANNEL, (payload) => this.cancels.onControl(payload)),
        );
        // The served flows' schedules: every worker process fires them, each tick once (the engine decides).
        const scheduled = this.pollers.filter((p) => p.definition.schedules.length > 0).map((p) => p.definition.slug);
        this.scheduler = new FlowScheduler(this.database, this.listener, this.logger, scheduled);
        if (this.machine.is('starting')) await this.scheduler.start();
        this.unsubscribes.push(
          this.listener.onReconnect(() => {
            this.wakeAll();
            // A cancel may have come while the LISTEN connection was down.
            void this.cancels.abortCancelled(this.dispatcher.runningRunIds());
          }),
        );
      }
    } catch (error) {
      this.machine.transition('stopped');
      throw error;
    }
    if (!this.machine.is('starting')) return; // stopped during startup
    this.machine.transition('running');
    if (this.pollers.length > 0) this.registrations.of(this.dataSource).localWorker = this;
    this.heartbeat = new Heartbeat(
      this.database,
      this.logger,
      this.pollers.map((p) => p.workerId),
      this.settings.heartbeatIntervalMs,
    );
    this.heartbeat.start();
    if (this.pollers.length > 0) this.unsubscribes.push(observeQueueDepth(() => this.queueDepths()));
    this.loopDone = this.loop();
    this.logger.log(
      this.pollers.length === 0
        ? 'Worker started with no flow to serve.'
        : `Worker started: ${this.pollers.map((p) => p.definition.slug).join(', ')} ` +
            `(maxConcurrent ${this.settings.maxConcurrent}, batchSize ${this.settings.batchSize}).`,
    );
  }

  /**
   * Stops gracefully; idempotent (every call returns the same promise). No new task is taken;
   * running tasks get up to shutdownTimeoutMs to finish and report; the rest are handed back to the
   * queue (their signal fires); the worker rows are marked stopped.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    if (this.machine.is('created', 'stopped')) {
      if (this.machine.is('created')) this.machine.transition('stopped');
      return;
    }
    this.machine.transition('stopping');
    const registration = this.registrations.of(this.dataSource);
    if (registration.localWorker === this) registration.localWorker = undefined;
    const deadline = Date.now() + this.settings.shutdownTimeoutMs;
    const heartbeatStopped = this.heartbeat?.stop();
    const schedulerStopped = this.scheduler?.stop();
    this.dispatcher.stop();
    this.wakeUp?.();
    await this.loopDone;
    await heartbeatStopped;
    await schedulerStopped;
    for (const unsubscribe of this.unsubscribes.splice(0)) await unsubscribe();

    const inFlight = this.dispatcher.runningCount;
    if (inFlight > 0) {
      this.logger.log(`Stopping: waiting up to ${this.settings.shutdownTimeoutMs} ms for ${inFlight} running task(s).`);
      await Promise.race([this.dispatcher.allSettled(), sleep(deadline - Date.now())]);
    }
    const handedBack = await this.dispatcher.handBack(this.pollers);
    // Results need a moment to be stored even when the tasks used all of the shutdown timeout.
    await this.roundTrips.drain(Math.max(deadline, Date.now() + 2_000));
    if (this.results.pending > 0) {
      this.logger.warn(
        `Stopped with ${this.results.pending} task result(s) not stored (database unreachable); ` +
          'those tasks will be retried after their timeout.',
      );
    }
    await this.database
      .query(sql.markWorkersStopped, [this.pollers.map((p) => p.workerId)])
      .catch((error: unknown) => this.logger.warn(`Could not mark the worker stopped: ${(error as Error).message}`));
    this.machine.transition('stopped');
    this.logger.log(
      `Worker stopped (${inFlight - handedBack} task(s) finished during shutdown, ${handedBack} handed back).`,
    );
  }

  private async loop(): Promise<void> {
    let rotation = 0;
    while (this.machine.is('running')) {
      const now = Date.now();
      if (now < this.roundTrips.pausedUntil) {
        await this.sleepUntil(this.roundTrips.pausedUntil);
        continue;
      }
      if (this.roundTrips.size >= MAX_ROUND_TRIPS) {
        await this.sleepUntil(Infinity); // woken when one ends
        continue;
      }
      const free = this.freeSlots();
      // A flow's queue is read by one round trip at a time, or by two when its last read found a backlog.
      const ready = this.pollers.filter(
        (p) => !p.retired && (p.claiming === 0 || (p.backlog && p.claiming < MAX_ROUND_TRIPS)),
      );
      const due = free > 0 ? ready.filter((p) => p.dueAt <= now) : [];
      // Rotate between due flows so that a busy flow cannot starve the others. Reported results may
      // make their flow's next steps ready: a round trip that reports them also claims for that flow.
      const pending = free > 0 ? this.pollerOfPendingResult() : undefined;
      const poller =
        due.length > 0
          ? due[rotation++ % due.length]
          : pending !== undefined && ready.includes(pending)
            ? pending
            : undefined;
      // Results alone wait for the round trip in flight to end, which then reports them and claims
      // what they made ready in one go; only a batch's worth of them is worth a round trip of its own.
      const reportAlone =
        this.results.pending >= this.settings.batchSize || (this.results.pending > 0 && this.roundTrips.size === 0);
      if (poller === undefined && !reportAlone) {
        await this.sleepUntil(free > 0 ? Math.min(...ready.map((p) => p.dueAt)) : Infinity);
        continue;
      }
      // A poller that is not due is here for its results: its queue is read only for what they make ready.
      this.roundTrips.launch(
        poller,
        poller === undefined ? 0 : Math.min(this.settings.batchSize, free),
        poller === undefined || poller.dueAt <= now,
      );
    }
    await this.roundTrips.allEnded();
  }

  /** Visible messages per served flow (the queue depth gauge, read when the meter provider collects). */
  private async queueDepths(): Promise<Map<string, number>> {
    const slugs = this.servedFlows;
    const [row] = await this.database.query<{ depths: string[] }>(sql.queueDepths(slugs));
    return new Map(slugs.map((slug, i) => [slug, Number(row?.depths[i] ?? 0)]));
  }

  /** The poller of the flow of the oldest result waiting to be reported, if any. */
  private pollerOfPendingResult(): FlowPoller | undefined {
    const slug = this.results.oldestFlowSlug();
    return slug === undefined ? undefined : this.pollers.find((p) => p.definition.slug === slug);
  }

  private onWork(queue: string): void {
    const poller = this.pollers.find((p) => p.definition.slug === queue);
    if (poller === undefined) return;
    poller.dueAt = 0;
    poller.notified += 1;
    this.wakeUp?.();
  }

  private wakeAll(): void {
    for (const poller of this.pollers) {
      poller.dueAt = 0;
      poller.notified += 1;
    }
    this.wakeUp?.();
  }

  private freeSlots(): number {
    return (
      this.settings.maxConcurrent - this.dispatcher.runningCount - this.roundTrips.reservedSlots - this.localReserved
    );
  }

  /**
   * A claim for FlowClient.start() of this process (see LocalClaim), only while this worker is idle
   * (no task running, no round trip or other such claim under way): up to a batch, the slots reserved
   * until the start's statement delivers what it claimed. A busy worker claims in batches, which costs
   * the database less per task than a claim in every start (3-step chains started by 20 callers at
   * once: 20% more runs/s than with a claim in every start; 4% more than with claims while idle).
   */
  claimFor(flowSlug: string): LocalClaim | undefined {
    const poller = this.pollers.find((p) => p.definition.slug === flowSlug);
    const idle = this.dispatcher.runningCount === 0 && this.roundTrips.size === 0 && this.localReserved === 0;
    if (!this.machine.is('running') || poller === undefined || poller.retired || !idle) return undefined;
    // Asking for a batch, not one: a claim that gets fewer than it asked for wakes no other worker.
    // (Idle, every slot is free.)
    const quantity = Math.min(this.settings.batchSize, this.freeSlots());
    this.localReserved += quantity;
    let delivered = false;
    return {
      workerId: poller.workerId,
      quantity,
      visibilityTimeout: this.settings.visibilityTimeout,
      knownRunIds: this.dispatcher.knownRunIds(),
      deliver: (tasks) => {
        if (delivered) return;
        delivered = true;
        this.localReserved -= quantity;
        // Stopping meanwhile: the tasks go back to the queue untouched, as at shutdown.
        if (tasks.length > 0 && this.machine.is('running')) {
          void this.dispatcher.dispatch(poller, tasks).then(() => this.outcomes().heldChanged());
        } else if (tasks.length > 0) void this.dispatcher.handBackClaimed(poller, tasks);
        // Nothing claimed (a first step with a startDelay, say): the queue is read again at once,
        // and that read says when its next message becomes visible.
        else poller.dueAt = 0;
        this.wakeUp?.();
      },
    };
  }

  /** The registration's waits, looked up when used (the registrations are complete by then). */
  private outcomes(): LocalOutcomes {
    return this.registrations.of(this.dataSource).outcomes;
  }

  private sleepUntil(epochMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = Number.isFinite(epochMs) ? setTimeout(done, Math.max(0, epochMs - Date.now())) : undefined;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }
}
