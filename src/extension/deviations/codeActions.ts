import * as vscode from 'vscode';
import { COMMANDS } from '../commandIds';
import type { DeviationIndex } from './deviationIndex';
import type { MarkerRef } from './recordCommands';

/**
 * Quick fixes on a deviation marker: record it (prefilled from the marker and its place),
 * or — once recorded — open its record; and resolve it (remove the marker, and mark the
 * record resolved when there is one).
 */
export class DeviationCodeActions implements vscode.CodeActionProvider {
  static readonly metadata: vscode.CodeActionProviderMetadata = { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] };

  constructor(private readonly index: DeviationIndex) {}

  provideCodeActions(doc: vscode.TextDocument, range: vscode.Range | vscode.Selection, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const file = this.index.relativePath(doc.uri);
    if (!file) return [];
    const ours = context.diagnostics.filter((d) => d.source === 'symphony' && d.code === 'deviation-marker');
    const lines = new Set([range.start.line, ...ours.map((d) => d.range.start.line)]);
    const actions: vscode.CodeAction[] = [];
    for (const line of lines) {
      const marker = this.index.markerOn(file, line + 1);
      if (!marker) continue;
      const ref: MarkerRef = { file, line: marker.line };
      const diagnostics = ours.filter((d) => d.range.start.line === line);
      const action = (title: string, command: string, args: unknown[], preferred = false) => {
        const a = new vscode.CodeAction(title, vscode.CodeActionKind.QuickFix);
        a.command = { command, title, arguments: args };
        a.diagnostics = diagnostics;
        a.isPreferred = preferred;
        actions.push(a);
      };
      const record = this.index.links.recordOf.get(marker);
      if (record) {
        action(`Open deviation record ${record.id}`, COMMANDS.openDeviationRecord, [record.id], true);
        action(`Resolve deviation ${record.id} (remove its markers)`, COMMANDS.resolveDeviation, [record.id]);
      } else {
        action('Record this deviation…', COMMANDS.recordDeviation, [ref], true);
        action('Resolve: remove this marker', COMMANDS.resolveDeviation, [ref]);
      }
    }
    return actions;
  }
}
