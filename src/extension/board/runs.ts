import * as vscode from 'vscode';
import { resolve } from 'node:path';
import { NO_SETTINGS, RunDesk, type BoardRunSettings, type DeskChange } from '../../core/board/runDesk';
import type { RunEvent, RunRecord } from '../../core/model/run';
import type { RunControls } from '../../protocol/boardRun';
import type { SymphonyContext } from '../context';
import { trusted } from '../runs/commands';
import { showNodeResult, showRunDocument } from '../runs/documents';
import type { IntentOutcome } from './session';

/**
 * Where pins and breakpoints are kept: the workspace state, per melody file. Not in the
 * melody (they are a way of trying it, not part of it) and not in the repository (a
 * pinned output can hold anything a node produced); they survive closing the board and
 * restarting VS Code. Renaming the file leaves them behind.
 */
const SETTINGS_KEY = 'symphony.board.runSettings:';

/** Shape-checks what the workspace state holds (another version may have written it). */
function settingsOf(raw: unknown): BoardRunSettings {
  const r = raw as Partial<BoardRunSettings> | undefined;
  const pins = typeof r?.pins === 'object' && r.pins !== null && !Array.isArray(r.pins) ? r.pins : {};
  const breakpoints = Array.isArray(r?.breakpoints) ? r.breakpoints.filter((b): b is string => typeof b === 'string') : [];
  return { pins, breakpoints };
}

/** A run's progress, to tell a stored run that moved on from the one shown. */
const progress = (run: RunRecord) => `${run.runId}|${run.state}|${Object.values(run.nodes).filter((n) => n.state !== 'running').length}`;

/**
 * The runs of one melody file as its boards show and control them: the {@link RunDesk}
 * kept while a board of the file is open (or a run from one still goes), persisted
 * settings, and the actions behind the board's run intents.
 */
export class MelodyRuns implements vscode.Disposable {
  readonly desk: RunDesk;
  private readonly changes = new vscode.EventEmitter<DeskChange>();
  /** Fires with every change of the desk, for the sessions to send. */
  readonly onDidChange = this.changes.event;
  /** Settles when the run started from the board has ended (undefined when none). */
  private boardRun: Promise<unknown> | undefined;

  constructor(
    private readonly ctx: SymphonyContext,
    /** The melody file, absolute. */
    readonly file: string,
  ) {
    this.desk = new RunDesk(settingsOf(ctx.extension.workspaceState.get(this.key) ?? NO_SETTINGS), (change) => {
      if (change.kind === 'settings') void Promise.resolve(ctx.extension.workspaceState.update(this.key, this.desk.saved));
      this.changes.fire(change);
    });
  }

  private get key(): string {
    return SETTINGS_KEY + vscode.workspace.asRelativePath(this.file, false);
  }

  /** Whether a run's `file` (relative to the root, as recorded) is this melody. */
  isOf(relativeFile: string): boolean {
    const root = this.ctx.runs.model.root;
    return root !== undefined && resolve(root, relativeFile) === this.file;
  }

  /** What the board's toolbar and debug console enable now. */
  controls(): RunControls {
    return this.desk.controls((runId) => this.ctx.runs.isActive(runId));
  }

  /** Settles when the run from the board has ended (at once when there is none). */
  settled(): Promise<unknown> {
    return this.boardRun ?? Promise.resolve();
  }

  /**
   * Shows the newest stored run of the melody — one of the CLI, of another window, or
   * from before the board opened — when it is not the run this window follows live.
   */
  async showLatestStored(): Promise<void> {
    const latest = this.ctx.runs.model.snapshot.runs.find((r) => this.isOf(r.file));
    const shown = this.desk.view.run;
    // Runs of this window arrive event by event once shown: the snapshot can only be behind them.
    const live = (runId: string) => this.ctx.runs.isActive(runId);
    if (!latest) return;
    if (shown?.runId === latest.runId) {
      // Only a run of another process moves on without events here.
      if (live(latest.runId) || shown.state !== 'running' || progress(shown) === progress(latest)) return;
    } else if (shown && (latest.startedAt < shown.startedAt || (shown.state === 'running' && live(shown.runId)))) {
      return;
    }
    let events: RunEvent[] = [];
    try {
      events = await this.ctx.runs.model.stores().storage.events(latest.runId);
    } catch (e) {
      this.ctx.log.warn(`Harmony Board: could not read the events of run ${latest.runId}`, e);
    }
    // A run that started while the journal was read is newer than what was read.
    if (this.desk.view.run === shown) this.desk.showStored(latest, events);
  }

