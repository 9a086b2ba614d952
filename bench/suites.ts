/**
 * Every benchmark suite, in the order `npm run bench` runs them. A new suite is a file exporting a
 * BenchSuite (see support/suite.ts), added to this list. The peers suite's code is a package of its
 * own, installed on demand (support/peers-package.ts).
 */
import { concurrencySuite } from './concurrency/concurrency.suite.ts';
import { dashboardSuite } from './dashboard/dashboard.suite.ts';
import { costSuite } from './engine/cost.suite.ts';
import { engineSuite } from './engine/engine.suite.ts';
import { inFlightSuite } from './engine/in-flight.suite.ts';
import { notificationsSuite } from './engine/notifications.suite.ts';
import { floorSuite } from './floor/floor.suite.ts';
import { queueSuite } from './queue/queue.suite.ts';
import { scalingSuite } from './scaling/scaling.suite.ts';
import { peersSuite } from './support/peers-package.ts';
import type { BenchSuite } from './support/suite.ts';
import { telemetrySuite } from './worker/telemetry.suite.ts';
import { workerSuite } from './worker/worker.suite.ts';

export const suites: readonly BenchSuite[] = [
  floorSuite,
  queueSuite,
  engineSuite,
  costSuite,
  inFlightSuite,
  notificationsSuite,
  concurrencySuite,
  workerSuite,
  scalingSuite,
  telemetrySuite,
  dashboardSuite,
  peersSuite,
];
