import { FLOW_SLUG_MAX_LENGTH, RESERVED_SLUGS, SLUG_MAX_LENGTH, SLUG_PATTERN } from '../pgflow.constants.ts';

/** Whether a slug is valid for the engine (`pgflow.is_valid_slug`). */
export function isValidSlug(slug: unknown): slug is string {
  return (
    typeof slug === 'string' &&
    SLUG_PATTERN.test(slug) &&
    slug.length <= SLUG_MAX_LENGTH &&
    !RESERVED_SLUGS.includes(slug)
  );
}

/** Whether a slug is valid as a flow slug: a valid slug that is also a valid queue name. */
export function isValidFlowSlug(slug: unknown): slug is string {
  return isValidSlug(slug) && slug.length <= FLOW_SLUG_MAX_LENGTH;
}

/**
 * What is wrong with a slug, as the end of a sentence (`is too long: ...`), or undefined when it is
 * valid. Checks the flow-slug rules too when `kind` is 'flow'.
 */
export function slugProblem(slug: unknown, kind: 'flow' | 'step'): string | undefined {
  if (typeof slug !== 'string') return `is ${typeof slug}, not a string`;
  if (slug.length === 0) return 'is empty';
  if (RESERVED_SLUGS.includes(slug)) return `'${slug}' is reserved by the engine`;
  if (!SLUG_PATTERN.test(slug)) {
    return `'${slug}' is not a valid slug: use letters, digits and underscores, not starting with a digit (for example '${toSlug(slug)}')`;
  }
  const max = kind === 'flow' ? FLOW_SLUG_MAX_LENGTH : SLUG_MAX_LENGTH;
  if (slug.length > max) {
    const why = kind === 'flow' ? ' (a flow slug is also the name of its queue, which the queue layer limits)' : '';
    return `'${slug}' is ${slug.length} characters long, more than the ${max} allowed${why}`;
  }
  return undefined;
}

/** A valid slug close to any text: `AnalyzeWebsiteFlow` → `analyze_website_flow`, `my-flow` → `my_flow`. */
export function toSlug(text: string): string {
  const snake = text
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
  const slug = /^[0-9]/.test(snake) || snake === '' ? `_${snake}` : snake;
  return RESERVED_SLUGS.includes(slug) ? `${slug}_step` : slug;
}
