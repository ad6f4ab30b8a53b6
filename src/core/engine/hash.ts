import { hash } from 'node:crypto';

/**
 * JSON with object keys sorted, so equal values always hash alike. The audit chain hashes
 * this text, so its bytes never change: it is exactly what `JSON.stringify` writes for the
 * value with every plain object's keys sorted (`<`, by UTF-16 code units) and bigints as
 * strings — including JavaScript's own order for keys that are array indices ("2" before
 * "10", ahead of the rest), which a sorted object keeps. Written out by hand rather than
 * through a replacer, which built a sorted copy of every object it met.
 */
export function canonicalJson(value: unknown): string {
  return canonicalValue(value, '') ?? 'null';
}

/** An array index as a property key ("0", "42"; not "01" or "-1"): JavaScript orders these first. */
export const isIndex = (key: string) => {
  const c = key.charCodeAt(0);
  return c >= 48 && c <= 57 && /^(?:0|[1-9]\d*)$/.test(key) && Number(key) < 4294967295;
};

/**
 * Sorts keys in place by UTF-16 code units (`<`), as `Array.prototype.sort()` orders strings.
 * The few keys of a record are put in order by insertion, in place: the built-in sort
 * allocates its own work copy on every call, and it is called for every object written.
 */
export function sortKeys(keys: string[]): string[] {
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

/** Index keys ascending first, then the rest sorted: the order of a sorted object's keys. */
function sortedKeys(object: object): string[] {
  const keys = sortKeys(Object.keys(object));
  let indexed = false;
  for (let i = 0; i < keys.length && !indexed; i++) indexed = isIndex(keys[i]!);
  if (!indexed) return keys;
  const indices = keys.filter(isIndex).sort((a, b) => Number(a) - Number(b));
  return [...indices, ...keys.filter((k) => !isIndex(k))];
}

/**
 * `canonicalJson` of the object with these keys and values, written without building it:
 * `keys` must be in the order canonicalJson sorts them, none an array index (a node's
 * provenance: `['input', 'instrument', 'kind', 'node']`).
 */
export function canonicalObject(keys: readonly string[], values: readonly unknown[]): string {
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = canonicalValue(values[i], k);
    if (v === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${quoteKey(k)}:${v}`;
  }
  return `${out}}`;
}

/** Keys as JSON strings, kept: the same few keys recur in every record written. */
const quotedKeys = new Map<string, string>();

/** A key as a JSON string, as canonicalJson writes it. */
export function quoteKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    // Bounded: keys from user data must not grow it without end.
    if (quotedKeys.size < 4096) quotedKeys.set(key, quoted);
  }
  return quoted;
}

/**
 * One value as JSON.stringify would write it in that place, with canonicalJson's sorted keys;
 * undefined where it writes nothing. `key` is its key or array index, given to a `toJSON` as
 * a string.
 */
export function canonicalValue(input: unknown, key: string | number): string | undefined {
  let value = input;
  if (value !== null && (typeof value === 'object' || typeof value === 'bigint') && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(key: string): unknown }).toJSON(String(key));
  }
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += canonicalValue(value[i], i) ?? 'null';
    }
    return `${out}]`;
  }
  // Typed arrays are written as JSON.stringify writes them: their indices, in order.
  const keys = value instanceof Uint8Array ? Object.keys(value) : sortedKeys(value as object);
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = canonicalValue((value as Record<string, unknown>)[k], k);
    if (v === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${quoteKey(k)}:${v}`;
  }
  return `${out}}`;
}

/** The hex sha256 of a string's UTF-8 bytes, or of bytes: one call, without a Hash object per digest. */
export function sha256(data: string | Uint8Array): string {
  return hash('sha256', data, 'hex');
}
