import * as vscode from 'vscode';

/** The extension's settings as a plain object — the only place that reads `symphony.*`. */
export interface ExtensionOptions {
  /** Folder holding `<ensemble>/<instrument>.yaml`. */
  readonly ensemblesFolder: string;
  /** Milliseconds to wait after typing before re-validating. */
  readonly diagnosticsDelay: number;
}

export function readOptions(): ExtensionOptions {
  const c = vscode.workspace.getConfiguration('symphony');
  return {
    ensemblesFolder: c.get('ensembles.folder', 'ensembles'),
    diagnosticsDelay: Math.max(0, c.get('diagnostics.delay', 250)),
  };
}
