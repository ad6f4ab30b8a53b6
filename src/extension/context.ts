import * as vscode from 'vscode';
import { readOptions, type ExtensionOptions } from './config';
import { WorkspaceIndex } from './workspaceIndex';

/**
 * Everything the extension's parts share, built once in `activate()` and handed to each
 * `registerX(ctx)`. Parts never reach for globals: what they need comes from here.
 */
export interface SymphonyContext {
  readonly extension: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  readonly index: WorkspaceIndex;
  /** `templates/` shipped with the extension (starter files, melody templates). */
  readonly templatesRoot: string;
  /** The current settings; replaced when they change. */
  readonly options: ExtensionOptions;
}

export function createContext(extension: vscode.ExtensionContext, log: vscode.LogOutputChannel): SymphonyContext {
  let options = readOptions();
  const index = new WorkspaceIndex(options, log);
  extension.subscriptions.push(
    index,
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('symphony')) return;
      options = readOptions();
      index.updateOptions(options);
    }),
  );
  return {
    extension,
    log,
    index,
    templatesRoot: extension.asAbsolutePath('templates'),
    get options() {
      return options;
    },
  };
}
