import type { z } from 'zod';

/**
 * Names people choose — node ids, input names, the keys of a node's output or a webhook's
 * payload — are ordinary keys, including Object.prototype's own names. A plain `{}` gets
 * them wrong two ways: `obj['constructor']` finds Object's constructor where there is no
 * node of that name, and `obj['__proto__'] = v` replaces the prototype instead of adding a
 * key. These helpers keep such keys data.
 *
 * Records Symphony owns (a run's nodes, a melody's nodes and inputs) have no prototype.
 * Values handed to libraries that expect plain objects (CEL, zod, ajv) are plain objects
 * whose keys are all own properties — built with `Object.fromEntries` or `setOwn`, never by
 * assignment.
 */

/** A record with no prototype: only the keys put in it are there, `__proto__` included. */
export function nameRecord<V>(entries: Iterable<readonly [string, V]> = []): Record<string, V> {
  const out = Object.create(null) as Record<string, V>;
  // On an object without a prototype, assigning `__proto__` makes an ordinary key.
  for (const [k, v] of entries) out[k] = v;
  return out;
}

/** Sets an own property, even `__proto__` (which plain assignment takes for the prototype). */
export function setOwn<V>(record: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
}

/** The value of an own key; never one inherited from Object.prototype. */
export function own<V>(record: Readonly<Record<string, V>> | undefined, key: string): V | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

const PROTO = '__proto__';

/**
 * `schema.safeParse(data)` that keeps `__proto__` keys, which zod drops from every object
 * and record it builds (and so never validates). Each such key is renamed to a stand-in
 * before parsing and back after, in the output and in the paths of issues.
 *
 * Finding them walks all of `data`; a caller that knows no object of `data` can have one
 * (the loader knows from the YAML it parsed) passes `mayHaveProtoKeys: false` to skip that.
 */
export function safeParseNames<S extends z.ZodType>(schema: S, data: unknown, mayHaveProtoKeys = true): z.ZodSafeParseResult<z.output<S>> {
  const standIn = mayHaveProtoKeys ? standInFor(data) : undefined;
  if (standIn === undefined) return schema.safeParse(data);
  const result = schema.safeParse(renameKeys(data, PROTO, standIn));
  if (result.success) return { ...result, data: renameKeys(result.data, standIn, PROTO) as z.output<S> };
  // The issues are zod's own objects, made for this call: they are renamed in place.
  for (const issue of result.error.issues as { path: PropertyKey[]; code: string; keys?: string[] }[]) {
    issue.path = issue.path.map((p) => (p === standIn ? PROTO : p));
    if (issue.keys) issue.keys = issue.keys.map((k) => (k === standIn ? PROTO : k));
  }
  return result;
}

/**
 * A key that no object in `data` has, to stand in for `__proto__` (a valid node id, so the
 * id pattern accepts it); undefined when no object of `data` has a `__proto__` key at all.
 */
function standInFor(data: unknown): string | undefined {
  // Most data has no `__proto__` key: that is found without a set or a closure per call.
  if (!hasKey(data, PROTO)) return undefined;
  const keys = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      for (const k of Object.keys(v)) {
        if (k.startsWith('__symphony_proto')) keys.add(k);
        walk((v as Record<string, unknown>)[k]);
      }
    }
  };
  walk(data);
  let standIn = '__symphony_proto__';
  for (let i = 2; keys.has(standIn); i++) standIn = `__symphony_proto_${i}__`;
  return standIn;
}

/** Whether some object inside `v` (itself included) has the own key `key`. */
function hasKey(v: unknown, key: string): boolean {
  if (Array.isArray(v)) {
    for (const x of v) if (hasKey(x, key)) return true;
    return false;
  }
  if (v === null || typeof v !== 'object') return false;
  for (const k of Object.keys(v)) if (k === key || hasKey((v as Record<string, unknown>)[k], key)) return true;
  return false;
}

/** A copy of `value` with `from` keys renamed `to`; objects without one are kept as they are. */
function renameKeys(value: unknown, from: string, to: string): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => renameKeys(v, from, to));
    return items.every((v, i) => v === value[i]) ? value : items;
  }
  if (value === null || typeof value !== 'object' || value instanceof Date || value instanceof Uint8Array) return value;
  const entries = Object.entries(value);
  const renamed = entries.map(([k, v]) => [k === from ? to : k, renameKeys(v, from, to)] as const);
  if (renamed.every(([k, v], i) => k === entries[i]![0] && v === entries[i]![1])) return value;
  const out = Object.getPrototypeOf(value) === null ? (Object.create(null) as Record<string, unknown>) : {};
  for (const [k, v] of renamed) setOwn(out, k, v);
  return out;
}
