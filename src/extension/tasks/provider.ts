import * as vscode from 'vscode';
import { isAbsolute, join, relative } from 'node:path';
import type { RunResult } from '../../core/engine/engine';
import type { MelodySummary } from '../../core/load/workspace';
import { eventLines } from '../../protocol/runText';
import type { SymphonyContext } from '../context';

/** The task type of package.json `contributes.taskDefinitions`, DESIGN §7. */
export const TASK_TYPE = 'symphony';

/** A `tasks.json` entry of type symphony: `{ "type": "symphony", "melody": "…", "inputs": {…} }`. */
export interface SymphonyTaskDefinition extends vscode.TaskDefinition {
  readonly type: typeof TASK_TYPE;
  /** The melody file relative to the workspace folder, or the melody's name. */
  readonly melody: string;
  readonly inputs?: Readonly<Record<string, unknown>>;
}

const isDefinition = (d: vscode.TaskDefinition): d is SymphonyTaskDefinition => d.type === TASK_TYPE && typeof d.melody === 'string' && d.melody.length > 0;

/** The melody a task names: by file (relative or absolute), else by `name:`. */
function findMelody(ctx: SymphonyContext, melody: string): MelodySummary | undefined {
  const model = ctx.index.model;
  if (!model) return undefined;
  const file = isAbsolute(melody) ? melody : join(model.root, melody);
  return model.melodies.find((m) => m.file === file) ?? model.melodies.find((m) => m.name === melody);
}

/**
 * Runs a melody on the extension's engine in a task's terminal: each event as a line of
 * the run's transcript (node starts and ends, their log lines), ending with the run's
 * exit code — 0 for success, 1 otherwise, as `symphony run` does. Closing the terminal
 * (or *Terminate Task*) cancels the run.
 */
class MelodyTerminal implements vscode.Pseudoterminal {
  private readonly written = new vscode.EventEmitter<string>();
  private readonly closed = new vscode.EventEmitter<number>();
  readonly onDidWrite = this.written.event;
  readonly onDidClose = this.closed.event;
  private runId: string | undefined;
  private cancelled = false;

  constructor(
    private readonly ctx: SymphonyContext,
    private readonly definition: SymphonyTaskDefinition,
  ) {}

  private line(text = ''): void {
    // A terminal wants CRLF; a log line may hold bare LFs.
    this.written.fire(`${text.replace(/\r?\n/g, '\r\n')}\r\n`);
  }

  open(): void {
    void this.run().then(
      (code) => this.closed.fire(code),
      (e: unknown) => {
        this.line(`✗ ${(e as Error).message ?? String(e)}`);
        this.closed.fire(1);
      },
    );
  }

  close(): void {
    this.cancelled = true;
    if (this.runId) this.ctx.runs.cancel(this.runId);
  }

  private async run(): Promise<number> {
    if (!vscode.workspace.isTrusted) {
      this.line('✗ Symphony runs nothing in Restricted Mode: trust the workspace first (Manage Workspace Trust).');
      return 1;
    }
    if (!this.ctx.index.model) await this.ctx.index.refresh();
    const summary = findMelody(this.ctx, this.definition.melody);
    if (!summary) {
      const known = this.ctx.index.model?.melodies.map((m) => m.name ?? relative(this.ctx.index.model!.root, m.file)) ?? [];
      this.line(`✗ no melody "${this.definition.melody}" in this workspace${known.length ? `; there are: ${known.join(', ')}` : ''}`);
      return 1;
    }
    const loaded = await this.ctx.runs.load(summary.file);
    if (this.cancelled) return 1;
    const result: RunResult = await this.ctx.runs.run(loaded, this.definition.inputs ?? {}, {
      startedFrom: 'Tasks',
      // The terminal is where this run is followed: no progress notification over it.
      background: true,
      onEvent: (e) => {
        if (e.type === 'run-started') {
          this.runId = e.runId;
          if (this.cancelled) this.ctx.runs.cancel(e.runId);
        }
        for (const l of eventLines(e)) this.line(l);
      },
    });
    return result.state === 'success' ? 0 : 1;
  }
}

/** One task per melody of the workspace, each running it on the extension's engine. */
function taskFor(ctx: SymphonyContext, folder: vscode.WorkspaceFolder, definition: SymphonyTaskDefinition, name: string, detail?: string): vscode.Task {
  const task = new vscode.Task(definition, folder, name, TASK_TYPE, new vscode.CustomExecution(async (resolved) => new MelodyTerminal(ctx, isDefinition(resolved) ? resolved : definition)));
  task.detail = detail;
  task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, clear: true };
  return task;
}

/**
 * The `symphony` task provider: every valid melody of the workspace is a task (*Tasks: Run
 * Task → symphony*), and `tasks.json` entries of type symphony run theirs with the inputs
 * they give — on the extension's engine, not by starting the CLI.
 */
export function registerTaskProvider(ctx: SymphonyContext): void {
  const provider: vscode.TaskProvider = {
    async provideTasks() {
      if (!ctx.index.model) await ctx.index.refresh();
      const model = ctx.index.model;
      const folder = ctx.index.root;
      if (!model || !folder) return [];
      return model.melodies
        .filter((m) => m.melody)
        .map((m) => taskFor(ctx, folder, { type: TASK_TYPE, melody: relative(model.root, m.file).split('\\').join('/') }, m.melody!.name, m.description));
    },
    resolveTask(task) {
      const folder = ctx.index.root;
      if (!isDefinition(task.definition) || !folder) return undefined;
      return taskFor(ctx, typeof task.scope === 'object' ? task.scope : folder, task.definition, task.name, task.detail);
    },
  };
  ctx.extension.subscriptions.push(vscode.tasks.registerTaskProvider(TASK_TYPE, provider));
}
