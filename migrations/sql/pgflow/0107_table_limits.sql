-- limits: what one call may ask of the database, enforced by the engine for every caller, so that
-- a role allowed to start runs cannot exhaust it with one call. One row; an administrator changes it
-- with UPDATE pgflow.limits SET ... (sizes are of the stored jsonb value, pg_column_size). The
-- library's module options can only make them stricter, per process.
create table pgflow.limits (
  singleton boolean primary key default true,
  max_input_bytes int not null default 16777216,
  max_output_bytes int not null default 16777216,
  max_map_tasks int not null default 100000,
  max_error_message_bytes int not null default 65536,
  -- Past this share of the server's notification queue, the engine stops notifying (see
  -- _notifications_allowed).
  notify_queue_shed_at real not null default 0.5,
  constraint limits_one_row check (singleton),
  constraint limits_max_input_bytes_positive check (max_input_bytes > 0),
  constraint limits_max_output_bytes_positive check (max_output_bytes > 0),
  constraint limits_max_map_tasks_positive check (max_map_tasks > 0),
  constraint limits_max_error_message_bytes_at_least_256 check (max_error_message_bytes >= 256),
  constraint limits_notify_queue_shed_at_is_a_share check (notify_queue_shed_at between 0 and 1)
);

insert into pgflow.limits default values;
