import { celEnvironment, EXPRESSION_TIME_LIMIT_MS, firstLine, fromCel, NO_FAILURE, toCel, type StatusFunctions } from './cel';
import { expressionShape, type ExpressionShape } from './shape';
import { conditionSource, findTemplateParts, wholeExpression } from './template';
import { EvaluationFailed, EvaluationStopped, ExpressionWorkers } from './workers';
import { setOwn } from '../model/names';

/**
 * Evaluation of `${{ }}` expressions with a CEL library — never `eval`. The context holds
 * `inputs`, `nodes.<id>.status|output`, `trigger`, `secrets` and `loop.iteration`.
 *
 * Every evaluation is bounded. The melody loader refuses expressions past the size and
 * nesting limits (`cel.ts`); what remains is either cheap — linear in the expression and
 * the data, evaluated at once on this thread — or costly (comprehensions, regular
 * expressions, functions whose output outgrows their input: `shape.ts`), and then it runs on
 * a worker thread that its deadline or its signal terminates. So a node's `timeout:` and a
 * run's cancellation always win, and a slow expression never holds up the thread that
 * serves webhooks and the editor.
 *
 * CEL distinguishes integers from doubles; JSON does not. Values entering CEL have their
 * integral numbers turned into CEL ints (BigInt), and values leaving it have ints turned
 * back into numbers, so `nodes.test.output.exitCode == 0` and `size(x) + 1` both work.
 */

export { EXPRESSION_TIME_LIMIT_MS, fromCel, toCel, type StatusFunctions } from './cel';

/** Raised when an expression cannot be evaluated; the message says which and why. */
export class ExpressionError extends Error {
  constructor(
    readonly expression: string,
    message: string,
    /** Set when the evaluation was stopped (deadline, signal) rather than failing by itself. */
    readonly stopped?: EvaluationStopped['reason'],
  ) {
    super(`expression \`${expression}\` failed: ${message}`);
    this.name = 'ExpressionError';
  }
}

/** What bounds one evaluation beyond the load-time limits. */
export interface EvaluationBounds {
  /** Aborting it stops the evaluation: a node's timeout, a run's cancellation. */
  readonly signal?: AbortSignal;
  /** Most milliseconds a costly expression may take (default EXPRESSION_TIME_LIMIT_MS). */
  readonly timeLimitMs?: number;
}

// Evaluation on this thread is synchronous, so the status of the condition being evaluated
// can live in one slot that the registered functions read.
let currentStatus: StatusFunctions = NO_FAILURE;
const env = celEnvironment(() => currentStatus);

interface Compiled {
  readonly run: (context: Readonly<Record<string, unknown>>) => unknown;
  readonly shape: ExpressionShape;
}
const compiled = new Map<string, Compiled>();

function compile(expression: string): Compiled {
  let c = compiled.get(expression);
  if (!c) {
    try {
      const fn = env.parse(expression);
      c = { run: fn as unknown as Compiled['run'], shape: expressionShape(fn.ast) };
    } catch (e) {
      throw new ExpressionError(expression, firstLine(e));
    }
    if (compiled.size > 5000) compiled.clear();
    compiled.set(expression, c);
  }
  return c;
}

let workers: ExpressionWorkers | undefined;

/** The worker threads of this process, started when the first costly expression comes. */
export function expressionWorkers(): ExpressionWorkers {
  return (workers ??= new ExpressionWorkers());
}

/** The variables of an expression (`inputs`, `trigger`, `nodes`…), each value as CEL sees it. */
export function celVariables(variables: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, toCel(v)]));
}

/** Whether evaluating `expression` goes to a worker thread (see `shape.ts`); false for one that does not parse. */
export function isCostly(expression: string): boolean {
  try {
    return compile(expression).shape.costly;
  } catch {
    return false;
  }
}

/** Evaluates one CEL expression over a context made with `celVariables`. */
export async function evaluateExpression(
  expression: string,
  celContext: Readonly<Record<string, unknown>>,
  status?: StatusFunctions,
  bounds: EvaluationBounds = {},
): Promise<unknown> {
  const c = compile(expression);
  if (!c.shape.costly) return evaluateHere(expression, c, celContext, status);
  try {
    return await expressionWorkers().evaluate(expression, contextFor(c.shape, celContext), status, {
      signal: bounds.signal,
      timeLimitMs: bounds.timeLimitMs ?? EXPRESSION_TIME_LIMIT_MS,
    });
  } catch (e) {
    if (e instanceof EvaluationStopped) throw new ExpressionError(expression, e.message, e.reason);
    throw new ExpressionError(expression, e instanceof EvaluationFailed ? e.message : firstLine(e));
  }
}

