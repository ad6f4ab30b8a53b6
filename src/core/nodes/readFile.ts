import { jsonErrorOffset } from '../load/jsonFile';
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
