import { findCycles, type StepNode, topologicalOrder } from './step-graph.ts';

const node = (slug: string, ...dependencies: string[]): StepNode => ({ slug, dependencies });
const slugs = (nodes: readonly StepNode[]): string[] => nodes.map((n) => n.slug);

describe('topologicalOrder', () => {
  it('keeps declaration order when it is already a valid order', () => {
    const nodes = [node('a'), node('b', 'a'), node('c', 'a'), node('d', 'b', 'c')];
    expect(slugs(topologicalOrder(nodes))).toEqual(['a', 'b', 'c', 'd']);
  });

  it('moves a step after its dependencies, keeping the others in declaration order', () => {
    const nodes = [node('save', 'summary'), node('website'), node('summary', 'website'), node('log')];
    expect(slugs(topologicalOrder(nodes))).toEqual(['website', 'summary', 'save', 'log']);
  });

  it('places each step at the earliest position its dependencies allow', () => {
    const nodes = [node('d', 'c'), node('c', 'b'), node('b', 'a'), node('a'), node('x')];
    expect(slugs(topologicalOrder(nodes))).toEqual(['a', 'b', 'c', 'd', 'x']);
  });

  it('is deterministic: the same input always gives the same order', () => {
    const nodes = [node('m', 'r'), node('r'), node('k', 'r'), node('z')];
    expect(slugs(topologicalOrder(nodes))).toEqual(slugs(topologicalOrder([...nodes])));
    expect(slugs(topologicalOrder(nodes))).toEqual(['r', 'm', 'k', 'z']);
  });

  it('leaves out steps on a cycle (callers check for cycles first)', () => {
    expect(slugs(topologicalOrder([node('a', 'b'), node('b', 'a'), node('c')]))).toEqual(['c']);
  });
});

describe('findCycles', () => {
  it('finds none in a DAG', () => {
    expect(findCycles([node('a'), node('b', 'a'), node('c', 'a', 'b')])).toEqual([]);
  });

  it('reports a cycle as a path from its earliest declared step back to it', () => {
    // a depends on c, c on b, b on a.
    expect(findCycles([node('a', 'c'), node('b', 'a'), node('c', 'b')])).toEqual([['a', 'c', 'b', 'a']]);
  });

  it('reports a two-step cycle once', () => {
    expect(findCycles([node('x'), node('a', 'b'), node('b', 'a')])).toEqual([['a', 'b', 'a']]);
  });

  it('reports separate cycles separately', () => {
    const cycles = findCycles([node('a', 'b'), node('b', 'a'), node('c', 'd'), node('d', 'c'), node('e', 'a')]);
    expect(cycles).toEqual([
      ['a', 'b', 'a'],
      ['c', 'd', 'c'],
    ]);
  });

  it('ignores dependencies on unknown steps', () => {
    expect(findCycles([node('a', 'ghost')])).toEqual([]);
  });
});
