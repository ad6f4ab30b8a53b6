import * as vscode from 'vscode';

/** The extension's settings as a plain object — the only place that reads `symphony.*`. */
export interface ExtensionOptions {
  /** Folder holding `<ensemble>/<instrument>.yaml`. */
  readonly ensemblesFolder: string;
  /** Milliseconds to wait after typing before re-validating. */
  readonly diagnosticsDelay: number;
  /** Most nodes of one run executing at once (the engine's `maxParallel`). */
  readonly maxParallel: number;
  /** How many runs (not counting sub-melody runs) the Runs view lists. */
  readonly historyLimit: number;
}

export function readOptions(): ExtensionOptions {
  const c = vscode.workspace.getConfiguration('symphony');
  return {
    ensemblesFolder: c.get('ensembles.folder', 'ensembles'),
    diagnosticsDelay: Math.max(0, c.get('diagnostics.delay', 250)),
    // Clamped as package.json declares: a hand-edited settings.json is not checked.
    maxParallel: Math.min(64, Math.max(1, Math.floor(c.get('runs.maxParallel', 8)))),
    historyLimit: Math.min(1000, Math.max(1, Math.floor(c.get('runs.historyLimit', 50)))),
  };
}
