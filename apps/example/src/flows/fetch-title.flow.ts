import { Flow, Step } from 'nestjs-pgflow';
import { PageFetcher } from '../services/page-fetcher.service.ts';

/** The input of a run: the page whose title to fetch. */
export interface FetchTitleInput {
  readonly url: string;
}

/**
 * Fetches a page's title: one outbound request per run, so a burst of runs must not hammer a site.
 * The rate limit allows 2 fetches per second per host, across every replica of the app (the engine
 * counts them when tasks are claimed): start 10 runs for one host and they start 2 per second, while
 * runs for another host get their own 2 per second. Nothing is dropped: a task over the limit waits
 * for the next second. A URL that does not parse counts against the key `invalid`.
 */
@Flow({
  slug: 'fetch_title',
  maxAttempts: 2,
  baseDelay: 1,
  timeout: 10,
  rateLimit: { limit: 2, periodSeconds: 1, key: (input: FetchTitleInput) => hostOf(input.url) },
})
export class FetchTitleFlow {
  constructor(private readonly pages: PageFetcher) {}

  @Step()
  async page(input: FetchTitleInput): Promise<{ url: string; title: string }> {
    const page = await this.pages.fetch(input.url);
    return { url: page.url, title: page.title };
  }
}

/** The rate limit key of a URL: its host, lower-cased. */
export function hostOf(url: unknown): string {
  try {
    return new URL(String(url)).host.toLowerCase() || 'invalid';
  } catch {
    return 'invalid';
  }
}
