import type Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';

/**
 * Validation of node outputs (`outputs:`) and of `validate` nodes against JSON Schema,
 * with ajv. Compiled schemas are cached by their text. ajv (with its formats) is loaded on
 * the first schema: most runs have none, and loading it cost every `symphony run` and the
 * extension's activation tens of milliseconds.
 */
let ajv: Ajv | undefined;
const cache = new Map<string, ValidateFunction>();

function validator(): Ajv {
  if (ajv) return ajv;
  const { default: AjvClass } = require('ajv') as typeof import('ajv');
  const { default: addFormats } = require('ajv-formats') as typeof import('ajv-formats');
  ajv = new AjvClass({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv;
}

/** Problems of `value` against `schema`, as readable lines; empty when it matches. */
export function schemaErrors(schema: Record<string, unknown>, value: unknown): string[] {
  const key = JSON.stringify(schema);
  let validate = cache.get(key);
  if (!validate) {
    try {
      validate = validator().compile(schema);
    } catch (e) {
      return [`the schema itself is invalid: ${(e as Error).message}`];
    }
    cache.set(key, validate);
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(the value)'} ${e.message ?? 'is invalid'}`.trim());
}
