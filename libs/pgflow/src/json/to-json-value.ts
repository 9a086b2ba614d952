import { NotJsonError } from '../errors/not-json.error.ts';
import type { JsonObject, JsonValue } from './json-value.ts';

/**
 * Checks that a value can travel as JSON to PostgreSQL's jsonb without losing or changing anything
 * silently, and returns it in the form JSON.stringify serializes; throws a {@link NotJsonError}
 * naming the path of the first bad value (`input.items[3].price`) otherwise.
 *
 * The rules are JSON.stringify's, made strict where it would silently lose data:
 * - accepted: null, booleans, finite numbers, strings, arrays, plain objects, and class instances
 *   (serialized, like JSON.stringify does, as their own enumerable string-keyed properties: an
 *   entity or a DTO works);
 * - objects with a `toJSON()` method (Date, Buffer, Decimal...) are replaced by what it returns
 *   (called with the property key, as JSON.stringify does), which is checked in turn;
 * - an object property whose value is `undefined` is left out, as JSON.stringify does (that is what
 *   an optional property means); symbol-keyed properties are ignored;
 * - boxed primitives (`new String('x')`) become their primitive;
 * - rejected, with the path: `undefined` anywhere else (the root, an array element, a hole in an
 *   array: JSON.stringify would write null), functions, symbols, BigInts, NaN and ±Infinity
 *   (JSON.stringify would write null), circular references, an invalid Date, Map, Set, WeakMap,
 *   WeakSet, Promise (a missing `await`?), Error, RegExp, ArrayBuffer and typed arrays (JSON.stringify
 *   turns them into `{}` or index-keyed objects), strings and keys containing U+0000 or an unpaired
 *   surrogate (jsonb refuses both), and anything whose getter or `toJSON()` throws.
 *
 * The result shares structure with the value: what needed no change is returned as is (no copy),
 * so the check costs one walk and the result serializes with JSON.stringify to the same text the
 * value would have, when the value was valid.
 *
 * @param value the value to check
 * @param root the name of the value, the start of every path in errors (`input`, `output`)
 */
export function toJsonValue(value: unknown, root = 'value'): JsonValue {
  const walker = new JsonWalker(root);
  return walker.visit(value, '');
}

/**
 * A step output as the engine stores it: like {@link toJsonValue}, except that a top-level
 * `undefined` (a handler that returns nothing) becomes null.
 */
export function toStepOutputJson(value: unknown, root = 'output'): JsonValue {
  return value === undefined ? null : toJsonValue(value, root);
}

/** Like {@link toJsonValue}, for callers that only need the check. */
export function assertJson(value: unknown, root = 'value'): asserts value is JsonValue {
  toJsonValue(value, root);
}

/** Why a built-in object type is refused, and what to do instead. */
const REFUSED_TYPES: ReadonlyArray<readonly [new (...args: never[]) => object, string]> = [
  [Map, 'is a Map (JSON.stringify turns it into {}): convert it, e.g. Object.fromEntries(map)'],
  [Set, 'is a Set (JSON.stringify turns it into {}): convert it, e.g. [...set]'],
  [WeakMap, 'is a WeakMap, which has no JSON form'],
  [WeakSet, 'is a WeakSet, which has no JSON form'],
  [Promise, 'is a Promise (a missing await?): await it first'],
  [Error, 'is an Error (JSON.stringify turns it into {}): convert it, e.g. { message: error.message }'],
  [RegExp, 'is a RegExp (JSON.stringify turns it into {}): convert it, e.g. regexp.source'],
  [ArrayBuffer, 'is an ArrayBuffer (JSON.stringify turns it into {}): convert it, e.g. to base64'],
];

/** Characters that may make a string unstorable: one scan of the string in the common case. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is one of the characters looked for.
const SUSPICIOUS_CHARACTER = /[\u0000\uD800-\uDFFF]/;

/** Unpaired UTF-16 surrogates, which PostgreSQL's jsonb refuses. */
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Property names a path can show as `.name`; others are shown as `["a key"]`. */
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

class JsonWalker {
  /** The objects being visited, outermost first, with the key that led to each. */
  private readonly stack: object[] = [];
  private readonly keys: Array<string | number> = [];
  private readonly onStack = new Set<object>();

  constructor(private readonly root: string) {}

  /** @param key the property key or array index (as a string) that led to the value, for toJSON */
  visit(value: unknown, key: string): JsonValue {
    switch (typeof value) {
      case 'string':
        this.checkString(value, 'contains');
        return value;
      case 'number':
        if (!Number.isFinite(value)) {
          this.fail(`is ${value}: JSON numbers must be finite (JSON.stringify would write null)`);
        }
        return value;
      case 'boolean':
        return value;
      case 'undefined':
        return this.fail('is undefined: JSON has no undefined (JSON.stringify would write null or nothing); use null');
      case 'bigint':
        return this.fail(`is a BigInt (${value}n): JSON has no BigInt; convert it to a string or a number`);
      case 'symbol':
        return this.fail(`is a symbol (${String(value)}), which has no JSON form`);
      case 'function':
        return this.fail(`is a function${value.name ? ` (${value.name})` : ''}, which has no JSON form`);
      default:
        return value === null ? null : this.visitObject(value as object, key);
    }
  }

