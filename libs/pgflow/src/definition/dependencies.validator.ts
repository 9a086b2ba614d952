/** Checks across the steps of a flow: duplicate slugs, dependencies, map fan-in and cycles. */

import type { StepDraft } from './flow-options.reader.ts';
import { closest, type ProblemList, quoteList } from './problem-list.ts';
import { findCycles } from './step-graph.ts';

/** Two steps with the same slug. */
export function checkDuplicateSlugs(drafts: readonly StepDraft[], problems: ProblemList): void {
  const bySlug = new Map<string, StepDraft[]>();
  for (const draft of drafts) {
    if (draft.slug !== undefined) bySlug.set(draft.slug, [...(bySlug.get(draft.slug) ?? []), draft]);
  }
  for (const [slug, same] of bySlug) {
    if (same.length < 2) continue;
    const methods = same.map((draft) => problems.where(draft.methodName));
    problems.add(
      'DUPLICATE_STEP_SLUG',
      `step slug '${slug}' is used by ${methods.join(' and ')}; a slug names one step. Give the others another ` +
        '@Step({ slug }).',
      same[1]?.methodName,
    );
  }
}

/** Unknown, duplicate and self dependencies, map steps with several dependencies, and cycles. */
export function checkDependencies(drafts: readonly StepDraft[], problems: ProblemList): void {
  const slugs = new Set(drafts.flatMap((draft) => (draft.slug === undefined ? [] : [draft.slug])));
  const methodToSlug = new Map(drafts.map((draft) => [draft.methodName, draft.slug]));
  const nodes: Array<{ slug: string; dependencies: string[] }> = [];
  const nodeSlugs = new Set<string>();
  for (const draft of drafts) {
    if (draft.dependsOn === undefined) continue;
    const { methodName } = draft;
    const seen = new Set<string>();
    for (const dependency of draft.dependsOn) {
      if (dependency === draft.slug) {
        problems.add(
          'SELF_DEPENDENCY',
          `the step depends on itself ('${dependency}'): remove it from dependsOn.`,
          methodName,
        );
      } else if (seen.has(dependency)) {
        problems.add(
          'DUPLICATE_DEPENDENCY',
          `dependsOn lists '${dependency}' twice: list each dependency once.`,
          methodName,
        );
      } else if (!slugs.has(dependency)) {
        problems.add(
          'UNKNOWN_DEPENDENCY',
          `dependsOn names '${dependency}', which is not a step of ${problems.className}. ` +
            unknownDependencyHint(dependency, slugs, methodToSlug),
          methodName,
        );
      }
      seen.add(dependency);
    }
    const distinct = [...seen].filter((dependency) => dependency !== draft.slug);
    if (draft.stepType === 'map' && distinct.length > 1) {
      problems.add(
        'MAP_STEP_DEPENDENCIES',
        `a map step maps over one array, so it takes at most one dependency, and it has ${distinct.length} ` +
          `(${quoteList(distinct)}). Add a single step that combines them into one array, and map over that.`,
        methodName,
      );
    }
    if (draft.slug !== undefined && !nodeSlugs.has(draft.slug)) {
      nodeSlugs.add(draft.slug);
      nodes.push({ slug: draft.slug, dependencies: distinct.filter((dependency) => slugs.has(dependency)) });
    }
  }
  const methodOf = new Map(drafts.map((draft) => [draft.slug, draft.methodName]));
  for (const cycle of findCycles(nodes)) {
    problems.add(
      'CYCLE',
      `steps form a dependency cycle: ${cycle.join(' → ')} (each depends on the next). A flow runs its steps in ` +
        'dependency order, so it must have no cycle: remove one of these dependencies.',
      methodOf.get(cycle[0]),
    );
  }
}

function unknownDependencyHint(
  dependency: string,
  slugs: ReadonlySet<string>,
  methodToSlug: ReadonlyMap<string, string | undefined>,
): string {
  const slugOfMethod = methodToSlug.get(dependency);
  if (slugOfMethod !== undefined) {
    return `'${dependency}' is the method of step '${slugOfMethod}'; dependsOn takes step slugs: write '${slugOfMethod}'.`;
  }
  const suggestion = closest(dependency, slugs);
  if (suggestion !== undefined) return `Did you mean '${suggestion}'?`;
  return slugs.size === 0 ? 'The flow has no valid step.' : `Its steps are ${quoteList([...slugs])}.`;
}
