import { relative, sep } from 'node:path';
import { styleText } from 'node:util';
import { formatDiagnostic, type Diagnostic } from '../core/model/diagnostic';

type Style = Parameters<typeof styleText>[0];

/** Styles text for a terminal, or leaves it plain. */
export function paint(color: boolean, style: Style, text: string): string {
  return color ? styleText(style, text) : text;
}

/** A path as the user would type it from `cwd`: relative when inside, absolute otherwise. */
export function displayPath(cwd: string, file: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !rel.startsWith(sep) ? rel.split(sep).join('/') : file;
}

/**
 * `file:line:col: message`, the file relative to `cwd`, coloured by severity on a terminal.
 * With `labelErrors`, errors say `error:` as warnings say `warning:` — for lists where an
 * unlabelled line would read as a note (deviation markers), not for `validate`'s contract.
 */
export function printDiagnostic(d: Diagnostic, cwd: string, color: boolean, options: { labelErrors?: boolean } = {}): string {
  const labelled = options.labelErrors && d.severity === 'error' ? { ...d, message: `error: ${d.message}` } : d;
  const line = formatDiagnostic(labelled, displayPath(cwd, d.file));
  if (!color) return line;
  const at = line.indexOf(': ') + 2;
  const style: Style = d.severity === 'error' ? 'red' : d.severity === 'warning' ? 'yellow' : 'cyan';
  return paint(true, 'bold', line.slice(0, at)) + paint(true, style, line.slice(at));
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