  private visitObject(value: object, key: string): JsonValue {
    if (this.onStack.has(value)) {
      const at = this.stack.indexOf(value);
      this.fail(`refers back to ${this.path(at)} (a circular reference), which JSON cannot represent`);
    }
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      if (value instanceof Date && Number.isNaN(value.getTime())) this.fail('is an invalid Date');
      let replaced: unknown;
      try {
        replaced = toJSON.call(value, key);
      } catch (error) {
        this.fail(`has a toJSON() method that threw: ${errorText(error)}`, error);
      }
      return this.visit(replaced, key);
    }
    if (value instanceof Number || value instanceof String || value instanceof Boolean) {
      return this.visit(value.valueOf(), key);
    }
    for (const [type, problem] of REFUSED_TYPES) {
      if (value instanceof type) this.fail(problem);
    }
    if (ArrayBuffer.isView(value)) {
      this.fail(
        `is a ${value.constructor.name} (JSON.stringify turns it into an index-keyed object): convert it, ` +
          'e.g. Array.from(view)',
      );
    }
    if (typeof (value as { then?: unknown }).then === 'function') {
      this.fail('is a thenable (a missing await?): await it first');
    }

    this.stack.push(value);
    this.onStack.add(value);
    try {
      return Array.isArray(value) ? this.visitArray(value) : this.visitProperties(value);
    } finally {
      this.stack.pop();
      this.onStack.delete(value);
    }
  }

  private visitArray(array: readonly unknown[]): JsonValue[] {
    let copy: JsonValue[] | undefined;
    for (let index = 0; index < array.length; index++) {
      this.keys.push(index);
      let raw: unknown;
      let item: JsonValue;
      try {
        if (!(index in array)) {
          this.fail('is a hole in a sparse array: JSON has no holes (JSON.stringify would write null); use null');
        }
        raw = this.read(array, index);
        item = this.visit(raw, String(index));
      } finally {
        this.keys.pop();
      }
      if (copy === undefined && item !== raw) copy = array.slice(0, index) as JsonValue[];
      if (copy !== undefined) copy.push(item);
    }
    return copy ?? (array as JsonValue[]);
  }

  private visitProperties(object: object): JsonObject {
    const keys = Object.keys(object);
    const items: Array<JsonValue | undefined> = new Array(keys.length);
    let changed = false;
    for (let position = 0; position < keys.length; position++) {
      const key = keys[position] as string;
      this.keys.push(key);
      try {
        this.checkString(key, 'has a key that contains');
        const raw = this.read(object, key);
        // An undefined property is left out, as JSON.stringify does: that is what optional means.
        const item = raw === undefined ? undefined : this.visit(raw, key);
        if (item !== raw || raw === undefined) changed = true;
        items[position] = item;
      } finally {
        this.keys.pop();
      }
    }
    if (!changed) return object as JsonObject;
    const copy: JsonObject = {};
    for (let position = 0; position < keys.length; position++) {
      const item = items[position];
      if (item !== undefined) defineProperty(copy, keys[position] as string, item);
    }
    return copy;
  }

  /** Reads a property, turning a throwing getter into a NotJsonError at its path. */
  private read(holder: object, key: string | number): unknown {
    try {
      return (holder as Record<string | number, unknown>)[key];
    } catch (error) {
      return this.fail(`could not be read: its getter threw: ${errorText(error)}`, error);
    }
  }

  private checkString(text: string, what: string): void {
    if (!SUSPICIOUS_CHARACTER.test(text)) return;
    if (text.includes('\u0000')) {
      this.fail(`${what} the character U+0000, which PostgreSQL's jsonb cannot store: remove it`);
    }
    if (UNPAIRED_SURROGATE.test(text)) {
      this.fail(`${what} an unpaired UTF-16 surrogate (broken text), which PostgreSQL's jsonb refuses`);
    }
  }

  /** The path of the value at stack depth `depth` (the root is depth 0), or of the current value. */
  private path(depth = this.keys.length): string {
    let path = this.root;
    for (const key of this.keys.slice(0, depth)) {
      if (typeof key === 'number') path += `[${key}]`;
      else path += IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
    }
    return path;
  }

  private fail(problem: string, cause?: unknown): never {
    throw new NotJsonError(this.path(), problem, cause === undefined ? {} : { cause });
  }
}

/** Sets an own enumerable property, even one named `__proto__` (which JSON.parse can produce). */
function defineProperty(object: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__')
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  else object[key] = value;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
