import { Environment } from '@marcbachmann/cel-js';
import { conditionSource, findTemplateParts, wholeExpression } from './template';

/**
 * Evaluation of `${{ }}` expressions with a CEL library — never `eval`. The context holds
 * `inputs`, `nodes.<id>.status|output`, `trigger`, `secrets` and `loop.iteration`.
 *
 * CEL distinguishes integers from doubles; JSON does not. Values entering CEL have their
 * integral numbers turned into CEL ints (BigInt), and values leaving it have ints turned
 * back into numbers, so `nodes.test.output.exitCode == 0` and `size(x) + 1` both work.
 */

/** The status functions of `if:` conditions (GitHub-Actions style). */
export interface StatusFunctions {
  /** All needs succeeded (the default condition). */
  readonly success: boolean;
  /** Some need failed. */
  readonly failure: boolean;
  /** The run is being cancelled. */
  readonly cancelled: boolean;
}

/** Raised when an expression cannot be evaluated; the message says which and why. */
export class ExpressionError extends Error {
  constructor(
    readonly expression: string,
    message: string,
  ) {
    super(`expression \`${expression}\` failed: ${message}`);
    this.name = 'ExpressionError';
  }
}

// Evaluation is synchronous, so the status of the condition being evaluated can live in
// one slot that the registered functions read.
let currentStatus: StatusFunctions = { success: true, failure: false, cancelled: false };

const env = new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false, enableOptionalTypes: true })
  .registerFunction('success(): bool', () => currentStatus.success)
  .registerFunction('failure(): bool', () => currentStatus.failure)
  .registerFunction('cancelled(): bool', () => currentStatus.cancelled)
  .registerFunction('always(): bool', () => true)
  .registerFunction('toJson(dyn): string', (v: unknown) => JSON.stringify(fromCel(v)))
  .registerFunction('fromJson(string): dyn', (s: string) => toCel(JSON.parse(s)));

type Compiled = (context: Record<string, unknown>) => unknown;
const compiled = new Map<string, Compiled>();

function compile(expression: string): Compiled {
  let fn = compiled.get(expression);
  if (!fn) {
    try {
      fn = env.parse(expression) as unknown as Compiled;
    } catch (e) {
      throw new ExpressionError(expression, firstLine(e));
    }
    if (compiled.size > 5000) compiled.clear();
    compiled.set(expression, fn);
  }
  return fn;
}

const firstLine = (e: unknown) => String((e as Error)?.message ?? e).split('\n')[0] ?? 'error';

/**
 * A JSON-like value as CEL sees it: integral numbers become ints, and maps become `Map`s.
 * The CEL library tells an object's type by its `constructor` property, so a plain object
 * with a key named `constructor` (a node's output, a webhook's payload) would not be a map
 * to it — and `__proto__` would not survive being copied; a `Map` has neither problem.
 */
export function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) && Number.isSafeInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, toCel(v)]));
  if (value && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array)) {
    return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
  }
  return value === undefined ? null : value;
}

/** The variables of an expression (`inputs`, `trigger`, `nodes`…), each value as CEL sees it. */
export function celVariables(variables: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, toCel(v)]));
}

/** A CEL result as plain JSON-like data: ints become numbers (or strings when too large). */
export function fromCel(value: unknown): unknown {
  if (typeof value === 'bigint') {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value.toString();
  }
  if (Array.isArray(value)) return value.map(fromCel);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), fromCel(v)]));
  if (value && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromCel(v)]));
  }
  return value;
}

/** Evaluates one CEL expression over a context already converted with `toCel`. */
export function evaluateExpression(expression: string, celContext: Record<string, unknown>, status?: StatusFunctions): unknown {
  const fn = compile(expression);
  const saved = currentStatus;
  if (status) currentStatus = status;
  try {
    return fromCel(fn(celContext));
  } catch (e) {
    throw new ExpressionError(expression, firstLine(e));
  } finally {
    currentStatus = saved;
  }
}

/** An `if:` / `loop.until` condition: bare CEL or `${{ }}`; must yield a boolean. */
export function evaluateCondition(source: string | boolean, celContext: Record<string, unknown>, status?: StatusFunctions): boolean {
  if (typeof source === 'boolean') return source;
  const expression = conditionSource(source);
  const value = evaluateExpression(expression, celContext, status);
  if (typeof value !== 'boolean') throw new ExpressionError(expression, `a condition must be true or false, not ${JSON.stringify(value)}`);
  return value;
}

/** How a value reads inside text: strings as is, objects as JSON, null as nothing. */
export function interpolate(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * Renders a string holding `${{ }}` parts. A string that is exactly one expression keeps
 * the expression's type (a list stays a list); otherwise the parts are interpolated as text.
 */
export function renderString(text: string, celContext: Record<string, unknown>): unknown {
  if (!text.includes('${{')) return text;
  const whole = wholeExpression(text);
  if (whole !== undefined) return evaluateExpression(whole, celContext);
  let out = '';
  let at = 0;
  for (const part of findTemplateParts(text)) {
    if (!part.terminated) throw new ExpressionError(part.expression, 'the `${{` is not closed with `}}`');
    out += text.slice(at, part.start) + interpolate(evaluateExpression(part.expression, celContext));
    at = part.end;
  }
  return out + text.slice(at);
}

/** Renders every string inside a value (the `with:` of a node), recursively. */
export function renderValue(value: unknown, celContext: Record<string, unknown>): unknown {
  if (typeof value === 'string') return renderString(value, celContext);
  if (Array.isArray(value)) return value.map((v) => renderValue(v, celContext));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderValue(v, celContext)]));
  return value;
}
