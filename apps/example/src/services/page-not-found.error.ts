/** PageFetcher has no page for a URL (the example fetches nothing from the network). */
export class PageNotFoundError extends Error {
  override readonly name = 'PageNotFoundError';

  constructor(
    readonly url: string,
    readonly knownUrls: readonly string[],
  ) {
    super(
      `No page at ${url}: this example fetches nothing from the network, it serves the pages of ` +
        `apps/example/pages. Try one of: ${knownUrls.join(', ')}.`,
    );
  }
}
