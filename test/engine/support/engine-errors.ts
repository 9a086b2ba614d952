/**
 * Checks on the errors the engine raises: our own SQLSTATE (PFnnn), a message that names the
 * offending value, and a HINT that names the fix. Tests branch on the code, never on message text;
 * the message is only checked to contain the value.
 */
import pg from 'pg';

export interface EngineErrorExpectation {
  /** The SQLSTATE, e.g. 'PF002'. */
  readonly code: string;
  /** Values the message must name. */
  readonly naming?: readonly string[];
  /** Whether a HINT is required (default true for PF codes). */
  readonly hint?: boolean;
}

/** Awaits a call that must fail, and returns the database error after checking it. */
export async function expectEngineError(
  call: Promise<unknown>,
  expected: EngineErrorExpectation,
): Promise<pg.DatabaseError> {
  let caught: unknown;
  try {
    await call;
  } catch (error) {
    caught = error;
  }
  if (caught === undefined) throw new Error(`expected an error with SQLSTATE ${expected.code}, but the call succeeded`);
  if (!(caught instanceof pg.DatabaseError)) throw caught;
  const described = `${caught.code}: ${caught.message} (hint: ${caught.hint ?? 'none'})`;
  expect({ code: caught.code, described }).toEqual({ code: expected.code, described });
  // Named as is, or as a quoted SQL literal (format's %L doubles a quote: 'quote''d').
  for (const value of expected.naming ?? []) {
    const named = caught.message.includes(value) || caught.message.includes(value.replaceAll("'", "''"));
    expect({ named, value, message: caught.message }).toEqual({ named: true, value, message: caught.message });
  }
  if (expected.hint ?? expected.code.startsWith('PF')) {
    expect(typeof caught.hint).toBe('string');
    expect((caught.hint ?? '').trim().length).toBeGreaterThan(0);
  }
  return caught;
}