  /**
   * Runs the melody from the board: trusted workspaces only, the document saved first (as
   * Run Melody does), with the board's debugger and — for a preview — its pins. Resolves
   * once the run has started (it may pause at once); the run goes on without the intent.
   */
  async run(document: vscode.TextDocument, inputs: Readonly<Record<string, unknown>>, preview: boolean): Promise<IntentOutcome> {
    if (!trusted('run melodies')) return { ok: false, message: 'Restricted Mode: trust this workspace to run melodies' };
    if (this.boardRun) return { ok: false, message: 'a run started from the board is still going: cancel it first' };
    if (document.isDirty && !(await document.save())) return { ok: false, message: 'the melody could not be saved, so it was not run' };
    const loaded = await this.ctx.runs.load(this.file);
    const setup = this.desk.begin(Object.keys(loaded.melody.nodes), preview);
    let started!: (runId: string) => void;
    const runId = new Promise<string>((r) => (started = r));
    const done = this.ctx.runs.run(loaded, inputs, {
      pinned: setup.pinned,
      debug: setup.debug,
      startedFrom: 'Harmony Board',
      onEvent: (e) => {
        if (e.type !== 'run-started') return;
        this.desk.started(e.runId);
        started(e.runId);
      },
    });
    const ended = done.then(
      () => undefined,
      (e: unknown) => this.ctx.log.warn(`Harmony Board: the run of ${loaded.melody.name} stopped with an error`, e),
    );
    this.boardRun = ended.finally(() => {
      this.boardRun = undefined;
      this.desk.ended();
    });
    // A run that cannot start (bad inputs, say) rejects before its first event.
    const id = await Promise.race([runId, done.then(() => undefined)]);
    const pinned = Object.keys(setup.pinned ?? {});
    const paused = this.desk.saved.breakpoints.length ? ` · breakpoints on ${this.desk.saved.breakpoints.join(', ')}` : '';
    return { ok: true, message: `Running ${loaded.melody.name}${pinned.length ? ` as a preview (pinned: ${pinned.join(', ')})` : ''}${paused}${id ? ` — run ${id}` : ''}` };
  }

  /** Cancels the run of this melody that this window executes. */
  cancel(): IntentOutcome {
    const runId = this.desk.view.run?.runId;
    if (runId && this.ctx.runs.cancel(runId)) return { ok: true, message: `Cancelling run ${runId}` };
    return { ok: false, message: 'no run of this melody is running in this window' };
  }

  /** Pins a typed output, one from a run, or (without `pin`) unpins. */
  async pin(nodeId: string, pin: { source: 'typed'; output: unknown } | { source: 'run'; runId: string } | undefined): Promise<IntentOutcome> {
    if (!pin) {
      this.desk.pin(nodeId, undefined);
      return { ok: true, message: `Unpinned ${nodeId}: it runs again` };
    }
    if (pin.source === 'typed') {
      this.desk.pin(nodeId, { output: pin.output });
      return { ok: true, message: `Pinned an output to ${nodeId}: preview runs skip it` };
    }
    const output = await this.ctx.runs.model.output(pin.runId, nodeId);
    if (!output) return { ok: false, message: `${nodeId} has no output in run ${pin.runId} to pin` };
    this.desk.pin(nodeId, { output: output.value, fromRun: pin.runId });
    return { ok: true, message: `Pinned the output of ${nodeId} from run ${pin.runId}: preview runs skip it` };
  }

  /** Opens a node's output (its log when it has none) or its log, beside the board. */
  async openDocument(runId: string, nodeId: string, which: 'output' | 'log'): Promise<IntentOutcome> {
    if (which === 'log') await showRunDocument({ kind: 'node-log', runId, nodeId }, vscode.ViewColumn.Beside);
    else await showNodeResult(this.ctx.runs.model, runId, nodeId, { preferLog: false, viewColumn: vscode.ViewColumn.Beside });
    return { ok: true, message: `Showing the ${which} of ${nodeId}` };
  }

  /**
   * The last board of the melody closed. A run it paused must not wait for a Continue
   * nobody can press: it carries on as if it had no breakpoints.
   */
  letGo(): void {
    this.desk.release();
  }

  dispose(): void {
    this.changes.dispose();
  }
}

/**
 * The run desks of the open boards, one per melody file, fed with the events of every run
 * this window executes and with the stored runs the Runs view reads.
 */
export class BoardRuns implements vscode.Disposable {
  private readonly melodies = new Map<string, { readonly runs: MelodyRuns; users: number }>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly ctx: SymphonyContext) {
    ctx.runs.onDidRunEvent((e) => this.apply(e), undefined, this.disposables);
    ctx.runs.model.onDidChange(() => {
      for (const { runs } of this.melodies.values()) void runs.showLatestStored();
    }, undefined, this.disposables);
  }

  private apply(event: RunEvent): void {
    for (const { runs } of this.melodies.values()) runs.desk.apply(event, event.type === 'run-started' && runs.isOf(event.file));
  }

  /** The runs of `file` for a board; dispose the handle when the board closes. */
  acquire(file: string): { readonly runs: MelodyRuns; dispose(): void } {
    let entry = this.melodies.get(file);
    if (!entry) {
      entry = { runs: new MelodyRuns(this.ctx, file), users: 0 };
      this.melodies.set(file, entry);
      void entry.runs.showLatestStored();
    }
    const held = entry;
    held.users++;
    let released = false;
    return {
      runs: held.runs,
      dispose: () => {
        if (released) return;
        released = true;
        if (--held.users > 0) return;
        held.runs.letGo();
        // A run from the board still going keeps its desk until it ends (a new board of the file finds it).
        void held.runs.settled().then(() => {
          if (held.users > 0 || this.melodies.get(file) !== held) return;
          this.melodies.delete(file);
          held.runs.dispose();
        });
      },
    };
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
    for (const { runs } of this.melodies.values()) runs.dispose();
    this.melodies.clear();
  }
}
