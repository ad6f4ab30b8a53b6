import * as vscode from 'vscode';
import { registerCommands } from './commands/register';
import { registerConductor } from './conductor/register';
import { createContext, type SymphonyContext } from './context';
import { MelodyDiagnostics } from './diagnostics';
import { registerBoard, type HarmonyBoard } from './board/provider';
import { registerDeviations, type DeviationsApi } from './deviations/register';
import { registerTriggerCommands } from './commands/triggers';
import type { TriggersApi } from './triggers/register';
import { registerViews, type Views } from './views/register';
import { registerModelSetup, type ModelSetupApi } from './models/setup';
import { registerTaskProvider } from './tasks/provider';

/**
 * What `activate()` returns: the parts integration tests inspect through
 * `vscode.extensions.getExtension('symphony-dev.symphony').exports`.
 */
export interface SymphonyApi {
  readonly context: SymphonyContext;
  readonly views: Views;
  readonly diagnostics: MelodyDiagnostics;
  /** The Harmony Board custom editor and its open sessions. */
  readonly board: HarmonyBoard;
  /** Deviation markers and records, their view, and the chamber commands. */
  readonly deviations: DeviationsApi;
  /** The trigger dispatcher (save, commit, schedule, webhook, chains) while triggers are on. */
  readonly triggers: TriggersApi;
  /** Whether models are set up, and the melodies triggers held back for want of one. */
  readonly models: ModelSetupApi;
  /** Milliseconds from the start of `activate()` to the first workspace load (the views filled). */
  readonly activationMs: Promise<number>;
}

/** The context of the active extension, for `deactivate()`. */
let current: SymphonyContext | undefined;

/** How long shutting down waits for cancelled runs to write their last events. */
const SHUTDOWN_WAIT_MS = 3000;

export function activate(extension: vscode.ExtensionContext): SymphonyApi | undefined {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('Symphony', { log: true });
  extension.subscriptions.push(log);
  try {
    const ctx = createContext(extension, log);
    current = ctx;
    const views = registerViews(ctx);
    const diagnostics = new MelodyDiagnostics(ctx);
    extension.subscriptions.push(diagnostics);
    registerCommands(ctx);
    registerConductor(ctx);
    const board = registerBoard(ctx);
    const deviations = registerDeviations(ctx);
    const triggers = registerTriggerCommands(ctx);
    const models = registerModelSetup(ctx);
    registerTaskProvider(ctx);
    // The workspace loads after activate() returns; the views wait for it, showing progress.
    const filled = ctx.index.loading;
    void ctx.index.refresh();
    const activationMs = Promise.resolve(filled).then(() => {
      const ms = performance.now() - started;
      log.info(`views filled in ${ms.toFixed(0)} ms from activation (workspace trusted: ${vscode.workspace.isTrusted})`);
      return ms;
    });
    log.info(`activate() returned in ${(performance.now() - started).toFixed(1)} ms`);
    return { context: ctx, views, diagnostics, board, deviations, triggers, models, activationMs };
  } catch (e) {
    log.error('activation failed', e);
    const show = 'Show Log';
    void vscode.window.showErrorMessage(`Symphony could not start: ${(e as Error).message}`, show).then((c) => {
      if (c === show) log.show();
    });
    return undefined;
  }
}

/**
 * Cancels the melodies running in this window and waits (bounded) for their journals to
 * be closed, so each run ends `cancelled` on disk rather than looking interrupted. The
 * disposables in context.subscriptions clean up the rest.
 */
export async function deactivate(): Promise<void> {
  const ctx = current;
  current = undefined;
  await ctx?.runs.shutdown(SHUTDOWN_WAIT_MS);
}
