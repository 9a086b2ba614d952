/**
 * The library's TypeORM migrations, in the order they apply. Append only: a released migration
 * never changes; a change is a new migration at the end of this list.
 */
import type { MigrationInterface } from 'typeorm';
import { QueueLayer1764150000000 } from './1764150000000-queue-layer.ts';
import { AdoptPgflow1764150050000 } from './1764150050000-adopt-pgflow.ts';
import { Engine1764150100000 } from './1764150100000-engine.ts';
import { SqlHelpers1796403403634 } from './1796403403634-sql-helpers.ts';
import { Hardening1796404397409 } from './1796404397409-hardening.ts';
import { PgflowCompatibility1796405279742 } from './1796405279742-pgflow-compatibility.ts';
import { AdoptPgflowData1796406357120 } from './1796406357120-adopt-pgflow-data.ts';
import { DeadWorkers1796406907140 } from './1796406907140-dead-workers.ts';
import { DeploySafety1796407330739 } from './1796407330739-deploy-safety.ts';
import { FlowEvents1796407918837 } from './1796407918837-flow-events.ts';
import { PgmqSearchPath1796408033597 } from './1796408033597-pgmq-search-path.ts';
import { FlowAlias1796446934275 } from './1796446934275-flow-alias.ts';
import { RunControl1796447054813 } from './1796447054813-run-control.ts';
import { DurableSleep1796458312108 } from './1796458312108-durable-sleep.ts';
import { Schedules1796458353392 } from './1796458353392-schedules.ts';
import { Retention1796461623825 } from './1796461623825-retention.ts';
import { Tracing1796461963906 } from './1796461963906-tracing.ts';
import { Signals1796472820082 } from './1796472820082-signals.ts';
import { Subflows1796476274064 } from './1796476274064-subflows.ts';
import { RunPriorities1796527147774 } from './1796527147774-run-priorities.ts';
import { RateLimits1796527419454 } from './1796527419454-rate-limits.ts';
import { Latency1796530952156 } from './1796530952156-latency.ts';
import { ConcurrencyLimits1796563483158 } from './1796563483158-concurrency-limits.ts';
import { NotificationCosts1796598130079 } from './1796598130079-notification-costs.ts';
import { TimeOrderedRunIds1796598500040 } from './1796598500040-time-ordered-run-ids.ts';
import { HotUpdates1796598575434 } from './1796598575434-hot-updates.ts';
import { StartAndClaim1796599236786 } from './1796599236786-start-and-claim.ts';
import { ReportWithoutRead1796599911171 } from './1796599911171-report-without-read.ts';
import { WakeAfterClaim1796601252440 } from './1796601252440-wake-after-claim.ts';
import { LocalOutcomes1796605878913 } from './1796605878913-local-outcomes.ts';
import { RowRules1796615632959 } from './1796615632959-row-rules.ts';
import { CompleteWithLastStep1796618839230 } from './1796618839230-complete-with-last-step.ts';
import { DelayedWorkWakeUp1796626217548 } from './1796626217548-delayed-work-wake-up.ts';
import { LeanEvents1796626990007 } from './1796626990007-lean-events.ts';
import { InlineTaskLookup1796645990403 } from './1796645990403-inline-task-lookup.ts';
import { StaticQueueStatements1796648677178 } from './1796648677178-static-queue-statements.ts';
import { ClaimedStart1796668686466 } from './1796668686466-claimed-start.ts';
import { ClaimedReport1796669731772 } from './1796669731772-claimed-report.ts';
import { LinearBatches1796684256211 } from './1796684256211-linear-batches.ts';
import { ClaimedPathHelpers1796685094045 } from './1796685094045-claimed-path-helpers.ts';
import { LinearCompletions1796690796575 } from './1796690796575-linear-completions.ts';
import { TextEvents1796692800647 } from './1796692800647-text-events.ts';
import { OneNotificationLimit1796696826517 } from './1796696826517-one-notification-limit.ts';
import { CompletionsByAddress1796699826623 } from './1796699826623-completions-by-address.ts';
import { ClaimsPastTasksInFlight1796704629654 } from './1796704629654-claims-past-tasks-in-flight.ts';
import { SweepsPastTasksInFlight1796706107506 } from './1796706107506-sweeps-past-tasks-in-flight.ts';

export const pgflowMigrations: ReadonlyArray<new () => MigrationInterface> = [
  QueueLayer1764150000000,
  AdoptPgflow1764150050000,
  Engine1764150100000,
  SqlHelpers1796403403634,
  Hardening1796404397409,
  PgflowCompatibility1796405279742,
  AdoptPgflowData1796406357120,
  DeadWorkers1796406907140,
  DeploySafety1796407330739,
  FlowEvents1796407918837,
  PgmqSearchPath1796408033597,
  FlowAlias1796446934275,
  RunControl1796447054813,
  DurableSleep1796458312108,
  Schedules1796458353392,
  Retention1796461623825,
  Tracing1796461963906,
  Signals1796472820082,
  Subflows1796476274064,
  RunPriorities1796527147774,
  RateLimits1796527419454,
  Latency1796530952156,
  ConcurrencyLimits1796563483158,
  NotificationCosts1796598130079,
  TimeOrderedRunIds1796598500040,
  HotUpdates1796598575434,
  StartAndClaim1796599236786,
  ReportWithoutRead1796599911171,
  WakeAfterClaim1796601252440,
  LocalOutcomes1796605878913,
  RowRules1796615632959,
  CompleteWithLastStep1796618839230,
  DelayedWorkWakeUp1796626217548,
  LeanEvents1796626990007,
  InlineTaskLookup1796645990403,
  StaticQueueStatements1796648677178,
  ClaimedStart1796668686466,
  ClaimedReport1796669731772,
  LinearBatches1796684256211,
  ClaimedPathHelpers1796685094045,
  LinearCompletions1796690796575,
  TextEvents1796692800647,
  OneNotificationLimit1796696826517,
  CompletionsByAddress1796699826623,
  ClaimsPastTasksInFlight1796704629654,
  SweepsPastTasksInFlight1796706107506,
];
