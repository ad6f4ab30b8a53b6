import type { InputSpec, Melody } from '../model/melody';
import { setOwn } from '../model/names';

/** Raised when the given inputs do not fit the melody's `inputs:`; the run never starts. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** Turns a text value (from `--input k=v` or a prompt) into the declared type. */
export function coerceInput(name: string, spec: InputSpec, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  switch (spec.type) {
    case 'number': {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) throw new InputError(`input ${name} must be a number, not "${value}"`);
      return n;
    }
    case 'boolean':
      if (value === 'true' || value === 'false') return value === 'true';
      throw new InputError(`input ${name} must be true or false, not "${value}"`);
    case 'object':
    case 'array': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        throw new InputError(`input ${name} must be JSON (${spec.type === 'array' ? 'a list' : 'an object'}), not "${value}"`);
      }
      if (spec.type === 'array' ? !Array.isArray(parsed) : typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new InputError(`input ${name} must be ${spec.type === 'array' ? 'a JSON list' : 'a JSON object'}`);
      }
      return parsed;
    }
    default:
      return value;
  }
}

/**
 * The inputs a run starts with: given values (coerced to their declared types) over the
 * declared defaults. Unknown names and missing required inputs are errors.
 */
export function resolveInputs(melody: Pick<Melody, 'inputs' | 'name'>, given: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  const declared = melody.inputs ?? {};
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(declared, name)) {
      const known = Object.keys(declared);
      throw new InputError(`melody ${melody.name} has no input "${name}"${known.length ? ` (its inputs: ${known.join(', ')})` : ' (it declares no inputs)'}`);
    }
  }
  for (const [name, spec] of Object.entries(declared)) {
    // setOwn: an input may be called `__proto__` or `constructor` like any other.
    if (Object.hasOwn(given, name)) setOwn(out, name, coerceInput(name, spec, given[name]));
    else if (spec.default !== undefined) setOwn(out, name, spec.default);
    else if (spec.required) throw new InputError(`melody ${melody.name} needs input "${name}"${spec.description ? ` (${spec.description})` : ''}: pass --input ${name}=…`);
    else setOwn(out, name, spec.type === 'string' ? '' : null);
  }
  return out;
}
