import { PgflowError } from 'nestjs-pgflow';

/** Driver and server codes that mean "this PostgreSQL cannot be reached or used as configured". */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  '28000', // invalid_authorization_specification
  '28P01', // invalid_password
  '3D000', // invalid_catalog_name: no such database
  '53300', // too_many_connections
  '57P03', // cannot_connect_now: the server is starting or stopping
]);

/**
 * What to print when `npm start` cannot start: one readable message for the situations a person can
 * fix (the database, the port, a flow that differs from the database's), the stack for anything else.
 */
export function describeStartupError(error: unknown, context: { databaseUrl: string; port: number }): string {
  if (error instanceof PgflowError) return `Could not start: ${error.message}`;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) {
    return (
      `Could not use PostgreSQL at ${redactPassword(context.databaseUrl)}: ${message}. Check DATABASE_URL, ` +
      'or unset it to let npm start run a PostgreSQL of its own.'
    );
  }
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    return `Could not listen on port ${context.port} (${message}): choose another port, e.g. PORT=3001 npm start.`;
  }
  return `Could not start: ${error instanceof Error ? (error.stack ?? message) : message}`;
}

/** The URL with its password masked, for printing. */
export function redactPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an invalid URL)';
  }
}
