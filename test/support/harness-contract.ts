/**
 * What the Jest parts of the harness hand each other: the global setup (parent process) passes
 * the server and template through environment variables; the test environment (worker process)
 * and the test-file helpers meet on one global object.
 */
export const SERVER_URL_ENV = 'PGFLOW_TEST_SERVER_URL';
export const TEMPLATE_ENV = 'PGFLOW_TEST_TEMPLATE';
export const HARNESS_GLOBAL = '__pgflowTestHarness';

export interface HarnessState {
  /** Connection string of the server's maintenance database. */
  readonly serverUrl: string;
  /** The migrated template every test database is cloned from. */
  readonly template: string;
  /** Databases this test file created; the environment drops them when the file ends. */
  readonly databases: string[];
  /** Resources the helpers opened; closed (last first) when the file ends, before the leak check. */
  readonly closers: Array<() => Promise<void>>;
}
