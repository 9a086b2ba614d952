import { parseHtmlPage, resolveLinks } from './html-page.ts';

const html = `<!doctype html><html><head><title> Tips &amp; tricks </title></head>
<body><nav><a href="/">Home</a></nav>
<main><h1>Tips</h1><p>First   sentence.
Second &lt;one&gt;.</p><a class="x" href="/docs#part">Docs</a> <a href="mailto:a@b.c">Mail</a></main></body></html>`;

describe('parseHtmlPage', () => {
  it('reads the title, the text of <main> without headings, and every link as written', () => {
    expect(parseHtmlPage('https://example.com/tips', html)).toEqual({
      url: 'https://example.com/tips',
      title: 'Tips & tricks',
      text: 'First sentence. Second <one>. Docs Mail',
      links: ['/', '/docs#part', 'mailto:a@b.c'],
    });
  });
});

describe('resolveLinks', () => {
  it('makes links absolute, drops fragments, duplicates, the page itself and non-http links', () => {
    const links = ['/', '../docs', '/docs#part', 'https://other.org/x', 'mailto:a@b.c', '#top', '/blog', '/blog'];
    expect(resolveLinks({ url: 'https://example.com/docs/intro', links })).toEqual([
      'https://example.com/',
      'https://example.com/docs',
      'https://other.org/x',
      'https://example.com/blog',
    ]);
  });
});
