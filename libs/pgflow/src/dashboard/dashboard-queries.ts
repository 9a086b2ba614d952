import { Injectable } from '@nestjs/common';
import type { RunStatusValue } from '../client/run.types.ts';
import { PgflowRegistrations } from '../registration/pgflow-registrations.ts';

/** A flow of the flows page: whether it is paused and how many runs it has in each status. */
export interface FlowOverview {
  readonly flowSlug: string;
  readonly alias: string | null;
  readonly pausedAt: Date | null;
  readonly counts: Readonly<Partial<Record<RunStatusValue, number>>>;
}

/** A step of a flow's graph: what it depends on, in step order. */
export interface GraphStep {
  readonly stepSlug: string;
  readonly stepType: string;
  readonly dependsOn: readonly string[];
}

/** Run counts per flow and status, with the flows that have no runs (one aggregate over runs). */
const FLOW_OVERVIEW = `
  select f.flow_slug, f.alias, f.paused_at,
         coalesce(pg_catalog.jsonb_object_agg(c.status, c.runs) filter (where c.status is not null), '{}') as counts
    from pgflow.flows f
    left join (select r.flow_slug, r.status, pg_catalog.count(*) as runs
                 from pgflow.runs r group by r.flow_slug, r.status) c on c.flow_slug operator(pg_catalog.=) f.flow_slug
   group by f.flow_slug, f.alias, f.paused_at
   order by f.flow_slug`;

const FLOW_SLUGS = 'select f.flow_slug from pgflow.flows f order by f.flow_slug';

/** The steps of flow $1 with their dependencies, in step order. */
const FLOW_GRAPH = `
  select s.step_slug, s.step_type,
         coalesce(pg_catalog.array_agg(d.dep_slug order by d.dep_slug) filter (where d.dep_slug is not null),
                  '{}') as depends_on
    from pgflow.steps s
    left join pgflow.deps d on d.flow_slug operator(pg_catalog.=) s.flow_slug
                           and d.step_slug operator(pg_catalog.=) s.step_slug
   where s.flow_slug operator(pg_catalog.=) $1
   group by s.step_slug, s.step_type, s.step_index
   order by s.step_index`;

/**
 * What the dashboard reads besides FlowClient: plain SELECTs on the pgflow tables, through each
 * registration's database access (the application's DataSource pools).
 */
@Injectable()
export class DashboardQueries {
  constructor(private readonly registrations: PgflowRegistrations) {}

  /** Every flow of every registration's database, by slug. */
  async flows(): Promise<FlowOverview[]> {
    const pages = await Promise.all(
      this.registrations.all().map((registration) =>
        registration.database.query<{
          flow_slug: string;
          alias: string | null;
          paused_at: Date | null;
          counts: Record<string, string | number>;
        }>(FLOW_OVERVIEW),
      ),
    );
    return pages
      .flat()
      .map((row) => ({
        flowSlug: row.flow_slug,
        alias: row.alias,
        pausedAt: row.paused_at,
        counts: Object.fromEntries(Object.entries(row.counts).map(([status, runs]) => [status, Number(runs)])),
      }))
      .sort((a, b) => (a.flowSlug < b.flowSlug ? -1 : a.flowSlug > b.flowSlug ? 1 : 0));
  }

  /** The slugs of every flow of every registration's database, sorted (the runs page's flow filter). */
  async flowSlugs(): Promise<string[]> {
    const pages = await Promise.all(
      this.registrations.all().map((registration) => registration.database.query<{ flow_slug: string }>(FLOW_SLUGS)),
    );
    return [...new Set(pages.flat().map((row) => row.flow_slug))].sort();
  }

  /** The graph of the flow of run `runId`, read in the database that holds the run. */
  async graphOfRun(runId: string, flowSlug: string): Promise<GraphStep[]> {
    const registration = await this.registrations.forRun(runId);
    const rows = await registration.database.query<{ step_slug: string; step_type: string; depends_on: string[] }>(
      FLOW_GRAPH,
      [flowSlug],
    );
    return rows.map((row) => ({ stepSlug: row.step_slug, stepType: row.step_type, dependsOn: row.depends_on }));
  }
}
