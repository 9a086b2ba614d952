import { isConnectionError, isRetryableError, isTransientError, markDriverFailure, sqlStateOf } from './sql-state.ts';

/** An error as pg reports a refused statement (a DatabaseError with its SQLSTATE in `code`). */
function pgError(code: string): Error {
  return Object.assign(new Error(`statement failed with ${code}`), { code });
}

describe('sqlStateOf', () => {
  it("reads pg's code, and TypeORM's driverError when it wraps one", () => {
    expect(sqlStateOf(pgError('40P01'))).toBe('40P01');
    expect(sqlStateOf({ driverError: pgError('55P03') })).toBe('55P03');
    expect(sqlStateOf(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBeUndefined();
    expect(sqlStateOf('text')).toBeUndefined();
  });
});

describe('isTransientError', () => {
  it.each([
    ['40001', 'serialization_failure'],
    ['40P01', 'deadlock_detected'],
    ['55P03', 'lock_not_available (lock_timeout)'],
    ['57014', 'query_canceled (statement_timeout)'],
  ])('%s (%s) is a failure of the moment', (code) => {
    expect(isTransientError(pgError(code))).toBe(true);
    expect(isTransientError({ driverError: pgError(code) })).toBe(true);
    expect(isRetryableError(pgError(code))).toBe(true);
    expect(isConnectionError(pgError(code))).toBe(false);
  });

  it.each([
    ['23514', 'check_violation'],
    ['22P02', 'invalid_text_representation'],
    ['54000', 'program_limit_exceeded'],
    ['42501', 'insufficient_privilege'],
    ['PF010', "the engine's task not found"],
  ])('%s (%s) is a refusal of what the statement carries', (code) => {
    expect(isTransientError(pgError(code))).toBe(false);
    expect(isRetryableError(pgError(code))).toBe(false);
  });

  it('a lost connection is retryable, but not a failure of the statement', () => {
    expect(isTransientError(pgError('08006'))).toBe(false);
    expect(isRetryableError(pgError('08006'))).toBe(true);
    const unanswered = new Error('Connection terminated unexpectedly');
    markDriverFailure(unanswered);
    expect(isRetryableError(unanswered)).toBe(true);
    // Never by the message text alone.
    expect(isRetryableError(new Error('Connection terminated unexpectedly'))).toBe(false);
    expect(isRetryableError(new Error('something else'))).toBe(false);
  });
});
