import * as vscode from 'vscode';
import { basename, isAbsolute, join, relative } from 'node:path';
import type { RunResult } from '../../core/engine/engine';
import type { SymphonyContext } from '../context';
import type { LoadedMelody } from './controller';
import { showNodeResult, showRunDocument } from './documents';
import { collectInputs, inputPrompts } from './inputs';
import { secretNameProblem } from './secrets';
import type { RunsNode } from './tree';
import { ensureTrusted } from './trust';
import { describeUnserved } from '../../core/providers/readiness';
import { openModelSetup, unservedIn } from '../models/setup';

// The run commands. Each takes what its menus pass (a row, a melody file's URI) or, from the
// Command Palette, nothing — and then asks. commands/register.ts wires them with its error
// handling, so a failure here is reported, never thrown into the extension host.

/**
 * Whether something that executes may start; explains Restricted Mode when not (the
 * Harmony Board's Run asks it too).
 */
export function trusted(action: string): boolean {
  return ensureTrusted(
    {
      isTrusted: vscode.workspace.isTrusted,
      warn: (message, ...actions) => vscode.window.showWarningMessage(message, ...actions),
      manageTrust: () => vscode.commands.executeCommand('workbench.trust.manage'),
    },
    action,
  );
}

function isRunsNode(value: unknown): value is RunsNode {
  const v = value as Partial<RunsNode> | undefined;
  return typeof v === 'object' && v !== null && (v.kind === 'run' || v.kind === 'node') && typeof v.run === 'object';
}

/** The melody file a command was given: a URI (editor title), a Melodies row, or a path. */
function melodyFileOf(ctx: SymphonyContext, target: unknown): string | undefined {
  if (target instanceof vscode.Uri) return target.scheme === 'file' ? target.fsPath : undefined;
  const row = target as { melody?: { file?: unknown } } | undefined;
  if (typeof row?.melody?.file === 'string') return row.melody.file;
  if (typeof target === 'string' && target) {
    const root = ctx.index.root?.uri.fsPath;
    return isAbsolute(target) || !root ? target : join(root, target);
  }
  return undefined;
}

/** The inputs a caller passed as `{ inputs }` (scripts and tests), instead of asking for them. */
function inputsOption(options: unknown): Record<string, unknown> | undefined {
  const inputs = (options as { inputs?: unknown } | undefined)?.inputs;
  return typeof inputs === 'object' && inputs !== null ? (inputs as Record<string, unknown>) : undefined;
}

async function pickMelody(ctx: SymphonyContext): Promise<string | undefined> {
  await ctx.index.refresh();
  const model = ctx.index.model;
  const melodies = model?.melodies ?? [];
  if (!melodies.length) {
    void vscode.window.showInformationMessage('Symphony: this workspace has no melodies (*.melody.yaml) yet.');
    return undefined;
  }
  const name = (m: (typeof melodies)[number]) => m.name ?? basename(m.file);
  const items = [...melodies]
    .sort((a, b) => name(a).localeCompare(name(b)))
    .map((m) => {
      const errors = m.diagnostics.filter((d) => d.severity === 'error').length;
      const where = relative(model!.root, m.file);
      return {
        label: `${errors ? '$(error)' : '$(play)'} ${name(m)}`,
        description: errors ? `${errors} problem${errors === 1 ? '' : 's'} · ${where}` : where,
        detail: m.description,
        file: m.file,
      };
    });
  const picked = await vscode.window.showQuickPick(items, { title: 'Run Melody', placeHolder: 'Choose the melody to run', matchOnDescription: true, matchOnDetail: true });
  return picked?.file;
}

/** One InputBox per declared input, prefilled with its default; undefined when dismissed. */
async function askInputs(loaded: LoadedMelody): Promise<Record<string, unknown> | undefined> {
  const prompts = inputPrompts(loaded.melody);
  const texts: string[] = [];
  for (const [i, p] of prompts.entries()) {
    const text = await vscode.window.showInputBox({
      title: `Run ${loaded.melody.name} — input ${i + 1} of ${prompts.length}: ${p.title}`,
      prompt: p.prompt,
      value: p.value,
      validateInput: p.validate,
      ignoreFocusOut: true,
    });
    if (text === undefined) return undefined;
    texts.push(text);
  }
  return collectInputs(prompts, texts);
}

