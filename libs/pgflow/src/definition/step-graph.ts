/**
 * Graph algorithms over a flow's steps. Nodes are given in declaration order; `dependencies` holds
 * slugs of other nodes only (unknown and self dependencies are reported before these run).
 */
export interface StepNode {
  readonly slug: string;
  readonly dependencies: readonly string[];
}

/**
 * The dependency cycles among the nodes, each as a path of slugs that starts and ends with the same
 * step (`['a', 'b', 'a']`: a depends on b, which depends on a), starting at the cycle's earliest
 * declared step. One cycle per back edge of a depth-first search in declaration order, so every
 * cyclic part of the graph is reported at least once; each cycle once.
 */
export function findCycles(nodes: readonly StepNode[]): string[][] {
  const bySlug = new Map(nodes.map((node, index) => [node.slug, { node, index }]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const seen = new Set<string>();

  const visit = (slug: string): void => {
    state.set(slug, 'visiting');
    stack.push(slug);
    for (const dependency of bySlug.get(slug)?.node.dependencies ?? []) {
      const dependencyState = state.get(dependency);
      if (dependencyState === 'visiting') {
        const cycle = stack.slice(stack.indexOf(dependency));
        const rotated = rotateToEarliest(cycle, (s) => bySlug.get(s)?.index ?? 0);
        const key = rotated.join('\u0000');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push([...rotated, rotated[0] as string]);
        }
      } else if (dependencyState === undefined && bySlug.has(dependency)) {
        visit(dependency);
      }
    }
    stack.pop();
    state.set(slug, 'done');
  };

  for (const node of nodes) if (!state.has(node.slug)) visit(node.slug);
  return cycles;
}

function rotateToEarliest(cycle: readonly string[], position: (slug: string) => number): string[] {
  let start = 0;
  cycle.forEach((slug, index) => {
    if (position(slug) < position(cycle[start] as string)) start = index;
  });
  return [...cycle.slice(start), ...cycle.slice(0, start)];
}

/**
 * The nodes in a topological order (each after all its dependencies) that keeps declaration order
 * wherever the dependencies allow: at each position, the earliest-declared node whose dependencies
 * are all placed. Deterministic. Expects an acyclic graph (check with findCycles first); nodes on a
 * cycle are left out.
 */
export function topologicalOrder<N extends StepNode>(nodes: readonly N[]): N[] {
  const placed = new Set<string>();
  const remaining = [...nodes];
  const order: N[] = [];
  for (;;) {
    const next = remaining.findIndex((node) => node.dependencies.every((dependency) => placed.has(dependency)));
    if (next === -1) return order;
    const [node] = remaining.splice(next, 1) as [N];
    placed.add(node.slug);
    order.push(node);
  }
}
