import * as vscode from 'vscode';
import { COMMANDS, type CommandId } from '../commandIds';
import type { SymphonyContext } from '../context';
import { initializeWorkspace } from './initializeWorkspace';
import { openWorkspaceFile } from './openWorkspaceFile';
import { validateMelodies } from './validateMelodies';

/**
 * Registers a command whose failure is reported to the user and logged — never thrown
 * into the extension host.
 */
function register(ctx: SymphonyContext, id: CommandId, run: (...args: unknown[]) => unknown): void {
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
  register(ctx, COMMANDS.refreshEnsembles, () => ctx.index.refresh());
  register(ctx, COMMANDS.refreshMelodies, () => ctx.index.refresh());
  register(ctx, COMMANDS.showLog, () => ctx.log.show());
}
