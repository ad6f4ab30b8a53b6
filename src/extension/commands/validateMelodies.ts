import * as vscode from 'vscode';
import type { SymphonyContext } from '../context';

/** What Validate Melodies found, also returned to callers of the command. */
export interface ValidationSummary {
  readonly files: number;
  readonly errors: number;
  readonly warnings: number;
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
  const summary: ValidationSummary = {
    files,
    errors: all.filter((d) => d.severity === 'error').length,
    warnings: all.filter((d) => d.severity === 'warning').length,
  };
  const melodies = model?.melodies.length ?? 0;
  if (summary.errors === 0) {
    const note = summary.warnings ? ` (${summary.warnings} warning${summary.warnings === 1 ? '' : 's'})` : '';
    void vscode.window.showInformationMessage(`Symphony: ${melodies} melod${melodies === 1 ? 'y' : 'ies'} and their instruments are valid${note}.`);
  } else {
    const show = 'Show Problems';
    void vscode.window
      .showErrorMessage(`Symphony: ${summary.errors} error${summary.errors === 1 ? '' : 's'} in melodies or instruments.`, show)
      .then((choice) => {
        if (choice === show) void vscode.commands.executeCommand('workbench.actions.view.problems');
      });
  }
  return summary;
}
