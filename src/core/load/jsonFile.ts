import { promises as fsp } from 'node:fs';
import type { z } from 'zod';
import { START_OF_FILE, type Diagnostic, type Position } from '../model/diagnostic';
import { err, ok, type Result } from '../model/result';
import { schemaDiagnostics } from './schemaIssues';
import { YamlSource } from './yamlSource';

/**
 * JSON state files (`.symphony/DEVIATIONS.json`, `MERGE_PLAN.json`, …) loaded like the
 * YAML files: strict JSON syntax, then the zod schema, every problem a diagnostic with
 * `file:line:column`. JSON is YAML, so schema problems are located with `YamlSource`.
 */

/** The 1-based position of a character offset in `text`. */
export function positionAt(text: string, offset: number): Position {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split(/\r\n|\r|\n/);
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

/**
 * The offset of the first character that makes `text` invalid JSON (its length when the
 * text ends too early); undefined when it is valid, or nested too deep to read — a small
 * recursive-descent reader, used only after JSON.parse failed.
 */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const space = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  };
  const fail = (): never => {
    throw new SyntaxAt(i);
  };
  const expect = (ch: string) => (text[i] === ch ? i++ : fail());
  const string = () => {
    expect('"');
    while (i < text.length && text[i] !== '"') {
      if (text[i]! < ' ') fail();
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
      }
      i++;
    }
    expect('"');
  };
  const value = (): void => {
    space();
    const ch = text[i];
    if (ch === '{' || ch === '[') {
      const close = ch === '{' ? '}' : ']';
      i++;
      space();
      if (text[i] === close) return void i++;
      for (;;) {
        if (ch === '{') {
          space();
          string();
          space();
          expect(':');
        }
        value();
        space();
        if (text[i] === ',') i++;
        else return void expect(close);
      }
    }
    if (ch === '"') return string();
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
    if (!literal) fail();
    i += literal![0].length;
  };
  try {
    value();
    space();
    return i < text.length ? i : undefined;
  } catch (e) {
    // Anything else is a stack exhausted by deep nesting: no position to give.
    return e instanceof SyntaxAt ? Math.min(e.offset, text.length) : undefined;
  }
}

/** Thrown by `jsonErrorOffset`'s reader at the first error. */
class SyntaxAt {
  constructor(readonly offset: number) {}
}

/** Parses JSON text and validates it against `schema`; never throws. */
export function parseJsonWith<S extends z.ZodType>(schema: S, text: string, file: string, what: string): Result<z.output<S>, Diagnostic[]> {
  if (text.trim() === '') {
    return err([{ file, range: START_OF_FILE, severity: 'error', code: 'empty', message: `the file is empty: ${what}` }]);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    // V8's messages carry the offset for some errors only ("Unexpected token" has none).
    const message = (e as Error).message;
    const at = /at position (\d+)/.exec(message);
    const position = positionAt(text, at ? Number(at[1]) : (jsonErrorOffset(text) ?? 0));
    const reason = message.replace(/ in JSON at position \d+.*$/, '').replace(/, .*is not valid JSON$/s, '');
    return err([{ file, range: { start: position, end: position }, severity: 'error', code: 'json-syntax', message: `JSON: ${reason}` }]);
  }
  const result = schema.safeParse(data);
  if (result.success) return ok(result.data);
  return err(schemaDiagnostics(result.error.issues, new YamlSource(file, text), schema, data));
}

/**
 * Reads and validates a JSON file. A missing file is `ok(undefined)`: state files are
 * optional until something writes them. An unreadable one is an `io` diagnostic.
 */
export async function readJsonFile<S extends z.ZodType>(schema: S, file: string, what: string): Promise<Result<z.output<S> | undefined, Diagnostic[]>> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return ok(undefined);
    return err([{ file, range: START_OF_FILE, severity: 'error', code: 'io', message: `cannot read the file: ${(e as Error).message}` }]);
  }
  return parseJsonWith(schema, text, file, what);
}
