import { NotJsonError } from '../errors/not-json.error.ts';
import { PgflowErrorCode } from '../errors/pgflow.error.ts';
import { assertJson, toJsonValue, toStepOutputJson } from './to-json-value.ts';

// Built at run time: the linter rightly flags these shapes in literals.
const sparse: unknown[] = [1];
sparse[2] = 3;
const thenable = Object.fromEntries([['then', () => undefined]]);

function failure(value: unknown, root = 'input'): NotJsonError {
  try {
    toJsonValue(value, root);
  } catch (error) {
    if (error instanceof NotJsonError) return error;
    throw error;
  }
  throw new Error('expected toJsonValue to throw');
}

describe('toJsonValue', () => {
  describe('accepts JSON and returns it unchanged, without copying', () => {
    it.each([
      ['null', null],
      ['true', true],
      ['false', false],
      ['zero', 0],
      ['a negative float', -1.5],
      ['an empty string', ''],
      ['a string with emoji (paired surrogates)', 'ok 🚀'],
    ])('%s', (_label, value) => {
      expect(toJsonValue(value)).toBe(value);
    });

    it('returns the same nested object and array when nothing needs changing', () => {
      const value = { items: [{ price: 1, tags: ['a'] }], empty: {}, list: [] };
      expect(toJsonValue(value)).toBe(value);
    });

    it('accepts a class instance as its own enumerable properties, like JSON.stringify', () => {
      class Order {
        constructor(
          readonly id: number,
          readonly lines: string[],
        ) {}
        total(): number {
          return 0;
        }
      }
      const order = new Order(7, ['a']);
      const result = toJsonValue(order);
      expect(JSON.stringify(result)).toBe('{"id":7,"lines":["a"]}');
    });

    it('accepts objects without a prototype', () => {
      const value = Object.assign(Object.create(null) as object, { a: 1 });
      expect(JSON.stringify(toJsonValue(value))).toBe('{"a":1}');
    });

    it('accepts shared (non-circular) references', () => {
      const shared = { a: 1 };
      expect(toJsonValue({ x: shared, y: [shared, shared] })).toEqual({ x: { a: 1 }, y: [{ a: 1 }, { a: 1 }] });
    });
  });

  describe('normalizes what JSON.stringify would change, without touching the original', () => {
    it('leaves out object properties that are undefined', () => {
      const value = { a: 1, b: undefined, c: { d: undefined } };
      const result = toJsonValue(value);
      expect(result).toEqual({ a: 1, c: {} });
      expect(Object.keys(result as object)).toEqual(['a', 'c']);
      expect(value).toEqual({ a: 1, b: undefined, c: { d: undefined } });
    });

    it('replaces a Date by its ISO string (toJSON)', () => {
      const at = new Date('2026-01-02T03:04:05.000Z');
      expect(toJsonValue({ at, list: [at] })).toEqual({
        at: '2026-01-02T03:04:05.000Z',
        list: ['2026-01-02T03:04:05.000Z'],
      });
    });

    it('calls toJSON with the property key and checks what it returns', () => {
      const keys: string[] = [];
      const money = {
        toJSON(key: string) {
          keys.push(key);
          return { amount: '1.50' };
        },
      };
      expect(toJsonValue({ price: money, list: [money] })).toEqual({
        price: { amount: '1.50' },
        list: [{ amount: '1.50' }],
      });
      expect(keys).toEqual(['price', '0']);
      expect(failure({ price: { toJSON: () => 1n } }).path).toBe('input.price');
    });

    it('unwraps boxed primitives', () => {
      expect(toJsonValue([new String('a'), new Number(1), new Boolean(false)])).toEqual(['a', 1, false]);
    });

    it('keeps an own "__proto__" key (from JSON.parse) as data', () => {
      const value = JSON.parse('{"__proto__": {"x": 1}, "drop": null}') as Record<string, unknown>;
      value.gone = undefined;
      const result = toJsonValue(value) as Record<string, unknown>;
      expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
      expect(JSON.stringify(result)).toBe('{"__proto__":{"x":1},"drop":null}');
    });

    it('produces the same text as JSON.stringify for valid values', () => {
      const value = { n: 1, s: 'x', d: new Date(0), u: undefined, nested: [{ b: true, z: null }] };
      expect(JSON.stringify(toJsonValue(value))).toBe(JSON.stringify(value));
    });
  });

  describe('rejects non-JSON values, naming the path of the first bad one', () => {
    it.each<[string, unknown, string, RegExp]>([
      ['undefined at the root', undefined, 'input', /is undefined/],
      ['undefined in an array', { items: [1, undefined] }, 'input.items[1]', /is undefined.*use null/],
      ['a hole in a sparse array', { items: sparse }, 'input.items[1]', /hole/],
      ['a function', { items: [{ price: () => 1 }] }, 'input.items[0].price', /is a function/],
      ['a BigInt', { items: [0, 1, 2, { price: 12n }] }, 'input.items[3].price', /is a BigInt \(12n\)/],
      ['a symbol', { tag: Symbol('t') }, 'input.tag', /is a symbol/],
      ['NaN', { ratio: Number.NaN }, 'input.ratio', /is NaN.*finite/],
      ['Infinity', { ratio: Number.POSITIVE_INFINITY }, 'input.ratio', /is Infinity/],
      ['-Infinity', [Number.NEGATIVE_INFINITY], 'input[0]', /is -Infinity/],
      ['a Map', { index: new Map([[1, 2]]) }, 'input.index', /is a Map.*Object\.fromEntries/],
      ['a Set', { ids: new Set([1]) }, 'input.ids', /is a Set/],
      ['a WeakMap', { cache: new WeakMap() }, 'input.cache', /is a WeakMap/],
      ['a Promise', { data: Promise.resolve(1) }, 'input.data', /is a Promise \(a missing await\?\)/],
      ['a thenable', { data: thenable }, 'input.data', /thenable/],
      ['an Error', { error: new Error('x') }, 'input.error', /is an Error/],
      ['a RegExp', { pattern: /a/ }, 'input.pattern', /is a RegExp/],
      ['a typed array', { bytes: new Uint8Array(2) }, 'input.bytes', /is a Uint8Array/],
      ['an ArrayBuffer', { raw: new ArrayBuffer(2) }, 'input.raw', /is an ArrayBuffer/],
      ['an invalid Date', { at: new Date(Number.NaN) }, 'input.at', /invalid Date/],
      ['a NUL character', { name: 'a\u0000b' }, 'input.name', /U\+0000/],
      ['an unpaired surrogate', { name: 'a\uD800b' }, 'input.name', /unpaired/],
      ['a key with a NUL character', { 'a\u0000': 1 }, 'input["a\\u0000"]', /key that contains the character U\+0000/],
      ['a key that is not an identifier', { 'first name': 1n }, 'input["first name"]', /BigInt/],
    ])('%s', (_label, value, path, problem) => {
      const error = failure(value);
      expect(error.path).toBe(path);
      expect(error.problem).toMatch(problem);
      expect(error.message).toBe(`${path} ${error.problem}`);
      expect(error.code).toBe(PgflowErrorCode.NotJson);
    });

    it('a circular reference, naming where it closes and what it refers back to', () => {
      const order: Record<string, unknown> = { lines: [] };
      (order.lines as unknown[]).push({ order });
      const error = failure({ order });
      expect(error.path).toBe('input.order.lines[0].order');
      expect(error.problem).toMatch(/refers back to input\.order \(a circular reference\)/);
    });

    it('a value referring to the root', () => {
      const root: Record<string, unknown> = {};
      root.self = root;
      expect(failure(root).problem).toMatch(/refers back to input /);
    });

    it('a getter that throws, keeping the error as cause', () => {
      const boom = new Error('no access');
      const value = {
        get secret(): string {
          throw boom;
        },
      };
      const error = failure(value);
      expect(error.path).toBe('input.secret');
      expect(error.problem).toMatch(/getter threw: no access/);
      expect(error.cause).toBe(boom);
    });

    it('a toJSON() that throws, keeping the error as cause', () => {
      const boom = new Error('bad money');
      const error = failure({
        price: {
          toJSON: () => {
            throw boom;
          },
        },
      });
      expect(error.path).toBe('input.price');
      expect(error.cause).toBe(boom);
    });

    it('uses the root name it is given', () => {
      expect(failure({ a: 1n }, 'output').path).toBe('output.a');
    });
  });
});

describe('toStepOutputJson', () => {
  it('turns a top-level undefined (a handler that returns nothing) into null', () => {
    expect(toStepOutputJson(undefined)).toBeNull();
  });

  it('keeps falsy outputs as themselves', () => {
    expect([0, false, '', null].map((value) => toStepOutputJson(value))).toEqual([0, false, '', null]);
  });

  it('still rejects undefined inside the output, with the output path', () => {
    expect(() => toStepOutputJson([undefined])).toThrow(/^output\[0\] is undefined/);
  });
});

describe('assertJson', () => {
  it('passes JSON and throws a NotJsonError otherwise', () => {
    expect(() => assertJson({ a: [1] })).not.toThrow();
    expect(() => assertJson({ a: () => 1 })).toThrow(NotJsonError);
  });
});
