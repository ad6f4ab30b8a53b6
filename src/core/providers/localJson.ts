import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ModelCallError, type JsonSchema, type ToolCall, type ToolDefinition } from './types';

/**
 * The JSON half of the local provider, pure (no llama.cpp): what a JSON Schema becomes as
 * a llama.cpp grammar, the most tokens a JSON answer under that grammar can take, and the
 * "action" a model emits to call a tool or answer when tools are offered.
 *
 * node-llama-cpp turns a subset of JSON Schema into a GBNF grammar (`type`, `const`,
 * `enum`, `oneOf`, objects, arrays, strings with `minLength`/`maxLength`, `$defs`/`$ref`);
 * `grammarSchema` maps what zod and people write onto that subset. Where the grammar cannot
 * say what the schema says (`pattern`, `minimum`, `uniqueItems`…) the grammar is looser and
 * the caller's validation has the last word; where the schema leaves a choice open the
 * grammar is tighter but still valid (every listed property is written; objects with
 * properties take no others).
 */

/** A JSON Schema in the subset node-llama-cpp's grammar generator reads (its `GbnfJsonSchema`). */
export type GrammarSchema = Readonly<Record<string, unknown>>;

/** Any JSON value, spelled in the grammar's subset (an empty schema `{}` would mean `null` to it). */
const ANY_JSON: GrammarSchema = {
  oneOf: [{ type: ['string', 'number', 'boolean', 'null'] }, { type: 'array' }, { type: 'object', additionalProperties: true }],
};

/** Any JSON object: what `json` without a schema asks for. */
export const ANY_JSON_OBJECT: GrammarSchema = { type: 'object', additionalProperties: true };

const FORMATS = new Set(['date-time', 'time', 'date']);
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null', 'object', 'array']);

type Schema = Readonly<Record<string, unknown>>;

const isObject = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const isLiteral = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

/** `#/$defs/x` and `#/definitions/x` (older drafts) as the grammar's `#/$defs/x`; anything else is unknown. */
function defRef(ref: unknown): string | undefined {
  const m = typeof ref === 'string' ? /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref) : null;
  return m ? `#/$defs/${m[1]}` : undefined;
}

/** The JSON Schema `schema` in the grammar's subset (see the module comment for what changes). */
export function grammarSchema(schema: JsonSchema | boolean | undefined): GrammarSchema {
  if (!isObject(schema)) return ANY_JSON;
  const defs = schema.$defs ?? schema.definitions;
  const root = convert(schema);
  if (!isObject(defs)) return root;
  return { ...root, $defs: Object.fromEntries(Object.entries(defs).map(([k, v]) => [k, convert(v)])) };
}

function convert(s: unknown): GrammarSchema {
  if (!isObject(s)) return ANY_JSON;
  if (s.$ref !== undefined) {
    const ref = defRef(s.$ref);
    return ref ? { $ref: ref } : ANY_JSON;
  }
  if ('const' in s) return isLiteral(s.const) ? { const: s.const } : ANY_JSON;
  if (Array.isArray(s.enum)) return s.enum.every(isLiteral) ? { enum: s.enum } : ANY_JSON;
  const alternatives = (s.anyOf ?? s.oneOf) as unknown;
  if (Array.isArray(alternatives)) return { oneOf: alternatives.map(convert) };
  if (Array.isArray(s.allOf)) return convert(mergeAll(s));
  if (Array.isArray(s.type)) {
    const types = s.type.filter((t): t is string => typeof t === 'string' && TYPES.has(t));
    return types.length === 1 ? convert({ ...s, type: types[0] }) : { oneOf: types.map((type) => convert({ ...s, type })) };
  }
  const type = typeof s.type === 'string' ? s.type : isObject(s.properties) ? 'object' : s.items !== undefined || s.prefixItems !== undefined ? 'array' : undefined;
  switch (type) {
    case 'string':
      if (typeof s.format === 'string' && FORMATS.has(s.format)) return { type, format: s.format };
      return { type, ...pick(s, 'minLength', 'maxLength') };
    case 'number':
    case 'integer':
    case 'boolean':
    case 'null':
      return { type };
    case 'object': {
      const properties = isObject(s.properties) ? s.properties : undefined;
      const extra = s.additionalProperties;
      return {
        type,
        ...(properties ? { properties: Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, convert(v)])) } : {}),
        // Other properties the schema merely allows (unsaid, `true`, `{}`) are written only when it lists none.
        additionalProperties: extra === false ? false : isObject(extra) && Object.keys(extra).length ? convert(extra) : !properties,
        ...pick(s, 'minProperties', 'maxProperties'),
      };
    }
    case 'array':
      return {
        type,
        ...(s.items !== undefined && s.items !== true ? { items: convert(s.items) } : {}),
        ...(Array.isArray(s.prefixItems) ? { prefixItems: s.prefixItems.map(convert) } : {}),
        ...pick(s, 'minItems', 'maxItems'),
      };
    default:
      return ANY_JSON;
  }
}

