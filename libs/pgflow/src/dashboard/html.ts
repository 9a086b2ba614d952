/**
 * HTML built from templates whose every interpolated value is escaped, unless it is itself HTML
 * built here: a run's output or error can hold `<script>` and must show as text.
 */

/** Markup produced by {@link html}: interpolated as it is, never escaped twice. */
export class SafeHtml {
  constructor(readonly text: string) {}

  toString(): string {
    return this.text;
  }
}

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** The text with the five characters that mean something in HTML (also inside attributes) escaped. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ENTITIES[character] ?? character);
}

/**
 * A template tag: `html\`<td>${value}</td>\``. Strings, numbers and other values are escaped;
 * SafeHtml and arrays of SafeHtml are inserted as markup; null, undefined and false insert nothing.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let text = strings[0] ?? '';
  values.forEach((value, i) => {
    text += fragment(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(text);
}

function fragment(value: unknown): string {
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map(fragment).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/** A value shown as text: JSON, indented (undefined shows as nothing). */
export function jsonText(value: unknown): string {
  if (value === undefined) return '';
  return JSON.stringify(value, null, 2) ?? '';
}
