import type { z } from 'zod';
import type { Diagnostic } from '../model/diagnostic';
import { closest } from './suggest';
import type { YamlPath, YamlSource } from './yamlSource';

/**
 * Turns zod issues into diagnostics a person can act on: each names the key in the
 * document's own terms (`nodes.test.retry.max`), says what is expected and what was
 * found, suggests the nearest known key for a typo, and points at the exact key or value.
 */
export function schemaDiagnostics(
  issues: readonly z.core.$ZodIssue[],
  source: YamlSource,
  root: z.ZodType,
  data: unknown,
  base: YamlPath = [],
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    const where = `\`${dotted(path)}\``;
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = knownKeys(root, issue.path as YamlPath, data);
        for (const key of issue.keys) {
          const hint = closest(key, known);
          const msg =
            `unknown key \`${key}\`${path.length ? ` in ${where}` : ''}` +
            (hint ? `; did you mean \`${hint}\`?` : known.length ? `; expected one of: ${known.join(', ')}` : '');
          out.push(source.diagnostic([...path, key], msg, 'unknown-key', { on: 'key' }));
        }
        break;
      }
      case 'invalid_type': {
        const actual = valueAt(data, issue.path as YamlPath);
        const msg =
          actual === undefined
            ? `${where} is required (${describeExpected(issue.expected)})`
            : `${where} must be ${describeExpected(issue.expected)}, not ${describeValue(actual)}`;
        out.push(source.diagnostic(path, msg, 'schema'));
        break;
      }
      case 'invalid_value': {
        const actual = valueAt(data, issue.path as YamlPath);
        const options = issue.values.map((v) => JSON.stringify(v));
        const hint = typeof actual === 'string' ? closest(actual, issue.values.map(String)) : undefined;
        const msg =
          options.length === 1
            ? `${where} must be ${options[0]}`
            : `${where} must be one of ${options.join(', ')}` + (hint ? `; did you mean "${hint}"?` : '');
        out.push(source.diagnostic(path, msg, 'schema'));
        break;
      }
      case 'invalid_union': {
        if ('discriminator' in issue && issue.discriminator) {
          const actual = valueAt(data, issue.path as YamlPath);
          const options = ((issue as { options?: unknown[] }).options ?? []).map(String);
          const hint = typeof actual === 'string' ? closest(actual, options) : undefined;
          const msg =
            actual === undefined
              ? `${where} is required; use one of: ${options.join(', ')}`
              : `${where}: unknown value ${JSON.stringify(actual)}; use one of: ${options.join(', ')}` +
                (hint ? ` (did you mean "${hint}"?)` : '');
          out.push(source.diagnostic(path, msg, 'schema'));
        } else {
          // A plain union (e.g. "a string or a list"): report the alternatives' first words.
          out.push(source.diagnostic(path, `${where} has an unexpected form: ${describeUnion(issue)}`, 'schema'));
        }
        break;
      }
      case 'invalid_key': {
        const inner = issue.issues[0]?.message ?? 'invalid key';
        out.push(source.diagnostic(path, `key \`${String(issue.path[issue.path.length - 1])}\` is not valid: ${inner}`, 'schema', { on: 'key' }));
        break;
      }
      case 'too_small':
      case 'too_big': {
        const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
        const strict = issue.inclusive === false;
        const relation =
          issue.origin === 'string' || issue.origin === 'array'
            ? `${issue.code === 'too_small' ? 'at least' : 'at most'} ${String(bound)} ${issue.origin === 'string' ? 'characters' : 'items'}`
            : `${issue.code === 'too_small' ? (strict ? 'greater than' : 'at least') : strict ? 'less than' : 'at most'} ${String(bound)}`;
        out.push(source.diagnostic(path, `${where} must be ${relation}`, 'schema'));
        break;
      }
      case 'invalid_format':
      case 'custom':
      default:
        out.push(source.diagnostic(path, `${where}: ${issue.message}`, 'schema'));
    }
  }
  return out;
}

/** `nodes.test.with.args[1]` */
export function dotted(path: YamlPath): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${p}` : p;
  return s || '(document)';
}

function describeExpected(expected: string): string {
  switch (expected) {
    case 'array':
      return 'a list';
    case 'object':
    case 'record':
      return 'a map of keys to values';
    case 'string':
      return 'text';
    case 'number':
    case 'int':
      return 'a number';
    case 'boolean':
      return 'true or false';
    default:
      return expected;
  }
}

function describeValue(v: unknown): string {
  if (v === null) return 'null (an empty value)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `text ${JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v)}`;
  return `${typeof v} ${String(v)}`;
}

function describeUnion(issue: z.core.$ZodIssueInvalidUnion): string {
  const firsts = issue.errors.map((branch) => branch[0]?.message).filter(Boolean);
  return [...new Set(firsts)].join('; or ') || issue.message;
}

function valueAt(data: unknown, path: YamlPath): unknown {
  let cur = data;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

type Def = { type: string; shape?: Record<string, z.ZodType>; valueType?: z.ZodType; element?: z.ZodType; innerType?: z.ZodType; in?: z.ZodType; options?: z.ZodType[]; discriminator?: string; items?: z.ZodType[] };

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** Peels wrappers (optional, default, pipe…) off a schema. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let i = 0; i < 20; i++) {
    const d = defOf(s);
    if (d.innerType) s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else break;
  }
  return s;
}

/** The keys the schema allows for the object at `path` (best effort; used for suggestions). */
export function knownKeys(root: z.ZodType, path: YamlPath, data: unknown): string[] {
  let schema: z.ZodType | undefined = root;
  let value: unknown = data;
  const step = (s: z.ZodType, v: unknown): z.ZodType => {
    const u = unwrap(s);
    const d = defOf(u);
    if (d.type === 'union' && d.options) {
      const disc = d.discriminator;
      const picked = disc && v && typeof v === 'object'
        ? d.options.find((o) => {
            const shape = defOf(unwrap(o)).shape;
            const lit = shape?.[disc] ? defOf(unwrap(shape[disc])) as unknown as { values?: unknown[] } : undefined;
            return lit?.values?.includes((v as Record<string, unknown>)[disc]);
          })
        : undefined;
      return picked ? unwrap(picked) : unwrap(d.options[0]!);
    }
    return u;
  };
  for (const p of path) {
    if (!schema) return [];
    const d = defOf(step(schema, value));
    if (d.type === 'object' && d.shape) schema = d.shape[String(p)];
    else if (d.type === 'record') schema = d.valueType;
    else if (d.type === 'array') schema = d.element;
    else return [];
    value = value && typeof value === 'object' ? (value as Record<string | number, unknown>)[p] : undefined;
  }
  if (!schema) return [];
  const d = defOf(step(schema, value));
  return d.type === 'object' && d.shape ? Object.keys(d.shape).filter((k) => k !== '$schema') : [];
}