function pick(s: Schema, ...keys: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) if (typeof s[k] === 'number') out[k] = s[k];
  return out;
}

/** `allOf` folded into one schema: types of the first that has one, properties and requirements united. */
function mergeAll(s: Schema): Schema {
  const { allOf, ...rest } = s;
  let merged: Record<string, unknown> = { ...rest };
  for (const part of allOf as unknown[]) {
    if (!isObject(part)) continue;
    const properties = { ...(isObject(merged.properties) ? merged.properties : {}), ...(isObject(part.properties) ? part.properties : {}) };
    merged = { ...part, ...merged, properties };
  }
  if (Object.keys(merged.properties as object).length === 0) delete merged.properties;
  return merged;
}

/** Whitespace the grammar allows at nesting depth `d`: a newline and 4 spaces per level. */
const whitespace = (d: number) => 1 + 4 * d;
/** The longest number the grammar writes: `-` 16 digits `.` 16 digits `e-` 16 digits. */
const NUMBER_CHARS = 52;
/** The longest `date-time` string. */
const FORMAT_CHARS = 40;
/** Bytes of one string character in the worst case: an escape `\uXXXX`. */
const STRING_CHAR_BYTES = 6;

/**
 * The most tokens any JSON allowed by a grammar schema can take, or Infinity when it is
 * unbounded (a string without `maxLength`, an array without `maxItems`, free-form
 * objects, recursion). Each token is at least one byte, so this counts bytes: structure,
 * the whitespace the grammar permits, every string character as an escape — plus the four
 * newlines node-llama-cpp's JSON grammars end with. An answer that runs to this many
 * tokens is complete; fewer may cut it.
 */
export function worstCaseTokens(schema: GrammarSchema): number {
  const defs = isObject(schema.$defs) ? schema.$defs : {};
  return bytes(schema, 0, defs, new Set()) + 4;
}

function bytes(s: Schema, depth: number, defs: Schema, seen: ReadonlySet<string>): number {
  if (typeof s.$ref === 'string') {
    const name = s.$ref.slice('#/$defs/'.length);
    const def = defs[name];
    return seen.has(name) || !isObject(def) ? Infinity : bytes(def, depth, defs, new Set([...seen, name]));
  }
  if ('const' in s) return Buffer.byteLength(JSON.stringify(s.const));
  if (Array.isArray(s.enum)) return Math.max(...s.enum.map((v) => Buffer.byteLength(JSON.stringify(v))));
  if (Array.isArray(s.oneOf)) return Math.max(...s.oneOf.map((o) => (isObject(o) ? bytes(o, depth, defs, seen) : Infinity)));
  if (Array.isArray(s.type)) return Math.max(...s.type.map((type) => bytes({ ...s, type }, depth, defs, seen)));
  const inner = whitespace(depth + 1);
  const frame = 2 + inner + whitespace(depth); // the brackets and the whitespace inside them
  switch (s.type) {
    case 'string':
      if (s.format) return FORMAT_CHARS;
      return typeof s.maxLength === 'number' ? 2 + STRING_CHAR_BYTES * s.maxLength : Infinity;
    case 'number':
    case 'integer':
      return NUMBER_CHARS;
    case 'boolean':
      return 5;
    case 'null':
      return 4;
    case 'object': {
      if (s.additionalProperties !== false) return Infinity;
      const fields = Object.entries(isObject(s.properties) ? s.properties : {});
      // key, colon, optional space, value; a comma and whitespace between fields
      let total = frame + Math.max(0, fields.length - 1) * (1 + inner);
      for (const [key, value] of fields) total += Buffer.byteLength(JSON.stringify(key)) + 2 + (isObject(value) ? bytes(value, depth + 1, defs, seen) : Infinity);
      return total;
    }
    case 'array': {
      const prefix = Array.isArray(s.prefixItems) ? s.prefixItems : [];
      const max = typeof s.maxItems === 'number' ? s.maxItems : s.items === undefined && prefix.length ? prefix.length : Infinity;
      if (max === Infinity) return Infinity;
      let total = frame + Math.max(0, max - 1) * (1 + inner);
      for (let i = 0; i < max; i++) {
        const item = prefix[i] ?? s.items;
        total += isObject(item) ? bytes(item, depth + 1, defs, seen) : Infinity;
      }
      return total;
    }
    default:
      return Infinity;
  }
}

/**
 * The action a model emits when tools are offered, as one grammar:
 * `{"tool": <a tool's name>, "arguments": <that tool's input>}` for each tool, or
 * `{"answer": <the answer>}` — a string, or the JSON the request asks for.
 */
