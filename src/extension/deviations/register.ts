import * as vscode from 'vscode';
import { VIEWS } from '../commandIds';
import { registerDeviationCommands } from '../commands/deviations';
import type { SymphonyContext } from '../context';
import { ensureTrusted } from '../runs/trust';
import { pickRoot } from '../workspaceIndex';
import { ChamberCommands, modalConfirm } from './chamberCommands';
import { DeviationCodeActions } from './codeActions';
import { DeviationIndex, vscodeRipgrep } from './deviationIndex';
import { DeviationDiagnostics } from './diagnostics';
import { MultiStepInput } from './multiStepInput';
import { DeviationsTree } from './tree';

/** The deviation parts, exposed to integration tests through the extension's API. */
export interface DeviationsApi {
  readonly index: DeviationIndex;
  readonly diagnostics: DeviationDiagnostics;
  readonly tree: DeviationsTree;
  readonly chambers: ChamberCommands;
  readonly input: MultiStepInput;
  /** Resolves when the first workspace scan is done. */
  readonly ready: Promise<void>;
}

/**
 * Registers deviation markers and records (index, diagnostics, quick fixes, the Deviations
 * view, their commands) and the chamber commands. The first scan starts in the background,
 * once the workspace has loaded.
 */
export function registerDeviations(ctx: SymphonyContext): DeviationsApi {
  const rg = vscodeRipgrep(vscode.env.appRoot);
  ctx.log.info(rg ? `deviation markers: scanning with ${rg}` : `deviation markers: no ripgrep under ${vscode.env.appRoot}; scanning with the built-in walker`);
  const index = new DeviationIndex({ log: ctx.log, rg, typingDelay: () => ctx.options.diagnosticsDelay });
  const diagnostics = new DeviationDiagnostics(index);
  const tree = new DeviationsTree(index);
  const input = new MultiStepInput();
  const chambers = new ChamberCommands({
    index,
    log: ctx.log,
    confirm: modalConfirm,
    trusted: (action) =>
      ensureTrusted(
        {
          isTrusted: vscode.workspace.isTrusted,
          warn: (message, ...actions) => vscode.window.showWarningMessage(message, ...actions),
          manageTrust: () => vscode.commands.executeCommand('workbench.trust.manage'),
        },
        action,
      ),
  });
  ctx.extension.subscriptions.push(
    index,
    diagnostics,
    vscode.window.createTreeView(VIEWS.deviations, { treeDataProvider: tree, showCollapseAll: true }),
    vscode.languages.registerCodeActionsProvider({ scheme: 'file' }, new DeviationCodeActions(index), DeviationCodeActions.metadata),
  );
  registerDeviationCommands(ctx, { index, input, chambers, memento: ctx.extension.workspaceState });
  // After the first workspace load: the views come first, then the scan and its watcher.
  const ready = Promise.resolve(ctx.index.loading)
    .then(() => pickRoot())
    .then((folder) => index.start(folder?.uri.fsPath));
  ready.catch((e: unknown) => ctx.log.error('deviation markers could not start', e));
  return { index, diagnostics, tree, chambers, input, ready };
}
