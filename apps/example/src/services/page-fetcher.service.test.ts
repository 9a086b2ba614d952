import { resolveExampleOptions } from '../example.options.ts';
import { PageFetcher } from './page-fetcher.service.ts';
import { PageNotFoundError } from './page-not-found.error.ts';

const fetcher = new PageFetcher(resolveExampleOptions({ databaseUrl: 'postgres://unused' }));

describe('PageFetcher', () => {
  it('reads a page of the site from the files the example ships', async () => {
    const page = await fetcher.fetch('https://example.com/docs');
    expect(page.title).toBe('Documentation: durable workflows in PostgreSQL');
    expect(page.links).toContain('/docs/getting-started');
  });

  it('accepts the same page with a trailing slash, a query, or www', async () => {
    for (const url of ['https://example.com/docs/', 'https://www.example.com/docs?ref=1', 'http://example.com/docs']) {
      expect((await fetcher.fetch(url)).title).toBe('Documentation: durable workflows in PostgreSQL');
    }
  });

  it('refuses a URL it has no page for, listing the ones it has', async () => {
    const error = await fetcher.fetch('https://example.com/missing').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PageNotFoundError);
    expect(error).toMatchObject({
      url: 'https://example.com/missing',
      message: expect.stringContaining('Try one of: https://example.com/, https://example.com/docs,'),
    });
    await expect(fetcher.fetch('https://elsewhere.org/docs')).rejects.toThrow(PageNotFoundError);
    await expect(fetcher.fetch('not a url')).rejects.toThrow(PageNotFoundError);
  });

  it('says which URLs it has', () => {
    expect(fetcher.has('https://example.com/blog')).toBe(true);
    expect(fetcher.has('https://example.com/docs/retries')).toBe(false);
  });
});