export function actionSchema(tools: readonly ToolDefinition[], answer: GrammarSchema = { type: 'string' }): GrammarSchema {
  return {
    oneOf: [
      ...tools.map((tool) => ({
        type: 'object',
        properties: { tool: { const: tool.name }, arguments: grammarSchema(toolInputSchema(tool)) },
        additionalProperties: false,
      })),
      { type: 'object', properties: { answer }, additionalProperties: false },
    ],
  };
}

/** A tool's input as JSON Schema; parts JSON Schema cannot express (transforms, dates) allow any value. */
export function toolInputSchema(tool: ToolDefinition): JsonSchema {
  return z.toJSONSchema(tool.inputSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

/** The most tokens a tool call of an action schema can take (Infinity when some tool's input is unbounded). */
export function worstCaseToolCallTokens(action: GrammarSchema): number {
  const alternatives = action.oneOf as GrammarSchema[];
  return Math.max(0, ...alternatives.slice(0, -1).map(worstCaseTokens));
}

/** The tools and the action format, in words, for the system prompt. */
export function describeTools(tools: readonly ToolDefinition[], jsonAnswer: boolean): string {
  const lines = [
    'You can call tools. Reply with exactly one JSON object and nothing else:',
    '- to call a tool: {"tool": "<tool name>", "arguments": {<the arguments, as the tool\'s schema says>}}',
    jsonAnswer ? '- to give your final answer: {"answer": <the JSON answer>}' : '- to give your final answer: {"answer": "<your answer>"}',
    'After a tool call you receive its result and may call another tool or answer.',
    '',
    'Tools:',
  ];
  for (const tool of tools) lines.push(`- ${tool.name}: ${tool.description}`, `  arguments: ${schemaText(toolInputSchema(tool))}`);
  return lines.join('\n');
}

/** A JSON Schema as prompt text: compact, without the `$schema` URL that only costs tokens. */
export function schemaText(schema: JsonSchema): string {
  const { $schema: _, ...rest } = schema;
  return JSON.stringify(rest);
}

/** An assistant turn's tool call written back as the action the model emitted. */
export function actionText(call: Pick<ToolCall, 'name' | 'input'>): string {
  return JSON.stringify({ tool: call.name, arguments: call.input ?? {} });
}

/** What an action came to: a tool call, or the answer's text. */
export type ParsedAction = { readonly kind: 'tool'; readonly call: ToolCall } | { readonly kind: 'answer'; readonly text: string; readonly complete: boolean };

/**
 * Reads the action a model wrote under the action grammar. `cut` says generation stopped
 * at maxTokens: a text answer cut short is kept (as any provider's answer cut at its
 * limit is), a cut tool call cannot be, and that is a ModelCallError — as is anything
 * else that is not an action (the grammar makes that a bug, not a model's whim).
 */
export function parseAction(text: string, tools: readonly ToolDefinition[], cut: boolean, retryable: boolean): ParsedAction {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const partial = cut ? partialAnswer(text) : undefined;
    if (partial !== undefined) return { kind: 'answer', text: partial, complete: false };
    const what = /^\s*\{\s*"tool"/.test(text) ? 'tool call' : 'answer';
    throw new ModelCallError(
      cut
        ? `the local model's ${what} was cut off at maxTokens before its JSON was complete; raise maxTokens (it wrote ${JSON.stringify(clip(text))})`
        : `the local model wrote an action that is not JSON: ${(e as Error).message} (${JSON.stringify(clip(text))})`,
      { retryable, cause: e },
    );
  }
  if (isObject(value) && typeof value.tool === 'string' && tools.some((t) => t.name === value.tool)) {
    const input = isObject(value.arguments) ? value.arguments : {};
    return { kind: 'tool', call: { id: `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`, name: value.tool, input } };
  }
  if (isObject(value) && 'answer' in value) {
    return { kind: 'answer', text: typeof value.answer === 'string' ? value.answer : JSON.stringify(value.answer), complete: true };
  }
  throw new ModelCallError(`the local model wrote an action that is neither a tool call of ${tools.map((t) => t.name).join(', ')} nor an answer: ${JSON.stringify(clip(text))}`, { retryable });
}

/**
 * The answer of `{"answer": "…` cut short — inside its string (an unfinished escape at the
 * end is dropped) or after it — or undefined when the text is not an answer.
 */
function partialAnswer(text: string): string | undefined {
  if (!/^\s*\{\s*"answer"\s*:\s*"/.test(text)) return undefined;
  for (let drop = 0; drop <= 6 && drop <= text.length; drop++) {
    const head = text.slice(0, text.length - drop);
    for (const tail of ['"}', '}']) {
      try {
        const value: unknown = JSON.parse(head + tail);
        if (isObject(value) && typeof value.answer === 'string') return value.answer;
      } catch {
        // not this way: try the other closing, then a shorter head
      }
    }
  }
  return undefined;
}

const clip = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}…` : text);
