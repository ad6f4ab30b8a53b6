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
  /** Whether melodies start by themselves on save, commit, schedule, webhook and chains. */
  readonly triggersEnabled: boolean;
  /** Port of the webhook endpoint on 127.0.0.1; 0 keeps it closed. */
  readonly webhookPort: number;
}

export function readOptions(): ExtensionOptions {
  const c = vscode.workspace.getConfiguration('symphony');
  return {
    ensemblesFolder: c.get('ensembles.folder', 'ensembles'),
    diagnosticsDelay: Math.max(0, c.get('diagnostics.delay', 250)),
    // Clamped as package.json declares: a hand-edited settings.json is not checked.
    maxParallel: Math.min(64, Math.max(1, Math.floor(c.get('runs.maxParallel', 8)))),
    historyLimit: Math.min(1000, Math.max(1, Math.floor(c.get('runs.historyLimit', 50)))),
    triggersEnabled: c.get('triggers.enabled', true),
    webhookPort: Math.min(65535, Math.max(0, Math.floor(c.get('triggers.webhookPort', 0)))),
  };
}
