import * as vscode from 'vscode';
import { parseSheet } from '../../core/conductor/sheet';
import { COMMANDS } from '../commandIds';
import type { SymphonyContext } from '../context';

/**
 * CodeLens on sheetMusic.md: *Conduct this task* above each open task, *Conduct all* above
 * the first — the Conductor from where the tasks are written.
 */
export class SheetCodeLens implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const open = parseSheet(document.getText()).tasks.filter((t) => !t.done);
    if (!open.length) return [];
    const lenses: vscode.CodeLens[] = [];
    const first = new vscode.Range(open[0]!.line - 1, 0, open[0]!.line - 1, 0);
    lenses.push(new vscode.CodeLens(first, { title: `$(play-circle) Conduct all (${open.length})`, command: COMMANDS.conduct, arguments: [{}] }));
    for (const t of open) {
      lenses.push(new vscode.CodeLens(new vscode.Range(t.line - 1, 0, t.line - 1, 0), { title: '$(play) Conduct this task', tooltip: `Plan and run task ${t.number}: ${t.objective}`, command: COMMANDS.conduct, arguments: [{ task: t.number }] }));
    }
    return lenses;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export function registerConductor(ctx: SymphonyContext): void {
  const lens = new SheetCodeLens();
  ctx.extension.subscriptions.push(lens, vscode.languages.registerCodeLensProvider({ language: 'markdown', pattern: '**/sheetMusic.md' }, lens));
}
