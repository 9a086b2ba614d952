import type { StepSnapshot, StepStatusValue } from '../client/run.types.ts';
import type { GraphStep } from './dashboard-queries.ts';
import { html, type SafeHtml } from './html.ts';

/** The fill of a step's box for each status (also the legend and the steps table). */
export const STEP_COLOURS: Readonly<Record<StepStatusValue, string>> = {
  created: '#d1d5db',
  started: '#60a5fa',
  completed: '#4ade80',
  failed: '#f87171',
  skipped: '#e5e7eb',
  cancelled: '#fbbf24',
};

const NODE_WIDTH = 170;
const NODE_HEIGHT = 48;
const GAP_X = 60;
const GAP_Y = 18;
const PADDING = 12;

interface PlacedStep {
  readonly step: GraphStep;
  readonly x: number;
  readonly y: number;
}

/**
 * Layered layout: a step's column is one more than its deepest dependency's (roots in column 0),
 * and the steps of a column are stacked in step order. Steps come in step order, which lists a
 * step after all its dependencies.
 */
export function layOut(steps: readonly GraphStep[]): PlacedStep[] {
  const column = new Map<string, number>();
  const rows: number[] = [];
  return steps.map((step) => {
    const layer = step.dependsOn.reduce((deepest, dep) => Math.max(deepest, (column.get(dep) ?? -1) + 1), 0);
    column.set(step.stepSlug, layer);
    const row = rows[layer] ?? 0;
    rows[layer] = row + 1;
    return { step, x: PADDING + layer * (NODE_WIDTH + GAP_X), y: PADDING + row * (NODE_HEIGHT + GAP_Y) };
  });
}

/** The run's DAG as SVG: one box per step, filled with its status colour, arrows from each dependency. */
export function runGraph(steps: readonly GraphStep[], states: readonly StepSnapshot[]): SafeHtml {
  const placed = layOut(steps);
  const at = new Map(placed.map((node) => [node.step.stepSlug, node]));
  const statusOf = new Map(states.map((state) => [state.stepSlug, state.status]));
  const width = Math.max(...placed.map((node) => node.x + NODE_WIDTH), 0) + PADDING;
  const height = Math.max(...placed.map((node) => node.y + NODE_HEIGHT), 0) + PADDING;
  const edges = placed.flatMap(({ step, x, y }) =>
    step.dependsOn.flatMap((dep) => {
      const from = at.get(dep);
      if (from === undefined) return [];
      const [x1, y1, x2, y2] = [from.x + NODE_WIDTH, from.y + NODE_HEIGHT / 2, x, y + NODE_HEIGHT / 2];
      const bend = (x2 - x1) / 2;
      return [
        html`<path class="edge" d="M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2 - 4},${y2}" marker-end="url(#arrow)"/>`,
      ];
    }),
  );
  const nodes = placed.map(({ step, x, y }) => {
    const status: StepStatusValue = statusOf.get(step.stepSlug) ?? 'created';
    const label = step.stepType === 'map' ? `${step.stepSlug} [map]` : step.stepSlug;
    return html`<g class="step" data-step="${step.stepSlug}" data-status="${status}">
      <rect x="${x}" y="${y}" width="${NODE_WIDTH}" height="${NODE_HEIGHT}" rx="6" fill="${STEP_COLOURS[status]}"/>
      <text x="${x + 10}" y="${y + 20}" class="step-name">${label}</text>
      <text x="${x + 10}" y="${y + 38}" class="step-status">${status}</text>
    </g>`;
  });
  return html`<svg class="dag" role="img" aria-label="The run's steps and their dependencies"
    width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">
    <defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="8" markerHeight="8" orient="auto">
      <path d="M0,0 L8,4 L0,8 z" fill="#6b7280"/></marker></defs>
    ${edges}${nodes}
  </svg>`;
}
