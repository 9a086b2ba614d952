-- deps: the edges of a flow's DAG (dep_slug must complete before step_slug starts).
create table pgflow.deps (
  flow_slug text not null references pgflow.flows (flow_slug),
  dep_slug text not null,
  step_slug text not null,
  created_at timestamptz not null default now(),
  primary key (flow_slug, dep_slug, step_slug),
  foreign key (flow_slug, dep_slug) references pgflow.steps (flow_slug, step_slug),
  foreign key (flow_slug, step_slug) references pgflow.steps (flow_slug, step_slug),
  constraint deps_not_self check (dep_slug <> step_slug)
);

-- The primary key finds a step's dependents; this finds its dependencies.
create index deps_step_idx on pgflow.deps (flow_slug, step_slug);
