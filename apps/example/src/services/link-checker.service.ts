import { Injectable } from '@nestjs/common';
import { PageFetcher } from './page-fetcher.service.ts';

/**
 * What the check of one link found: `ok` (a page of the site), `broken` (a URL of the site with no
 * page), `external` (another site, not checked: the example stays offline) or `invalid` (not an
 * http(s) URL).
 */
export interface LinkCheck {
  readonly url: string;
  readonly status: 'ok' | 'broken' | 'external' | 'invalid';
}

/** Checks links against the site PageFetcher serves. */
@Injectable()
export class LinkChecker {
  constructor(private readonly pages: PageFetcher) {}

  check(url: string): LinkCheck {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { url, status: 'invalid' };
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { url, status: 'invalid' };
    if (parsed.hostname !== 'example.com' && parsed.hostname !== 'www.example.com') return { url, status: 'external' };
    return { url, status: this.pages.has(url) ? 'ok' : 'broken' };
  }
}
