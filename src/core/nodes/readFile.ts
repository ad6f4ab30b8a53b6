import { parseDocument } from 'yaml';
import { permanentError, readWorkspaceFile } from './support';
import type { NodeImplementation } from './types';

/**
 * Reads a workspace file the melody may read. `parse: json | yaml` turns it into data; a
 * syntax error fails the node (not retried: the file will not fix itself) with
 * `file:line:col`, which editors and terminals turn into a link.
 */
export const readFileNode: NodeImplementation<'read-file'> = {
  kind: 'read-file',
  async run(input, ctx) {
    const { rel, text } = await readWorkspaceFile(ctx, input.path);
    switch (input.parse ?? 'text') {
      case 'text':
        return { output: text };
      case 'json':
        return { output: parseJson(text, rel) };
      case 'yaml':
        return { output: parseYaml(text, rel) };
    }
  },
};

function parseJson(raw: string, rel: string): unknown {
  // Editors on Windows like to save a byte-order mark; JSON.parse rejects it.
  const text = raw.replace(/^\uFEFF/, '');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    // V8 names the position in some messages and not in others; find it ourselves.
    const offset = jsonErrorOffset(text);
    const at = offset === undefined ? rel : `${rel}:${lineColumn(text, offset)}`;
    throw permanentError(`${at}: invalid JSON: ${(e as Error).message}`, e);
  }
}

function parseYaml(text: string, rel: string): unknown {
  const doc = parseDocument(text);
  const error = doc.errors[0];
  if (error) {
    const pos = error.linePos?.[0];
    // The message ends with its own "at line L, column C:" and a code frame; the position
    // goes in front instead, in the form every other message uses.
    const message = error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
    throw permanentError(`${pos ? `${rel}:${pos.line}:${pos.col}` : rel}: invalid YAML: ${message}`, error);
  }
  try {
    return doc.toJS({ maxAliasCount: 1000 }) as unknown;
  } catch (e) {
    // An alias bomb or an unresolvable alias.
    throw permanentError(`${rel}: invalid YAML: ${(e as Error).message}`, e);
  }
}

/** `line:column` (1-based) of a character offset. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return `${line}:${offset - before.lastIndexOf('\n')}`;
}

/** Thrown by the scanner below at the offset of the first error. */
class JsonSyntaxAt {
  constructor(readonly offset: number) {}
}

/**
 * The offset of the first syntax error in text JSON.parse rejected: a small recursive
 * descent over the JSON grammar that stops at the first character that cannot continue it.
 */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const fail = (): never => {
    throw new JsonSyntaxAt(i);
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const expect = (char: string) => (text[i] === char ? i++ : fail());
  const string = () => {
    expect('"');
    while (i < text.length) {
      const c = text[i]!;
      if (c === '"') return void i++;
      if (c < ' ') fail();
      if (c === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 5;
        } else if ('"\\/bfnrt'.includes(text[i] ?? 'x')) i++;
        else fail();
      } else i++;
    }
    fail();
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      space();
      if (text[i] === close) return void i++;
      for (;;) {
        if (c === '{') {
          space();
          string();
          space();
          expect(':');
        }
        value();
        space();
        if (text[i] === close) return void i++;
        expect(',');
      }
    }
    if (c === '"') return string();
    for (const word of ['true', 'false', 'null']) if (text.startsWith(word, i)) return void (i += word.length);
    NUMBER.lastIndex = i;
    if (!NUMBER.test(text)) fail();
    i = NUMBER.lastIndex;
  };
  try {
    value();
    space();
    if (i < text.length) fail();
  } catch (e) {
    if (e instanceof JsonSyntaxAt) return e.offset;
    return undefined; // nesting deep enough to exhaust the stack
  }
  return undefined;
}
