import * as vscode from 'vscode';
import { join } from 'node:path';
import { cleanupTask, inspectChambers, planCleanup, type ChamberToRemove, type CleanupReport } from '../../core/chambers/cleanup';
import { hasConflicts, mergeChambers, MERGE_REPORT_FILE, previewMerge, type MergeReport } from '../../core/chambers/merge';
import { loadChambers } from '../../core/chambers/registry';
import { parseWorkers, setupChambers, type SetupReport } from '../../core/chambers/setup';
import type { ChamberWorker } from '../../core/model/chamber';
import type { Result } from '../../core/model/result';
import type { DeviationIndex } from './deviationIndex';

/**
 * Set Up Chambers, Merge Chambers and Clean Up Task: the CLI's chamber commands, with the
 * same core. They run git, so Restricted Mode refuses them; anything that discards work
 * (recreating chambers, merging with purges, cleaning up) asks first in a modal dialog
 * that says exactly what will be lost.
 */

/** Asks a modal question; resolves to the chosen action, undefined for Cancel. */
export type Confirm = (message: string, detail: string, ...actions: string[]) => PromiseLike<string | undefined>;

/** The modal warning dialog. */
export const modalConfirm: Confirm = (message, detail, ...actions) => vscode.window.showWarningMessage(message, { modal: true, detail }, ...actions);

/** What the chamber commands need. */
export interface ChamberServices {
  readonly index: DeviationIndex;
  readonly log: vscode.LogOutputChannel;
  readonly confirm: Confirm;
  /** Whether git may run here; explains Restricted Mode when not. */
  readonly trusted: (action: string) => boolean;
}

/** Arguments of Set Up Chambers when called from code (otherwise it asks). */
export interface SetupArgs {
  readonly workers?: readonly ChamberWorker[] | string;
  readonly cleanState?: boolean;
}

const EXAMPLE = '[{"id":"auth-impl","module":"auth","scope":"src/auth/**"}]';

/** The value of a core Result, or an Error a person can read. */
function valueOf<T>(r: Result<T, string[]>): T {
  if (!r.ok) throw new Error(r.error.join('; '));
  return r.value;
}

