/**
 * Which queue layer to install, decided inside the migration: the pgmq extension where the server
 * offers version 1.5 or newer (or it is already installed), else the fallback; PGFLOW_PGMQ can
 * require either. What is installed stays visible: pg_extension for the extension, the schema
 * comment for the fallback (IMPLEMENTATION_QUERY reads both).
 */
import type { QueryRunner } from 'typeorm';

export const PGMQ_MODE_ENV = 'PGFLOW_PGMQ';
/**
 * Every comment the fallback puts on schema pgmq starts with this marker: it is how tools and
 * humans tell the fallback from the extension.
 */
export const FALLBACK_MARKER = 'pgflow fallback';
export const PGMQ_MODES = ['auto', 'extension', 'fallback'] as const;
export type PgmqMode = (typeof PGMQ_MODES)[number];
export type PgmqImplementation = 'extension' | 'fallback';

/** The oldest pgmq whose SQL API the engine relies on (headers arrived in 1.5). */
export const MINIMUM_PGMQ_VERSION = '1.5';

/** What the server and the database hold, as the decision needs it. */
export interface PgmqState {
  /** default_version of pgmq in pg_available_extensions; null when the server has none. */
  readonly available: string | null;
  /** extversion of pgmq in this database's pg_extension; null when not installed. */
  readonly installed: string | null;
  /** Whether a schema named pgmq exists. */
  readonly schemaExists: boolean;
  /** Its comment; the fallback's starts with FALLBACK_MARKER. */
  readonly schemaComment: string | null;
}

export const STATE_QUERY = `select
  (select default_version from pg_catalog.pg_available_extensions where name = 'pgmq') as available,
  (select extversion from pg_catalog.pg_extension where extname = 'pgmq') as installed,
  to_regnamespace('pgmq') is not null as "schemaExists",
  obj_description(to_regnamespace('pgmq'), 'pg_namespace') as "schemaComment"`;

/**
 * The documented answer to "which queue layer does this database have?": 'extension <version>',
 * 'fallback' or 'none'.
 */
export const IMPLEMENTATION_QUERY = `select case
         when e.extversion is not null then 'extension ' || e.extversion
         when obj_description(to_regnamespace('pgmq'), 'pg_namespace') like '${FALLBACK_MARKER}%' then 'fallback'
         else 'none'
       end as pgmq_implementation
  from (select) as here
  left join pg_catalog.pg_extension as e on e.extname = 'pgmq'`;

/** Which queue layer this database has, from its state; null when it has none. */
export function installedImplementation(state: PgmqState): PgmqImplementation | null {
  if (state.installed !== null) return 'extension';
  return state.schemaExists && (state.schemaComment?.startsWith(FALLBACK_MARKER) ?? false) ? 'fallback' : null;
}

export async function readPgmqState(queryRunner: QueryRunner): Promise<PgmqState> {
  const [row] = (await queryRunner.query(STATE_QUERY)) as PgmqState[];
  if (!row) throw new Error('Reading the pgmq state returned no row.');
  return row;
}

/** PGFLOW_PGMQ, checked: unset or empty means auto. */
export function pgmqMode(env: NodeJS.ProcessEnv = process.env): PgmqMode {
  const raw = env[PGMQ_MODE_ENV];
  const value = raw?.trim().toLowerCase() ?? '';
  if (value === '') return 'auto';
  if ((PGMQ_MODES as readonly string[]).includes(value)) return value as PgmqMode;
  throw new Error(
    `${PGMQ_MODE_ENV}=${JSON.stringify(raw)} is not a valid queue layer mode. ` +
      `Set ${PGMQ_MODE_ENV} to one of ${PGMQ_MODES.join(', ')} (auto, the default, uses the pgmq extension ` +
      'when the server has it and the fallback otherwise), or unset it.',
  );
}

/** The decision, or an error that says what is wrong and how to fix it. Pure: tested without a server. */
export function chooseImplementation(mode: PgmqMode, state: PgmqState): PgmqImplementation {
  const { available, installed } = state;
  if (installed !== null) {
    if (mode === 'fallback') {
      throw new Error(
        `${PGMQ_MODE_ENV}=fallback, but this database already has the pgmq extension (version ${installed}) in ` +
          `schema pgmq, where the fallback would go. Use ${PGMQ_MODE_ENV}=auto to keep the extension, or ` +
          'DROP EXTENSION pgmq first (that drops its queues).',
      );
    }
    if (!atLeast(installed, MINIMUM_PGMQ_VERSION)) {
      throw new Error(
        `This database has pgmq ${installed}, but the queue layer needs pgmq ${MINIMUM_PGMQ_VERSION} or newer. ` +
          'Run ALTER EXTENSION pgmq UPDATE (after installing a newer pgmq on the server).',
      );
    }
    return 'extension';
  }

  if (state.schemaExists && !state.schemaComment?.startsWith(FALLBACK_MARKER)) {
    throw new Error(
      'This database has a schema named pgmq that is neither the pgmq extension nor the pgflow fallback, so ' +
        'the queue layer cannot be installed there. Rename or drop that schema, or CREATE EXTENSION pgmq ' +
        'into it if it is a leftover of the extension.',
    );
  }

  const extensionUsable = available !== null && atLeast(available, MINIMUM_PGMQ_VERSION);
  if (mode === 'fallback') return 'fallback';
  if (mode === 'extension' && !extensionUsable) {
    const found = available === null ? 'does not offer pgmq' : `offers only pgmq ${available}`;
    throw new Error(
      `${PGMQ_MODE_ENV}=extension requires the pgmq extension (${MINIMUM_PGMQ_VERSION} or newer), but this ` +
        `PostgreSQL server ${found} (pg_available_extensions). Install pgmq on the server ` +
        `(https://github.com/pgmq/pgmq), or set ${PGMQ_MODE_ENV}=auto or fallback to use the pgflow fallback.`,
    );
  }
  return extensionUsable ? 'extension' : 'fallback';
}

/** Compares dotted version numbers: atLeast('1.10.0', '1.5') is true. */
export function atLeast(version: string, minimum: string): boolean {
  const parts = (v: string) => (v.match(/\d+/g) ?? []).map(Number);
  const a = parts(version);
  const b = parts(minimum);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}
