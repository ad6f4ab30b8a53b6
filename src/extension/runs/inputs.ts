import { coerceInput, InputError } from '../../core/engine/inputs';
import type { InputSpec, Melody } from '../../core/model/melody';
import { setOwn } from '../../core/model/names';

// No `vscode` import: the prompts are plain data, and the command shows them as InputBoxes.

/** One InputBox of "Run Melody…": what it shows and how it checks and reads the text. */
export interface InputPrompt {
  readonly name: string;
  /** e.g. `greeting (string)`. */
  readonly title: string;
  /** The input's description, or what its type expects. */
  readonly prompt: string;
  /** The default, as text to edit. */
  readonly value: string;
  /** Why the text cannot be used, or undefined when it can. */
  validate(text: string): string | undefined;
  /**
   * The value to run with, in the declared type (the engine checks it again); undefined
   * leaves the input out, so the melody's default applies.
   */
  parse(text: string): unknown;
}

const EXPECTS: Readonly<Record<InputSpec['type'], string>> = {
  string: 'text',
  number: 'a number',
  boolean: 'true or false',
  object: 'a JSON object',
  array: 'a JSON list',
};

/** A value as the text a person would type for it. */
export function inputText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The prompts for a melody's declared inputs, in declaration order. Validation uses the
 * engine's own `coerceInput`, so the box accepts exactly what the run would.
 */
export function inputPrompts(melody: Pick<Melody, 'inputs'>): InputPrompt[] {
  return Object.entries(melody.inputs ?? {}).map(([name, spec]): InputPrompt => {
    const required = spec.required === true && spec.default === undefined;
    const validate = (text: string): string | undefined => {
      if (text === '' && required) return `${name} is required`;
      // An optional non-text input left empty takes the melody's default.
      if (text === '' && spec.type !== 'string') return undefined;
      try {
        coerceInput(name, spec, text);
        return undefined;
      } catch (e) {
        if (e instanceof InputError) return e.message;
        throw e;
      }
    };
    return {
      name,
      title: `${name} (${spec.type})`,
      prompt: spec.description ? `${spec.description} — ${EXPECTS[spec.type]}` : `Expects ${EXPECTS[spec.type]}${required ? '' : ' (optional)'}`,
      value: inputText(spec.default),
      validate,
      parse: (text) => (text === '' && spec.type !== 'string' ? undefined : coerceInput(name, spec, text)),
    };
  });
}

/** The inputs a run starts with from the texts typed into the prompts, in order. */
export function collectInputs(prompts: readonly InputPrompt[], texts: readonly string[]): Record<string, unknown> {
  const given: Record<string, unknown> = {};
  prompts.forEach((p, i) => {
    const value = p.parse(texts[i] ?? '');
    if (value !== undefined) setOwn(given, p.name, value);
  });
  return given;
}
