/**
 * The six argument lists pgmq 1.5 gives send and send_batch: with or without headers, and no
 * delay, a delay in seconds or a time. Separate overloads without defaults (as in pgmq), so that no
 * call is ambiguous; each is one statement, written once here for both function families.
 */
export interface SendVariant {
  /** Arguments after (queue_name, msg(s)). */
  readonly extraArguments: string;
  /** PL/pgSQL expression of the new messages' vt. */
  readonly vt: string;
  /** The headers argument's name, or undefined when the variant has none. */
  readonly headers: string | undefined;
}

const NOW = 'clock_timestamp()';
const AFTER_DELAY = 'clock_timestamp() + make_interval(secs => delay)';

export function sendVariants(headersType: 'jsonb' | 'jsonb[]'): readonly SendVariant[] {
  return [
    { extraArguments: '', vt: NOW, headers: undefined },
    { extraArguments: ', delay integer', vt: AFTER_DELAY, headers: undefined },
    { extraArguments: ', delay timestamptz', vt: 'delay', headers: undefined },
    { extraArguments: `, headers ${headersType}`, vt: NOW, headers: 'headers' },
    { extraArguments: `, headers ${headersType}, delay integer`, vt: AFTER_DELAY, headers: 'headers' },
    { extraArguments: `, headers ${headersType}, delay timestamptz`, vt: 'delay', headers: 'headers' },
  ];
}
