import type { z } from 'zod';
import { compareDiagnostics, hasErrors, START_OF_FILE, type Diagnostic } from '../model/diagnostic';
import { err, ok, type Result } from '../model/result';
import { schemaDiagnostics } from './schemaIssues';
import { YamlSource } from './yamlSource';

/** A YAML file parsed to plain data, with its source for positions and its warnings. */
export interface YamlData {
  readonly source: YamlSource;
  readonly data: Record<string, unknown>;
  readonly warnings: Diagnostic[];
}

/**
 * Parses YAML text whose top level must be a map. Syntax errors, an empty file, a
 * non-map document and a file past the limits come back as diagnostics; nothing throws.
 * `what` says what the file needs (for an empty one); `noun` what it is (for limits).
 * `quick: false` always parses with the `yaml` package (the tests compare the two ways).
 */
export function parseYamlMap(text: string, file: string, what: string, noun?: string, { quick = true }: { quick?: boolean } = {}): Result<YamlData, Diagnostic[]> {
  const source = new YamlSource(file, text, noun, { data: quick });
  // Read on the quick path: a map, and nothing the `yaml` package would report.
  if (source.data) return ok({ source, data: source.data, warnings: [] });
  const syntax = source.syntaxDiagnostics();
  if (hasErrors(syntax)) return err(syntax.sort(compareDiagnostics));
  if (source.doc.contents === null || text.trim() === '') {
    return err([source.diagnostic([], `the file is empty: ${what}`, 'empty')]);
  }
  let data: unknown;
  try {
    data = source.doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    return err([source.diagnostic([], `YAML: ${(e as Error).message}`, 'yaml-syntax')]);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return err([source.diagnostic([], `expected a map of keys to values: ${what}`, 'schema')]);
  }
  return ok({ source, data: data as Record<string, unknown>, warnings: syntax });
}

/** Parses YAML text and validates it against a zod schema. */
export function loadYamlWith<S extends z.ZodType>(
  schema: S,
  text: string,
  file: string,
  what: string,
  noun?: string,
): Result<{ value: z.output<S>; warnings: Diagnostic[]; source: YamlSource }, Diagnostic[]> {
  try {
    const parsed = parseYamlMap(text, file, what, noun);
    if (!parsed.ok) return parsed;
    const { source, data, warnings } = parsed.value;
    const result = schema.safeParse(data);
    if (!result.success) {
      return err([...warnings, ...schemaDiagnostics(result.error.issues, source, schema, data)].sort(compareDiagnostics));
    }
    return ok({ value: result.data, warnings, source });
  } catch (e) {
    return err([internalError(file, e)]);
  }
}

/** A loader bug, reported as a diagnostic so it never takes the editor or the CLI down. */
export function internalError(file: string, e: unknown): Diagnostic {
  return {
    file,
    range: START_OF_FILE,
    severity: 'error',
    code: 'schema',
    message: `internal error while loading this file (please report it): ${e instanceof Error ? e.message : String(e)}`,
  };
}
