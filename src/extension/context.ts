import * as vscode from 'vscode';
import { readOptions, type ExtensionOptions } from './config';
import { extensionModels, type ExtensionModels } from './models/providers';
import { RunController } from './runs/controller';
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
  /** Runs melodies in this window and keeps the runs the Runs view shows. */
  readonly runs: RunController;
  /** The model providers runs use, and the API keys they read. */
  readonly models: ExtensionModels;
}

export function createContext(extension: vscode.ExtensionContext, log: vscode.LogOutputChannel): SymphonyContext {
  let options = readOptions();
  const models = extensionModels(extension);
  const index = new WorkspaceIndex(options, log, models.setup);
  const runs = new RunController({ extension, log, index, options: () => options, models: models.models });
  extension.subscriptions.push(
    index,
    runs,
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
    runs,
    models,
    get options() {
      return options;
    },
  };
}
