import * as vscode from 'vscode';
import type { SymphonyContext } from '../context';

/** What Validate Melodies found, also returned to callers of the command. */
export interface ValidationSummary {
  readonly files: number;
  readonly errors: number;
  readonly warnings: number;
  /** Where it was said: the Problems view (opened) when there is something to look at, else a message. */
  readonly shownIn: 'problems' | 'message';
}

/**
 * Symphony: Validate Melodies — reloads every melody and instrument from disk, publishes
 * the diagnostics, and says what was found.
 */
export async function validateMelodies(ctx: SymphonyContext): Promise<ValidationSummary> {
  await ctx.index.refresh();
  const model = ctx.index.model;
  const all = [
    ...(model?.melodies.flatMap((m) => m.diagnostics) ?? []),
    ...(model?.ensembles.diagnostics ?? []),
  ];
  const files = (model?.melodies.length ?? 0) + (model?.ensembles.ensembles.reduce((n, e) => n + e.instruments.length + e.broken.length, 0) ?? 0);
  const errors = all.filter((d) => d.severity === 'error').length;
  const warnings = all.filter((d) => d.severity === 'warning').length;
  const melodies = model?.melodies.length ?? 0;
  const counted = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  // A notification hides itself after a few seconds; problems stay where they are listed.
  const shownIn = errors || warnings ? 'problems' : 'message';
  if (shownIn === 'problems') await vscode.commands.executeCommand('workbench.actions.view.problems');
  const show = 'Show Problems';
  const answer = (choice: string | undefined) => {
    if (choice === show) void vscode.commands.executeCommand('workbench.actions.view.problems');
  };
  if (errors) {
    void vscode.window.showErrorMessage(`Symphony: ${counted(errors, 'error')}${warnings ? ` and ${counted(warnings, 'warning')}` : ''} in melodies or instruments — listed in the Problems view.`, show).then(answer);
  } else if (warnings) {
    void vscode.window.showInformationMessage(`Symphony: ${melodies} melod${melodies === 1 ? 'y' : 'ies'} and their instruments are valid, with ${counted(warnings, 'warning')} — listed in the Problems view.`, show).then(answer);
  } else {
    void vscode.window.showInformationMessage(`Symphony: ${melodies} melod${melodies === 1 ? 'y' : 'ies'} and their instruments are valid.`);
    vscode.window.setStatusBarMessage(`$(check) Symphony: ${melodies} melod${melodies === 1 ? 'y' : 'ies'} valid`, 10_000);
  }
  return { files, errors, warnings, shownIn };
}