/**
 * Symphony: Run Melody… — the melody given (a URI or a Melodies row) or picked, its inputs
 * (given as `{ inputs }` or asked), then the run. Resolves with the run's record.
 */
export async function runMelody(ctx: SymphonyContext, target?: unknown, options?: unknown): Promise<RunResult | undefined> {
  if (!trusted('run melodies')) return undefined;
  const file = melodyFileOf(ctx, target) ?? (await pickMelody(ctx));
  if (!file) return undefined;
  // Run what the editor shows, as a task runner saves before it builds.
  await vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === file && d.isDirty)?.save();
  const loaded = await ctx.runs.load(file);
  const given = inputsOption(options);
  // Asked before the inputs, as they are: a script that passes its inputs is not asked.
  if (!given && !(await goAheadWithoutModel(ctx, loaded))) return undefined;
  const inputs = given ?? (await askInputs(loaded));
  if (!inputs) return undefined;
  return ctx.runs.run(loaded, inputs);
}

/**
 * A melody some node of which no set-up model can serve would fail there: say so before
 * it runs, with the way to set one up — or run it anyway (a fallback or an `if:` may yet
 * keep it from failing). True to run.
 */
async function goAheadWithoutModel(ctx: SymphonyContext, loaded: LoadedMelody): Promise<boolean> {
  await ctx.index.modelSetupKnown();
  const unserved = unservedIn(ctx, loaded.melody);
  if (!unserved.length) return true;
  const runAnyway = 'Run Anyway';
  const setUp = 'Set Up a Model';
  const nodes = unserved.map((n) => `\`${n.nodeId}\``).join(', ');
  const choice = await vscode.window.showWarningMessage(
    `Symphony: ${loaded.melody.name} needs a model for ${nodes}, and none is set up here, so ${unserved.length === 1 ? 'that node' : 'those nodes'} would fail.`,
    { detail: unserved.map(describeUnserved).join('\n') },
    setUp,
    runAnyway,
  );
  if (choice === setUp) void openModelSetup();
  return choice === runAnyway;
}

/** A run id from a row or a string. */
function runIdOf(target: unknown): string | undefined {
  if (isRunsNode(target)) return target.run.runId;
  return typeof target === 'string' && target ? target : undefined;
}

/** Picks one of the runs the view shows that match; undefined when dismissed or none match. */
async function pickRun(ctx: SymphonyContext, title: string, matches: (runId: string) => boolean, none: string): Promise<string | undefined> {
  const snapshot = ctx.runs.model.snapshot;
  const items = snapshot.runs.filter((r) => matches(r.runId)).map((r) => ({ label: r.melody, description: `${r.state} · ${r.startedAt.replace('T', ' ').slice(0, 19)}`, detail: r.runId, runId: r.runId }));
  if (!items.length) {
    void vscode.window.showInformationMessage(`Symphony: ${none}`);
    return undefined;
  }
  return (await vscode.window.showQuickPick(items, { title, matchOnDetail: true }))?.runId;
}

/** Symphony: Cancel Run — a run of this window (the row's, the only one, or one picked). */
export async function cancelRun(ctx: SymphonyContext, target?: unknown): Promise<boolean> {
  const active = ctx.runs.activeRuns();
  let runId = runIdOf(target);
  if (!runId && active.length === 1) runId = active[0]!.runId;
  runId ??= await pickRun(ctx, 'Cancel Run', (id) => ctx.runs.isActive(id), 'no melody is running in this window.');
  if (!runId) return false;
  if (ctx.runs.cancel(runId)) return true;
  void vscode.window.showInformationMessage(`Symphony: run ${runId} is not running in this window, so it cannot be cancelled here.`);
  return false;
}

/**
 * Symphony: Resume Run — an interrupted run: recorded as running, but its process died.
 * The store refuses a run another live process still has open, with a message naming it.
 */
export async function resumeRun(ctx: SymphonyContext, target?: unknown): Promise<RunResult | undefined> {
  if (!trusted('resume runs')) return undefined;
  const snapshot = ctx.runs.model.snapshot;
  const runId = runIdOf(target) ?? (await pickRun(ctx, 'Resume Run', (id) => snapshot.phase(id) === 'interrupted', 'no interrupted run to resume.'));
  if (!runId) return undefined;
  return ctx.runs.resume(runId);
}

