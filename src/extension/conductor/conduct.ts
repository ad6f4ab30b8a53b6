import * as vscode from 'vscode';
import { conductReport, makePlan, planMelody, PlanningError, regenerateConcerto, testCommandOf, writePlan, type ConductReport, type PlanningUsage } from '../../core/conductor/conduct';
import { currentBranch } from '../../core/conductor/assignment';
import type { Plan } from '../../core/conductor/plan';
import { newRunId } from '../../core/engine/engine';
import { formatDiagnostic, type Diagnostic } from '../../core/model/diagnostic';
import type { RunEvent } from '../../core/model/run';
import { EDITORS } from '../commandIds';
import type { SymphonyContext } from '../context';
import { trusted } from '../runs/commands';

/** What Conduct was asked: one task (a CodeLens), or all open tasks. */
export interface ConductTarget {
  readonly task?: number;
  /** Run the plan without asking (tests, and "Conduct this task" from the sheet, which already asked). */
  readonly run?: boolean;
}

/**
 * *Symphony: Conduct* — the Conductor in the editor: plans the open tasks of sheetMusic.md,
 * writes the plan as a melody and opens it on the Harmony Board, and — after *Run plan* —
 * runs it like any melody (the Runs view shows each assignment live, with its gate and
 * commit). Each finished assignment's handoff entry opens beside. Nothing runs in
 * Restricted Mode. Resolves with the report (undefined when nothing ran).
 */
export async function conductCommand(ctx: SymphonyContext, target: ConductTarget = {}): Promise<ConductReport | undefined> {
  if (!trusted('conduct the sheet music')) return undefined;
  if (!ctx.index.model) await ctx.index.refresh();
  const workspace = ctx.index.model;
  if (!workspace) throw new Error('open a folder with a Symphony workspace first (Symphony: Initialize Workspace)');
  const root = workspace.root;
  const planning: PlanningUsage = { tokens: { input: 0, output: 0 }, costUsd: 0 };

  let plan: Plan;
  let melodyText: string;
  let permissions: string;
  let warnings: readonly Diagnostic[] = [];
  try {
    const made = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Symphony: planning the sheet music…', cancellable: true }, (_p, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      return makePlan(root, { models: ctx.models.models, workspace, signal: abort.signal, only: target.task, log: (t) => ctx.log.info(t.trim()) }, planning);
    });
    plan = made.plan;
    for (const w of made.inputs.warnings) ctx.log.warn(`conduct: ${formatDiagnostic(w)}`);
    warnings = made.inputs.warnings;
    const runId = newRunId();
    const branch = (await currentBranch(root, new AbortController().signal)) ?? undefined;
    melodyText = planMelody(plan, made.inputs, runId, { instruments: workspace.ensembles.ensembles.flatMap((e) => e.instruments), branch });
    const tests = testCommandOf(made.inputs);
    permissions = `may write ${[...new Set(plan.assignments.flatMap((a) => a.outputs.scope))].join(', ') || 'nothing'}${tests ? `; runs ${tests.join(' ')}` : ''}`;
    if (!plan.assignments.length) {
      const edit = 'Edit Sheet Music';
      const why = plan.unroutable.length ? `No task could be routed: ${plan.unroutable.map((u) => `task ${u.task}: ${u.reason}`).join(' · ')}` : 'Every task of sheetMusic.md is done.';
      void vscode.window.showInformationMessage(`Symphony: ${why}`, edit).then((c) => c === edit && vscode.commands.executeCommand('symphony.editSheetMusic'));
      return undefined;
    }
    const { file } = await writePlan(root, runId, melodyText, plan);
    const uri = vscode.Uri.file(`${root}/${file}`);
    await vscode.commands.executeCommand('vscode.openWith', uri, EDITORS.harmonyBoard, { preview: false });
    for (const u of plan.unroutable) ctx.log.warn(`conduct: task ${u.task} not routed: ${u.reason}`);
    if (!target.run) {
      const run = 'Run plan';
      const unrouted = plan.unroutable.length ? ` ${plan.unroutable.length} task${plan.unroutable.length === 1 ? '' : 's'} could not be routed (see the log).` : '';
      const choice = await vscode.window.showInformationMessage(
        `Symphony: the plan has ${plan.assignments.length} assignment${plan.assignments.length === 1 ? '' : 's'}: ${plan.assignments.map((a) => `${a.id} → ${a.instrument}`).join(', ')}. It ${permissions}.${unrouted}`,
        run,
        'Cancel',
      );
      if (choice !== run) return undefined;
    }
    const loaded = await ctx.runs.load(uri.fsPath);
    const result = await ctx.runs.run(loaded, {}, { runId, startedFrom: 'Conduct', onEvent: (e) => showHandoffWhenDone(ctx, e) });
    await regenerateConcerto(root, workspace).catch((e: unknown) => ctx.log.warn('concerto.md not regenerated', e));
    const report = conductReport(plan, file, result, planning, warnings);
    for (const [id, a] of Object.entries(report.assignments)) ctx.log.info(`conduct ${report.runId}: ${id} ${a.status}${a.commit ? ` (commit ${a.commit.slice(0, 7)})` : a.commitNote ? ` (${a.commitNote})` : ''}${a.reason ? `: ${a.reason}` : ''}`);
    return report;
  } catch (e) {
    if (e instanceof PlanningError) {
      const edit = 'Edit Sheet Music';
      void vscode.window.showWarningMessage(`Symphony: ${e.message}`, edit).then((c) => c === edit && vscode.commands.executeCommand('symphony.editSheetMusic'));
      return undefined;
    }
    throw e;
  }
}

/** When an assignment ends, its handoff entry (the newest) opens beside, where people read what happened. */
function showHandoffWhenDone(ctx: SymphonyContext, e: RunEvent): void {
  if (e.type !== 'node-finished' || (e.status !== 'success' && e.status !== 'failure')) return;
  const root = ctx.index.model?.root;
  if (!root) return;
  void (async () => {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(`${root}/handoff.md`));
    const last = [...doc.getText().matchAll(/^### /gm)].pop();
    const at = last?.index !== undefined ? doc.positionAt(last.index) : new vscode.Position(doc.lineCount - 1, 0);
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true, preview: true, selection: new vscode.Range(at, at) });
  })().catch((err: unknown) => ctx.log.warn('could not show the handoff entry', err));
}
