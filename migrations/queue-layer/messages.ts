/**
 * The exact error and notice texts of pgmq 1.5. Tools match on them, so they never change.
 *
 * These errors keep pgmq's SQLSTATE, P0001 (raise_exception), instead of a code of our own: code
 * that branches on the SQLSTATE must behave the same on the real extension and on the fallback.
 */
export const INVALID_CHARACTERS = "queue name contains invalid characters: $, ;, --, or \\'";
export const NAME_TOO_LONG = 'queue name is too long, maximum length is 47 characters';
export const PARTMAN_REQUIRED = 'pg_partman is required for partitioned queues';
/** RAISE NOTICE format: `%` is the queue name. */
export const QUEUE_DOES_NOT_EXIST_NOTICE = 'pgmq queue `%` does not exist';

/** Longest queue name create() accepts (pgmq derives it from its longest table and index names). */
export const MAX_QUEUE_NAME_LENGTH = 47;
