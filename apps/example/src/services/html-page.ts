/**
 * Just enough HTML reading for the example's own pages: the title, the readable text and the link
 * targets. (A real application would use an HTML parser; these pages are small and well-formed.)
 */

/** A fetched page, as the `website` step outputs it. */
export interface Page {
  /** The URL it was fetched as. */
  readonly url: string;
  readonly title: string;
  /** The text of `<main>` (or `<body>`) without its headings, whitespace collapsed. */
  readonly text: string;
  /** The `href` of every link, as written in the page (relative ones included), in page order. */
  readonly links: string[];
}

export function parseHtmlPage(url: string, html: string): Page {
  const title = decodeEntities(/<title[^>]*>([\s\S]*?)<\/title>/i.exec(html)?.[1] ?? '').trim();
  const main = /<main[^>]*>([\s\S]*?)<\/main>/i.exec(html)?.[1] ?? /<body[^>]*>([\s\S]*?)<\/body>/i.exec(html)?.[1];
  // Headings are left out: the title already names the page, and they are not sentences.
  const body = (main ?? html).replace(/<h[1-6][^>]*>[\s\S]*?<\/h[1-6]>/gi, ' ');
  const text = decodeEntities(body.replace(/<[^>]+>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
  const links = [...html.matchAll(/<a\s[^>]*?href\s*=\s*"([^"]*)"/gi)].map((match) => decodeEntities(match[1] ?? ''));
  return { url, title, text, links };
}

/**
 * The absolute http(s) URLs of a page's links, fragments removed, each once, in page order; links
 * that lead nowhere to fetch (mailto:, javascript:, a bare `#section`) are left out.
 */
export function resolveLinks(page: Pick<Page, 'url' | 'links'>): string[] {
  const seen = new Set<string>();
  for (const href of page.links) {
    let target: URL;
    try {
      target = new URL(href, page.url);
    } catch {
      continue;
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') continue;
    target.hash = '';
    if (target.href !== new URL(page.url).href) seen.add(target.href);
  }
  return [...seen];
}

function decodeEntities(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&');
}
