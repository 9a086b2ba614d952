import { escapeHtml, html } from './html.ts';
import { layOut } from './run-graph.ts';

describe('html', () => {
  it('escapes every interpolated value, in text and in attributes', () => {
    const value = `<script>alert("x")</script>&'`;
    expect(html`<p title="${value}">${value}</p>`.text).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">' +
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>',
    );
  });

  it('inserts nested templates once, and nothing for null, undefined and false', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p>${inner}${[inner, inner]}${null}${undefined}${false}${0}</p>`.text).toBe(
      '<p><b>&lt;i&gt;</b><b>&lt;i&gt;</b><b>&lt;i&gt;</b>0</p>',
    );
    expect(escapeHtml('a & b')).toBe('a &amp; b');
  });
});

describe('layOut', () => {
  it('puts each step one column right of its deepest dependency, stacked in step order', () => {
    const placed = layOut([
      { stepSlug: 'a', stepType: 'single', dependsOn: [] },
      { stepSlug: 'b', stepType: 'single', dependsOn: ['a'] },
      { stepSlug: 'c', stepType: 'single', dependsOn: ['a'] },
      { stepSlug: 'd', stepType: 'single', dependsOn: ['a', 'c'] },
      { stepSlug: 'e', stepType: 'single', dependsOn: [] },
    ]);
    const cell = Object.fromEntries(placed.map(({ step, x, y }) => [step.stepSlug, [x, y]]));
    const [col0, col1, col2] = [cell.a?.[0], cell.b?.[0], cell.d?.[0]];
    expect(cell.c?.[0]).toBe(col1);
    expect(cell.e?.[0]).toBe(col0);
    expect(col0 !== undefined && col1 !== undefined && col2 !== undefined && col0 < col1 && col1 < col2).toBe(true);
    expect((cell.c?.[1] ?? 0) > (cell.b?.[1] ?? 0)).toBe(true);
    expect((cell.e?.[1] ?? 0) > (cell.a?.[1] ?? 0)).toBe(true);
  });
});
