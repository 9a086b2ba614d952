-- The workflow engine's schema.
create schema pgflow;

comment on schema pgflow is 'nestjs-pgflow workflow engine (pgflow 0.14 compatible)';
