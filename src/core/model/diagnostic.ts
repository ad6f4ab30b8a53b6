/**
 * Diagnostics are owned by the core: loaders and scanners produce them, the CLI prints them
 * as `file:line:col: message`, and one adapter in the extension turns them into
 * `vscode.Diagnostic`. Lines and columns are 1-based, as people and compilers count them.
 */

/** A 1-based position in a text file. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/** A half-open range of text; `end` is the position just after the last character. */
export interface Range {
  readonly start: Position;
  readonly end: Position;
}

export type Severity = 'error' | 'warning' | 'info';

/**
 * Machine-readable kinds of problem, so editors can offer fixes and tests can match on them
 * without parsing messages.
 */
export type DiagnosticCode =
  | 'io'
  | 'encoding'
  | 'limit'
  | 'yaml-syntax'
  | 'yaml-warning'
  | 'empty'
  | 'schema'
  | 'unknown-key'
  | 'unknown-kind'
  | 'unknown-need'
  | 'cycle'
  | 'unknown-instrument'
  | 'unknown-input'
  | 'unknown-node-ref'
  | 'expression'
  | 'compensate'
  | 'cron'
  | 'duplicate-nickname'
  | 'permission'
  | 'sandbox'
  | 'json-syntax'
  | 'markdown'
  | 'deviation-marker'
  | 'model-setup';

/** One problem found in one file. */
export interface Diagnostic {
  /** Path as given to the loader (absolute in the extension, as typed on the CLI). */
  readonly file: string;
  readonly range: Range;
  readonly severity: Severity;
  readonly code: DiagnosticCode;
  /** A sentence a person can act on: what is wrong, and what would make it right. */
  readonly message: string;
}

/** The position used when a problem concerns the whole file. */
export const START_OF_FILE: Range = { start: { line: 1, column: 1 }, end: { line: 1, column: 1 } };

/** `file:line:col: message` — the format of compilers, which editors and terminals link. */
export function formatDiagnostic(d: Diagnostic, file: string = d.file): string {
  const prefix = d.severity === 'error' ? '' : `${d.severity}: `;
  return `${file}:${d.range.start.line}:${d.range.start.column}: ${prefix}${d.message}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Sorts by file, then position, so output is stable and reads top to bottom. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    a.file.localeCompare(b.file) ||
    a.range.start.line - b.range.start.line ||
    a.range.start.column - b.range.start.column ||
    a.message.localeCompare(b.message)
  );
}
