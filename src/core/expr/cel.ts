import { Environment } from '@marcbachmann/cel-js';

/**
 * The CEL environment Symphony evaluates `${{ }}` expressions in, and the values that cross
 * into it — shared by the loader's checks, the engine's thread and the expression worker, so
 * all three parse alike. Kept free of everything else: the worker loads only this.
 */

/**
 * Limits on one expression, checked when the melody loads. A person writes expressions of
 * a line or two; these let through anything of that kind and refuse text built to make
 * evaluation explode (a 600-byte expression can ask for 24 million steps).
 */
export const EXPRESSION_LIMITS = {
  /** Characters between `${{` and `}}` (or of a bare condition). */
  maxChars: 4096,
  /** Parts of its syntax tree (literals, names, operators, calls). */
  maxAstNodes: 1000,
  /** Levels of nesting: parentheses, operators, calls, field access. */
  maxDepth: 32,
  maxListElements: 500,
  maxMapEntries: 500,
  maxCallArguments: 32,
  /**
   * Comprehensions (`map`, `filter`, `all`, `exists`, `exists_one`) inside one another: each
   * level multiplies the work by the size of its list. Two cover "any item with a tag".
   */
  maxComprehensionNesting: 2,
} as const;

/**
 * How long an expression may take to evaluate when its node has no `timeout:` (with one,
 * the timeout bounds it). Ordinary expressions take microseconds; one that takes seconds
 * is a loop over data nobody meant to loop over.
 */
export const EXPRESSION_TIME_LIMIT_MS = 10_000;

/** Heap of the thread that evaluates costly expressions: past it, the evaluation fails. */
export const EXPRESSION_MEMORY_MB = 256;

/** The status functions of `if:` conditions (GitHub-Actions style). */
export interface StatusFunctions {
  /** All needs succeeded (the default condition). */
  readonly success: boolean;
  /** Some need failed. */
  readonly failure: boolean;
  /** The run is being cancelled. */
  readonly cancelled: boolean;
}

export const NO_FAILURE: StatusFunctions = { success: true, failure: false, cancelled: false };

/**
 * A CEL environment with Symphony's functions and limits. `status` is read when a
 * condition calls `success()`, `failure()` or `cancelled()`: evaluation is synchronous, so
 * the caller sets the status of the condition being evaluated just before it runs.
 */
export function celEnvironment(status: () => StatusFunctions): Environment {
  const { maxAstNodes, maxDepth, maxListElements, maxMapEntries, maxCallArguments } = EXPRESSION_LIMITS;
  return new Environment({
    unlistedVariablesAreDyn: true,
    homogeneousAggregateLiterals: false,
    enableOptionalTypes: true,
    limits: { maxAstNodes, maxDepth, maxListElements, maxMapEntries, maxCallArguments },
  })
    .registerFunction('success(): bool', () => status().success)
    .registerFunction('failure(): bool', () => status().failure)
    .registerFunction('cancelled(): bool', () => status().cancelled)
    .registerFunction('always(): bool', () => true)
    .registerFunction('toJson(dyn): string', (v: unknown) => JSON.stringify(fromCel(v)))
    .registerFunction('fromJson(string): dyn', (s: string) => toCel(JSON.parse(s)));
}

/**
 * A JSON-like value as CEL sees it. CEL distinguishes integers from doubles, JSON does not:
 * integral numbers become CEL ints (BigInt). Maps become `Map`s: the CEL library tells an
 * object's type by its `constructor` property, so a plain object with a key named
 * `constructor` (a node's output, a webhook's payload) would not be a map to it — and
 * `__proto__` would not survive being copied. A `Map` has neither problem.
 */
export function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) && Number.isSafeInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  // Filled entry by entry, in the order the entries come: no array of pairs built to make each Map.
  if (value instanceof Map) {
    const out = new Map<unknown, unknown>();
    for (const [k, v] of value as Map<unknown, unknown>) out.set(k, toCel(v));
    return out;
  }
  if (value && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array)) {
    const out = new Map<string, unknown>();
    for (const k of Object.keys(value)) out.set(k, toCel((value as Record<string, unknown>)[k]));
    return out;
  }
  return value === undefined ? null : value;
}

/** A CEL result as plain JSON-like data: ints become numbers (or strings when too large). */
export function fromCel(value: unknown): unknown {
  if (typeof value === 'bigint') {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value.toString();
  }
  if (Array.isArray(value)) return value.map(fromCel);
  // fromEntries keeps every key an own key, `__proto__` included.
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), fromCel(v)]));
  if (value && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromCel(v)]));
  }
  return value;
}

/** The first line of an error's message: CEL appends the expression with a caret. */
export const firstLine = (e: unknown): string => String((e as Error)?.message ?? e).split('\n')[0] ?? 'error';