/** "auth-impl (2 unmerged commits, uncommitted changes)" */
function loss(c: ChamberToRemove): string {
  const parts = [c.unmerged ? `${c.unmerged} unmerged commit${c.unmerged === 1 ? '' : 's'}` : '', c.dirty ? 'uncommitted changes' : ''].filter(Boolean);
  return `${c.id}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/** The chamber commands, each resolving to what the core reported (undefined when cancelled). */
export class ChamberCommands {
  constructor(private readonly s: ChamberServices) {}

  private root(action: string): string | undefined {
    if (!this.s.trusted(action)) return undefined;
    const root = this.s.index.root;
    if (!root) throw new Error('open a workspace folder first');
    return root;
  }

  /** Symphony: Set Up Chambers… */
  async setup(args: SetupArgs = {}): Promise<SetupReport | undefined> {
    const root = this.root('set up chambers');
    if (!root) return undefined;
    const known = valueOf(await loadChambers(root));
    let workers: readonly ChamberWorker[];
    if (Array.isArray(args.workers)) {
      workers = args.workers;
    } else {
      const json =
        typeof args.workers === 'string'
          ? args.workers
          : await vscode.window.showInputBox({
              title: 'Set Up Chambers',
              prompt: 'The workers, as JSON: one chamber (git worktree) each, on branch symphony/<id>',
              value: known.length ? JSON.stringify(known.map(({ id, module, scope, mission }) => ({ id, module, scope, ...(mission ? { mission } : {}) }))) : EXAMPLE,
              ignoreFocusOut: true,
              validateInput: (v) => {
                const r = parseWorkers(v);
                return r.ok ? undefined : r.error.join('; ');
              },
            });
      if (json === undefined) return undefined;
      workers = valueOf(parseWorkers(json));
    }
    const existing = valueOf(await inspectChambers(root)).filter((c) => workers.some((w) => w.id === c.id));
    let cleanState = args.cleanState;
    if (cleanState === undefined && existing.length) {
      const keep = 'Keep existing chambers as they are';
      const recreate = 'Recreate them from the merged state (--clean-state)';
      const choice = await vscode.window.showQuickPick([keep, recreate], { title: 'Set Up Chambers', placeHolder: `${existing.length} of these chambers exist already` });
      if (!choice) return undefined;
      cleanState = choice === recreate;
    }
    if (cleanState && existing.length) {
      const go = 'Recreate Chambers';
      const detail = `Each is reset to the current commit; what is in it now is discarded (its old commit is logged, so committed work can be recovered):\n${existing.map(loss).join('\n')}`;
      if ((await this.s.confirm(`Recreate ${existing.length} chamber${existing.length === 1 ? '' : 's'} from the merged state?`, detail, go)) !== go) return undefined;
    }
    const report = valueOf(
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Symphony: setting up chambers…' }, () =>
        setupChambers(root, workers, { cleanState: Boolean(cleanState) }),
      ),
    );
    for (const c of report.chambers) this.s.log.info(`chamber ${c.id}: ${c.state} at ${c.path} on ${c.branch}${c.previousHead ? ` (was at ${c.previousHead})` : ''}`);
    void vscode.window.showInformationMessage(`Symphony: ${report.chambers.length} chamber${report.chambers.length === 1 ? '' : 's'} ready; each has its context in .chamber/CONTEXT.md.`);
    return report;
  }

  /** Symphony: Merge Chambers — applies MERGE_PLAN.json after a confirmation that lists each decision. */
  async merge(): Promise<MergeReport | undefined> {
    const root = this.root('merge chambers');
    if (!root) return undefined;
    const preview = valueOf(await previewMerge(root));
    const lines = preview.plan.flatMap((p) => [
      `${p.chamber.id} (${p.chamber.module}): ${p.decision ? `${p.decision.decision} — ${p.decision.reason}${p.decision.decision === 'purge' ? ' (its work is dropped)' : ''}` : 'no decision, left unmerged'}`,
      ...p.deviations.map((d) => `   deviation ${d.deviation}: ${d.decision}${d.decision === 'purge' ? ` (changes to ${d.files.join(', ') || 'no files'} are taken out)` : ''}`),
    ]);
    const go = 'Merge';
    if ((await this.s.confirm('Merge the chambers as MERGE_PLAN.json decides?', [...lines, ...preview.warnings].join('\n'), go)) !== go) return undefined;
    const report = valueOf(
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Symphony: merging chambers…' }, () => mergeChambers(root)),
    );
    for (const i of report.items) this.s.log.info(`merge ${i.chamber}: ${i.outcome}${i.message ? ` — ${i.message}` : ''}`);
    await this.s.index.reloadRecords();
    const show = 'Show Report';
    const merged = report.items.filter((i) => i.outcome === 'merged').length;
    const message = hasConflicts(report)
      ? vscode.window.showErrorMessage(
          `Symphony: ${report.items.filter((i) => i.outcome === 'conflict').map((i) => i.chamber).join(', ')} had conflicts and were not merged; the repository is clean. ${merged} merged.`,
          show,
        )
      : vscode.window.showInformationMessage(`Symphony: ${merged} chamber${merged === 1 ? '' : 's'} merged into ${report.into}.`, show);
    void message.then((c) => {
      if (c === show) void vscode.window.showTextDocument(vscode.Uri.file(join(root, MERGE_REPORT_FILE)));
    });
    return report;
  }

  /** Symphony: Clean Up Task… — after a confirmation naming every file and chamber it removes. */
  async cleanup(args: { readonly archive?: boolean } = {}): Promise<CleanupReport | undefined> {
    const root = this.root('clean up the task');
    if (!root) return undefined;
    const plan = valueOf(await planCleanup(root));
    if (!plan.archive.length && !plan.purge.length && !plan.chambers.length) {
      void vscode.window.showInformationMessage('Symphony: nothing to clean up.');
      return undefined;
    }
    const detail = [
      plan.chambers.length ? `Removes the chambers and their branches: ${plan.chambers.map(loss).join(', ')}` : '',
      plan.purge.length ? `Deletes: ${plan.purge.join(', ')}` : '',
      plan.archive.length ? `Archives under .symphony/archive/: ${plan.archive.join(', ')}` : '',
      plan.preserved.length ? `Keeps: ${plan.preserved.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('\n');
    const withArchive = 'Clean Up';
    const without = 'Clean Up Without Archive';
    const actions = args.archive === false ? [without] : args.archive === true ? [withArchive] : [withArchive, without];
    const choice = await this.s.confirm('Clean up the task?', detail, ...actions);
    if (choice !== withArchive && choice !== without) return undefined;
    const report = valueOf(await cleanupTask(root, { archive: choice === withArchive }));
    await this.s.index.reloadRecords();
    void vscode.window.showInformationMessage(`Symphony: task cleaned up${report.archivedTo ? `; plans archived in ${report.archivedTo}` : ''}.`);
    return report;
  }
}