/** Symphony: Replay from Node… — runs a run again from a node; the upstream outputs come from its artifacts. */
export async function replayFromNode(ctx: SymphonyContext, target?: unknown): Promise<RunResult | undefined> {
  if (!trusted('replay runs')) return undefined;
  const replayable = (id: string) => ['ended', 'interrupted'].includes(ctx.runs.model.snapshot.phase(id));
  const runId = runIdOf(target) ?? (await pickRun(ctx, 'Replay from Node: choose the run', replayable, 'no run to replay yet.'));
  if (!runId) return undefined;
  let nodeId = isRunsNode(target) && target.kind === 'node' ? target.id : undefined;
  if (!nodeId) {
    const nodes = ctx.runs.model.snapshot.nodes(runId).map(({ id, node }) => ({ label: id, description: node.state }));
    nodeId = (await vscode.window.showQuickPick(nodes, { title: 'Replay from Node: it and everything after it run again' }))?.label;
  }
  if (!nodeId) return undefined;
  return ctx.runs.replay(runId, nodeId);
}

/**
 * Open Node Output — a node row's output (its log when it has none). A click on the row
 * passes `{ preferLog: true }`: then only a node that succeeded shows its output.
 */
export async function openNodeResult(ctx: SymphonyContext, target?: unknown, options?: unknown): Promise<vscode.TextEditor | undefined> {
  if (!isRunsNode(target) || target.kind !== 'node') return undefined;
  const preferLog = (options as { preferLog?: unknown } | undefined)?.preferLog === true;
  return showNodeResult(ctx.runs.model, target.run.runId, target.id, { preferLog });
}

/** Symphony: Open Run Log — a run's transcript, or a node's log from its row. */
export async function openRunLog(ctx: SymphonyContext, target?: unknown): Promise<vscode.TextEditor | undefined> {
  if (isRunsNode(target) && target.kind === 'node') return showRunDocument({ kind: 'node-log', runId: target.run.runId, nodeId: target.id });
  const runId = runIdOf(target) ?? (await pickRun(ctx, 'Open Run Log', () => true, 'no runs yet.'));
  return runId ? showRunDocument({ kind: 'run-log', runId }) : undefined;
}

/** Symphony: Set Secret… — stores a value the melodies read as `secrets.NAME`. */
export async function setSecret(ctx: SymphonyContext, name?: unknown): Promise<boolean> {
  const chosen =
    typeof name === 'string' && name
      ? name
      : await vscode.window.showInputBox({ title: 'Set Secret: name', prompt: 'Melodies read it as secrets.NAME', placeHolder: 'API_TOKEN', validateInput: secretNameProblem, ignoreFocusOut: true });
  if (!chosen) return false;
  const problem = secretNameProblem(chosen);
  if (problem) throw new Error(`cannot store secret "${chosen}": ${problem}`);
  const value = await vscode.window.showInputBox({ title: `Set Secret: value of ${chosen}`, prompt: "Kept in VS Code's secret storage; runs redact it from every log and record.", password: true, ignoreFocusOut: true });
  if (value === undefined) return false;
  await ctx.runs.secrets.set(chosen, value);
  void vscode.window.showInformationMessage(`Symphony: secret ${chosen} is set. Melodies read it as secrets.${chosen}.`);
  return true;
}

/** Symphony: Delete Secret… — one of the secrets set through Symphony. */
export async function deleteSecret(ctx: SymphonyContext, name?: unknown): Promise<boolean> {
  const known = ctx.runs.secrets.list();
  let chosen = typeof name === 'string' && name ? name : undefined;
  if (!chosen) {
    if (!known.length) {
      void vscode.window.showInformationMessage('Symphony: no secrets are set. "Symphony: Set Secret…" adds one.');
      return false;
    }
    chosen = await vscode.window.showQuickPick(known, { title: 'Delete Secret', placeHolder: 'The secret to delete' });
  }
  if (!chosen) return false;
  await ctx.runs.secrets.delete(chosen);
  void vscode.window.showInformationMessage(`Symphony: secret ${chosen} is deleted.`);
  return true;
}
