import { z } from 'zod';
import { melodyShapeSchema, nodeSchemaFor } from '../model/melody';
import { NODE_KINDS, type NodeKind } from '../model/nodeKinds';
import type { FormField, FormVariant } from '../../protocol/boardModel';

/**
 * Inspector forms generated from the model's zod schemas (through their JSON Schema), so
 * a field added to a node kind or to the melody format appears on the board with its
 * description, type, bounds and default — with no form code to keep in step.
 */

type Schema = {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
};

const jsonSchemaOf = (schema: z.ZodType): Schema => z.toJSONSchema(schema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as Schema;

/** Keys whose text is long: prompts, templates, messages. */
const MULTILINE = new Set(['prompt', 'system', 'template', 'stdin', 'message', 'summary', 'text', 'content', 'description']);

/** Keys edited with a picker of the workspace's instruments, nodes or melodies. */
const SUGGEST: Record<string, 'instrument' | 'node' | 'melody'> = { instrument: 'instrument', fallback: 'instrument', compensate: 'node', melody: 'melody' };

/** Labels a key's name does not spell out well. */
const LABELS: Record<string, string> = {
  usd: 'USD',
  fs: 'Files',
  cwd: 'Working directory',
  args: 'Arguments',
  env: 'Environment',
  if: 'Run if',
  stdin: 'Standard input',
  json: 'JSON output',
  'continue-on-error': 'Continue on error',
  'cancel-in-progress': 'Cancel in progress',
  'on-failure': 'On failure',
};

const labelOf = (key: string): string => {
  if (LABELS[key]) return LABELS[key];
  const words = key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[-_]/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
};

const types = (s: Schema): string[] => (Array.isArray(s.type) ? s.type : s.type ? [s.type] : []);

/** One property of an object schema as a form field. */
export function fieldOf(key: string, s: Schema, required: boolean): FormField | undefined {
  if (s.const !== undefined) return undefined;
  const base = { key, label: labelOf(key), description: s.description, required: required || undefined, default: s.default };
  const t = types(s);
  if (s.enum && s.enum.every((v) => typeof v === 'string')) return { ...base, type: 'choice', options: s.enum as string[] };
  if (t.length === 1 && t[0] === 'boolean') return { ...base, type: 'boolean' };
  if (t.length === 1 && (t[0] === 'integer' || t[0] === 'number')) {
    // "More than 0" is "at least 1" for whole numbers; for fractions the form says no bound.
    const min = s.minimum ?? (s.exclusiveMinimum !== undefined && t[0] === 'integer' ? s.exclusiveMinimum + 1 : undefined);
    // zod writes "any safe integer" as a maximum; that is no limit a person needs to see.
    const max = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
    return { ...base, type: 'number', integer: t[0] === 'integer', min, max };
  }
  // Strings, and the unions a person types as text: durations (string | number), `if` (string | boolean).
  if (t.includes('string') && t.every((x) => x === 'string' || x === 'number' || x === 'boolean')) {
    const placeholder = t.includes('number') ? '30s, 5m, 500ms' : t.includes('boolean') ? "${{ nodes.<id>.status == 'success' }}" : undefined;
    return { ...base, type: 'text', multiline: MULTILINE.has(key) || undefined, placeholder, suggest: SUGGEST[key] };
  }
  const variants = s.anyOf ?? s.oneOf;
  // `needs`: one id or a list of them.
  if (variants?.some((v) => types(v).includes('string')) && variants.some((v) => types(v).includes('array'))) {
    return { ...base, type: 'list', suggest: 'node' };
  }
  if (t[0] === 'array' && s.items) {
    if (types(s.items).includes('string') && types(s.items).length === 1) return { ...base, type: 'list', suggest: SUGGEST[key] === 'instrument' ? 'instrument' : undefined };
    const itemVariants = s.items.oneOf ?? s.items.anyOf;
    const discriminated = itemVariants ? variantsOf(itemVariants) : undefined;
    if (discriminated) return { ...base, ...discriminated };
  }
  if (t[0] === 'object' && s.properties && s.additionalProperties === false) return { ...base, type: 'group', fields: fieldsOf(s) };
  if (t[0] === 'object' && typeof s.additionalProperties === 'object' && s.additionalProperties.properties) {
    return { ...base, type: 'entries', fields: fieldsOf(s.additionalProperties) };
  }
  return { ...base, type: 'yaml' };
}

/** Object schemas told apart by one `const` property (`on: save` / `on: schedule` …). */
function variantsOf(options: Schema[]): { type: 'variants'; discriminator: string; variants: FormVariant[] } | undefined {
  const first = options[0]?.properties ?? {};
  const discriminator = Object.keys(first).find((k) => options.every((o) => o.properties?.[k]?.const !== undefined));
  if (!discriminator) return undefined;
  const variants = options.map((o) => ({ value: String(o.properties![discriminator]!.const), description: o.description, fields: fieldsOf(o) }));
  return { type: 'variants', discriminator, variants };
}

/** The fields of an object schema, in declaration order. */
export function fieldsOf(s: Schema, skip: readonly string[] = []): FormField[] {
  const required = new Set(s.required ?? []);
  return Object.entries(s.properties ?? {})
    .filter(([k]) => !skip.includes(k))
    .map(([k, v]) => fieldOf(k, v, required.has(k)))
    .filter((f): f is FormField => f !== undefined);
}

/** The fields of a kind's `with:`. */
export function withFields(kind: NodeKind): FormField[] {
  // A sub-melody's `melody:` is a file path, not a melody name to pick from.
  return fieldsOf(jsonSchemaOf(NODE_KINDS[kind])).map((f) => (f.type === 'text' && f.suggest === 'melody' ? { ...f, suggest: undefined } : f));
}

/**
 * Fields every node has, besides `uses` (fixed), `with` (per kind) and `needs` (drawn as
 * edges, and listed with their own editor).
 */
export function nodeFields(): FormField[] {
  return fieldsOf(jsonSchemaOf(nodeSchemaFor('shell')), ['uses', 'with', 'needs']);
}

/** The melody's own settings: everything but its nodes and the board's layout. */
export function melodyFields(): FormField[] {
  return fieldsOf(jsonSchemaOf(melodyShapeSchema), ['$schema', 'nodes', 'board']);
}
