import * as vscode from 'vscode';
import type { Diagnostic, Range } from '../core/model/diagnostic';

/** The one place core positions (1-based) become VS Code positions (0-based). */
export function toVscodeRange(r: Range): vscode.Range {
  const start = new vscode.Position(Math.max(0, r.start.line - 1), Math.max(0, r.start.column - 1));
  let end = new vscode.Position(Math.max(0, r.end.line - 1), Math.max(0, r.end.column - 1));
  // An empty range would draw no squiggle; mark at least one character.
  if (!end.isAfter(start)) end = start.translate(0, 1);
  return new vscode.Range(start, end);
}

const SEVERITY = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
} as const;

/** The one adapter from the core's Diagnostic to `vscode.Diagnostic`. */
export function toVscodeDiagnostic(d: Diagnostic): vscode.Diagnostic {
  const out = new vscode.Diagnostic(toVscodeRange(d.range), d.message, SEVERITY[d.severity]);
  out.source = 'symphony';
  out.code = d.code;
  return out;
}
