import { parse as parseYaml } from 'yaml';
import { err, ok, type Result } from '../model/result';
import { melodyBlockPaths } from './operations';
import { parseForEdit } from './yamlPatch';
import { DEFAULT_STYLE, documentText, isPlainObject } from './yamlText';

/**
 * Import and export of melodies as JSON or YAML. Export gives the melody's data (JSON) or
 * its text as written (YAML); import turns either into the text of a melody file, refusing
 * anything that is not a map with `nodes:` — the loader then checks the rest, as for any
 * melody.
 */

/** The two formats the board imports and exports. */
export type MelodyFormat = 'json' | 'yaml';

/** The format a file name suggests: `.json` is JSON, anything else YAML. */
export function formatOf(fileName: string): MelodyFormat {
  return fileName.toLowerCase().endsWith('.json') ? 'json' : 'yaml';
}

/** The melody as the file's content in `format`. */
export function exportMelody(text: string, format: MelodyFormat): Result<string, string> {
  if (format === 'yaml') return ok(text);
  const parsed = parseForEdit(text);
  if (!parsed.ok) return parsed;
  return ok(`${JSON.stringify(parsed.value.data, null, 2)}\n`);
}

/** The text of a melody file from imported content. */
export function importMelody(content: string, format: MelodyFormat): Result<string, string> {
  let data: unknown;
  try {
    data = format === 'json' ? (JSON.parse(content) as unknown) : (parseYaml(content, { maxAliasCount: 1000 }) as unknown);
  } catch (e) {
    return err(`the file is not valid ${format.toUpperCase()}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!isPlainObject(data) || !isPlainObject(data.nodes)) return err('that is not a melody: it needs a map with `nodes:` (and a `name:`)');
  // YAML comes in as written; JSON is written out in the style melodies are written in.
  return ok(format === 'yaml' ? content : documentText(data, { ...DEFAULT_STYLE, forceBlock: melodyBlockPaths }));
}
