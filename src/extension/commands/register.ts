import * as vscode from 'vscode';
import { COMMANDS, VIEWS, type CommandId } from '../commandIds';
import type { SymphonyContext } from '../context';
import { initializeWorkspace } from './initializeWorkspace';
import { openWorkspaceFile } from './openWorkspaceFile';
import { validateMelodies } from './validateMelodies';
import { cancelRun, deleteSecret, openNodeResult, openRunLog, replayFromNode, resumeRun, runMelody, setSecret } from '../runs/commands';
import { openBoard, openMelodyText } from '../board/openBoard';
import { newMelodyFromTemplate, type TemplateChoice } from '../board/newMelodyFromTemplate';
import { checkModels, deleteApiKey, setApiKey } from '../models/commands';
import { installLocalRuntime } from '../models/localRuntime';
import { openModelSetup } from '../models/setup';
import { conductCommand, type ConductTarget } from '../conductor/conduct';

/**
 * Registers a command whose failure is reported to the user and logged — never thrown
 * into the extension host.
 */
export function register(ctx: SymphonyContext, id: CommandId, run: (...args: unknown[]) => unknown): void {
  ctx.extension.subscriptions.push(
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await run(...args);
      } catch (e) {
        ctx.log.error(`${id} failed`, e);
        const log = 'Show Log';
        void vscode.window.showErrorMessage(`Symphony: ${(e as Error).message ?? String(e)}`, log).then((c) => {
          if (c === log) ctx.log.show();
        });
        return undefined;
      }
    }),
  );
}

export function registerCommands(ctx: SymphonyContext): void {
  register(ctx, COMMANDS.initializeWorkspace, () => initializeWorkspace(ctx));
  register(ctx, COMMANDS.editSheetMusic, () => openWorkspaceFile(ctx, 'sheetMusic.md'));
  register(ctx, COMMANDS.openHandoff, () => openWorkspaceFile(ctx, 'handoff.md'));
  register(ctx, COMMANDS.validateMelodies, () => validateMelodies(ctx));
  // A refresh shows its progress on the view it refreshes.
  const inView = <T>(viewId: string, task: () => Promise<T>) => vscode.window.withProgress({ location: { viewId } }, task);
  register(ctx, COMMANDS.refreshEnsembles, () => inView(VIEWS.ensembles, () => ctx.index.refresh()));
  register(ctx, COMMANDS.refreshMelodies, () => inView(VIEWS.melodies, () => ctx.index.refresh()));
  register(ctx, COMMANDS.showLog, () => ctx.log.show());
  register(ctx, COMMANDS.runMelody, (target, options) => runMelody(ctx, target, options));
  register(ctx, COMMANDS.cancelRun, (target) => cancelRun(ctx, target));
  register(ctx, COMMANDS.resumeRun, (target) => resumeRun(ctx, target));
  register(ctx, COMMANDS.replayFromNode, (target) => replayFromNode(ctx, target));
  register(ctx, COMMANDS.openNodeResult, (target, options) => openNodeResult(ctx, target, options));
  register(ctx, COMMANDS.openRunLog, (target) => openRunLog(ctx, target));
  register(ctx, COMMANDS.refreshRuns, () => inView(VIEWS.runs, () => ctx.runs.model.refresh()));
  register(ctx, COMMANDS.setSecret, (name) => setSecret(ctx, name));
  register(ctx, COMMANDS.deleteSecret, (name) => deleteSecret(ctx, name));
  register(ctx, COMMANDS.setApiKey, (name) => setApiKey(ctx, name));
  register(ctx, COMMANDS.deleteApiKey, (name) => deleteApiKey(ctx, name));
  register(ctx, COMMANDS.conduct, (target) => conductCommand(ctx, (target ?? {}) as ConductTarget));
  register(ctx, COMMANDS.installLocalRuntime, () => installLocalRuntime(ctx.extension));
  register(ctx, COMMANDS.checkModels, (options) => checkModels(ctx, (options ?? {}) as { quiet?: boolean }));
  register(ctx, COMMANDS.openBoard, (target) => openBoard(ctx, target));
  register(ctx, COMMANDS.openMelodyText, (target) => openMelodyText(target));
  register(ctx, COMMANDS.newMelodyFromTemplate, (answers) => newMelodyFromTemplate(ctx, (answers ?? {}) as TemplateChoice));
  register(ctx, COMMANDS.openModelSetup, () => openModelSetup());
}