function evaluateHere(expression: string, c: Compiled, celContext: Readonly<Record<string, unknown>>, status: StatusFunctions | undefined): unknown {
  const saved = currentStatus;
  if (status) currentStatus = status;
  try {
    return fromCel(c.run(celContext));
  } catch (e) {
    throw new ExpressionError(expression, firstLine(e));
  } finally {
    currentStatus = saved;
  }
}

/**
 * The part of the context an expression reads — all a worker needs to be sent. A run's
 * `nodes` can hold every output so far; an expression naming `nodes.a` gets only `a`.
 */
function contextFor(shape: ExpressionShape, celContext: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of shape.variables) {
    if (!Object.hasOwn(celContext, name)) continue;
    const value = celContext[name];
    if (name === 'nodes' && shape.nodeIds && value instanceof Map) {
      out.nodes = new Map([...shape.nodeIds].filter((id) => value.has(id)).map((id) => [id, value.get(id)]));
    } else setOwn(out, name, value);
  }
  return out;
}

/** An `if:` / `loop.until` condition: bare CEL or `${{ }}`; must yield a boolean. */
export async function evaluateCondition(
  source: string | boolean,
  celContext: Readonly<Record<string, unknown>>,
  status?: StatusFunctions,
  bounds?: EvaluationBounds,
): Promise<boolean> {
  if (typeof source === 'boolean') return source;
  const expression = conditionSource(source);
  const value = await evaluateExpression(expression, celContext, status, bounds);
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
export async function renderString(text: string, celContext: Readonly<Record<string, unknown>>, bounds?: EvaluationBounds): Promise<unknown> {
  if (!text.includes('${{')) return text;
  const whole = wholeExpression(text);
  if (whole !== undefined) return evaluateExpression(whole, celContext, undefined, bounds);
  let out = '';
  let at = 0;
  for (const part of findTemplateParts(text)) {
    if (!part.terminated) throw new ExpressionError(part.expression, 'the `${{` is not closed with `}}`');
    out += text.slice(at, part.start) + interpolate(await evaluateExpression(part.expression, celContext, undefined, bounds));
    at = part.end;
  }
  return out + text.slice(at);
}

/** What `plainCopy` returns for a value that holds an expression. */
const HAS_EXPRESSION: unique symbol = Symbol('has an expression');

/**
 * The copy renderValue makes of a value without any `${{`, made without a turn per member:
 * the same arrays and objects anew, everything else as it is. HAS_EXPRESSION when some
 * string holds one.
 */
function plainCopy(value: unknown): unknown {
  if (typeof value === 'string') return value.includes('${{') ? HAS_EXPRESSION : value;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value) {
      const c = plainCopy(v);
      if (c === HAS_EXPRESSION) return c;
      out.push(c);
    }
    return out;
  }
  if (value && typeof value === 'object') {
    // Own data properties in the same order, as Object.fromEntries makes them, without an
    // array of pairs per object; `__proto__` stays a key (setOwn), not the prototype.
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) {
      const c = plainCopy((value as Record<string, unknown>)[k]);
      if (c === HAS_EXPRESSION) return c;
      if (k === '__proto__') setOwn(out, k, c);
      else out[k] = c;
    }
    return out;
  }
  return value;
}

/** Renders every string inside a value (the `with:` of a node), recursively. */
export async function renderValue(value: unknown, celContext: Readonly<Record<string, unknown>>, bounds?: EvaluationBounds): Promise<unknown> {
  return renderValueNow(value, () => celContext, bounds);
}

/**
 * renderValue without a turn for a value that holds no `${{` (the common `with:`): its copy
 * at once, else a promise of the rendered value. The expressions' variables are asked for
 * only when there are expressions. Never a promise otherwise: the copy of an object is a
 * plain object.
 */
export function renderValueNow(value: unknown, celContext: () => Readonly<Record<string, unknown>>, bounds?: EvaluationBounds): unknown {
  const plain = plainCopy(value);
  if (plain !== HAS_EXPRESSION) return plain;
  return renderTemplates(value, celContext(), bounds);
}

async function renderTemplates(value: unknown, celContext: Readonly<Record<string, unknown>>, bounds?: EvaluationBounds): Promise<unknown> {
  if (typeof value === 'string') return renderString(value, celContext, bounds);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value) out.push(await renderTemplates(v, celContext, bounds));
    return out;
  }
  if (value && typeof value === 'object') {
    // fromEntries keeps every key an own key, `__proto__` included.
    const entries: [string, unknown][] = [];
    for (const [k, v] of Object.entries(value)) entries.push([k, await renderTemplates(v, celContext, bounds)]);
    return Object.fromEntries(entries);
  }
  return value;
}
