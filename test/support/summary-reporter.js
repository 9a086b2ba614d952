/**
 * A Jest reporter that writes the run's totals as JSON to the file named by PGFLOW_TEST_SUMMARY (when
 * set), so that .ci/run can add up several test runs into its `N passed, N failed` line. A test file
 * that fails outside any test (an error in a hook, a leak the harness reports) counts as one failure.
 * Skipped (and todo) tests are counted apart: .ci/run counts them as failures, since every test must
 * run on both queue layers.
 * Plain JavaScript: Jest loads reporters without transforming them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export default class SummaryReporter {
  /** @param {unknown} _contexts @param {import('@jest/test-result').AggregatedResult} results */
  onRunComplete(_contexts, results) {
    const file = process.env.PGFLOW_TEST_SUMMARY;
    if (!file) return;
    const failedOutsideTests = results.testResults.filter(
      (result) =>
        result.numFailingTests === 0 && (result.testExecError !== undefined || Boolean(result.failureMessage)),
    ).length;
    const failed = results.numFailedTests + failedOutsideTests;
    mkdirSync(dirname(file), { recursive: true });
    const skipped = results.numPendingTests + results.numTodoTests;
    writeFileSync(file, `${JSON.stringify({ passed: results.numPassedTests, failed, skipped })}\n`);
  }
}
