import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { EXAMPLE_OPTIONS, type ResolvedExampleOptions } from '../example.options.ts';
import { type Page, parseHtmlPage } from './html-page.ts';
import { PageNotFoundError } from './page-not-found.error.ts';

/** The site the example "crawls": URL path on example.com → file in the pages folder. */
const SITE: Readonly<Record<string, string>> = {
  '/': 'index.html',
  '/docs': 'docs.html',
  '/docs/getting-started': 'getting-started.html',
  '/blog': 'blog.html',
};
const SITE_HOSTS = new Set(['example.com', 'www.example.com']);

/**
 * Fetches web pages, offline: the example ships the pages of https://example.com as HTML files, so
 * `npm start` needs no network and every run sees the same content.
 */
@Injectable()
export class PageFetcher {
  constructor(@Inject(EXAMPLE_OPTIONS) private readonly options: ResolvedExampleOptions) {}

  /** The URLs it can fetch. */
  knownUrls(): string[] {
    return Object.keys(SITE).map((path) => `https://example.com${path}`);
  }

  /** Whether `url` is a page of the site. */
  has(url: string): boolean {
    return this.fileFor(url) !== undefined;
  }

  /** Reads and parses the page at `url`; throws PageNotFoundError for a URL the site does not have. */
  async fetch(url: string): Promise<Page> {
    const file = this.fileFor(url);
    if (file === undefined) throw new PageNotFoundError(url, this.knownUrls());
    const html = await readFile(join(this.options.pagesDir, file), 'utf8');
    return parseHtmlPage(url, html);
  }

  private fileFor(url: string): string | undefined {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return undefined;
    }
    if (!SITE_HOSTS.has(parsed.hostname) || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
      return undefined;
    }
    const path = parsed.pathname.length > 1 ? parsed.pathname.replace(/\/+$/, '') : parsed.pathname;
    return Object.hasOwn(SITE, path) ? SITE[path] : undefined;
  }
}
