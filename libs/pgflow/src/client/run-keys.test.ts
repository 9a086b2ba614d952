/**
 * The keys start() computes from a run input: the concurrency key and the rate limit key, each a
 * string of 1 to 255 characters, or an InvalidRunInputError naming the flow, the option and the value.
 */
import { Flow } from '../decorators/flow.decorator.ts';
import { Step } from '../decorators/step.decorator.ts';
import { flowDefinitionOf } from '../definition/flow-definition.builder.ts';
import { InvalidRunInputError } from '../errors/invalid-run-input.error.ts';
import { keysOrNull, runKeys } from './run-keys.ts';

function definitionWith(concurrencyKey: (input: { tenant?: string }) => string) {
  @Flow({
    slug: 'keyed',
    concurrency: 1,
    concurrencyKey,
    rateLimit: { limit: 5, periodSeconds: 1, key: (input: { host?: string }) => input.host ?? 'none' },
  })
  class KeyedFlow {
    @Step()
    only(): void {}
  }
  return flowDefinitionOf(new KeyedFlow());
}

function refusal(run: () => unknown): InvalidRunInputError {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidRunInputError) return error;
    throw error;
  }
  throw new Error('expected an InvalidRunInputError');
}

describe('runKeys', () => {
  it('computes both keys from the input', () => {
    const definition = definitionWith((input) => input.tenant ?? 'default');
    expect(runKeys('keyed', definition, { tenant: 'acme', host: 'a.example' }, 'input')).toEqual({
      rateLimitKey: 'a.example',
      concurrencyKey: 'acme',
    });
  });

  it('gives null keys for a flow without key functions, or not known here', () => {
    expect(runKeys('unknown', undefined, {}, 'input')).toEqual({ rateLimitKey: null, concurrencyKey: null });
  });

  it('refuses a key function that throws, keeping the error as cause', () => {
    const cause = new Error('no tenant');
    const error = refusal(() =>
      runKeys(
        'keyed',
        definitionWith(() => {
          throw cause;
        }),
        {},
        'inputs[3]',
      ),
    );
    expect(error.message).toContain("Invalid input for flow 'keyed': @Flow({ concurrencyKey }) threw for inputs[3]");
    expect(error.message).toContain('no tenant');
    expect(error.path).toBe('inputs[3]');
    expect(error.cause).toBe(cause);
  });

  it.each([
    ['a number', () => 7 as unknown as string, 'returned 7'],
    ['an empty string', () => '', 'returned ""'],
    ['null', () => null as unknown as string, 'returned null'],
  ])('refuses a key function returning %s', (_name, key, text) => {
    const error = refusal(() => runKeys('keyed', definitionWith(key), {}, 'input'));
    expect(error.message).toContain(`@Flow({ concurrencyKey }) ${text} for input`);
    expect(error.message).toContain('a string of 1 to 255 characters');
  });

  it('refuses a key of 256 characters, showing its start and its length only', () => {
    const error = refusal(() =>
      runKeys(
        'keyed',
        definitionWith(() => 'k'.repeat(256)),
        {},
        'input',
      ),
    );
    expect(error.message).toContain(`returned "${'k'.repeat(60)}"... (256 characters)`);
    expect(error.message).not.toContain('k'.repeat(61));
  });

  it('accepts a key of 255 characters', () => {
    const key = 'k'.repeat(255);
    expect(
      runKeys(
        'keyed',
        definitionWith(() => key),
        {},
        'input',
      ).concurrencyKey,
    ).toBe(key);
  });
});

describe('keysOrNull', () => {
  it('is null when no input has a key, else one key per input', () => {
    expect(keysOrNull([null, null])).toBeNull();
    expect(keysOrNull([null, 'a'])).toEqual([null, 'a']);
  });
});
