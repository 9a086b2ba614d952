/**
 * A real headless Chromium for the dashboard's tests: Debian's `chromium` package driven by
 * playwright-core (browser downloads do not work here; `.ci/run` installs the package). A missing
 * browser fails the tests: they never skip.
 */
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.PGFLOW_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for a quiet, isolated browser on a shared CI machine (no network besides the test's server). */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  /** A fresh context (cookies, headers) closed after the test. */
  context(options?: { extraHTTPHeaders?: Record<string, string> }): Promise<BrowserContext>;
}

/**
 * Launches Chromium once for the test file; closes it after the file. playwright-core gives each
 * launch a fresh profile (--user-data-dir in a new temporary directory, removed at close).
 */
export function useBrowser(): TestBrowser {
  let browser: Browser | undefined;
  const contexts = new Set<BrowserContext>();
  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(
        `Chromium is missing at ${CHROMIUM_PATH}: the dashboard's browser tests need it. ` +
          'Install it with `apt-get update && apt-get install -y chromium` (.ci/run does), or set PGFLOW_CHROMIUM.',
      );
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
    });
  }, 90_000);
  afterEach(async () => {
    for (const context of [...contexts]) await context.close().catch(() => {});
    contexts.clear();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    async context(options = {}) {
      if (browser === undefined) throw new Error('The browser did not start (see the beforeAll error).');
      const context = await browser.newContext(options);
      context.setDefaultTimeout(20_000);
      contexts.add(context);
      return context;
    },
  };
}
