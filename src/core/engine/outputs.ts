import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * Validation of node outputs (`outputs:`) and of `validate` nodes against JSON Schema,
 * with ajv. Compiled schemas are cached by their text.
 */
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const cache = new Map<string, ValidateFunction>();

/** Problems of `value` against `schema`, as readable lines; empty when it matches. */
export function schemaErrors(schema: Record<string, unknown>, value: unknown): string[] {
  const key = JSON.stringify(schema);
  let validate = cache.get(key);
  if (!validate) {
    try {
      validate = ajv.compile(schema);
    } catch (e) {
      return [`the schema itself is invalid: ${(e as Error).message}`];
    }
    cache.set(key, validate);
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(the value)'} ${e.message ?? 'is invalid'}`.trim());
}
