import * as vscode from 'vscode';
import type { RunDebugger } from '../../core/engine/debugger';
import type { Engine, RunResult } from '../../core/engine/engine';
import { createWorkspaceEngine, processEnv } from '../../core/engine/workspaceEngine';
import type { ModelProvider } from '../../core/providers/types';
import { thisProcess } from '../../core/store/processes';
import { nodeFileSystem } from '../../core/load/fs';
import { loadWorkspaceModel, type WorkspaceModel } from '../../core/load/workspace';
import type { Melody } from '../../core/model/melody';
import type { RunEvent, TriggerInfo } from '../../core/model/run';
import { VIEWS } from '../commandIds';
import type { ExtensionOptions } from '../config';
import type { WorkspaceIndex } from '../workspaceIndex';
import { showRunDocument } from './documents';
import { vscodeHost } from './host';
import { RunsModel } from './model';
import { formatDuration } from './present';
import { SecretVault } from './secrets';
import { ToastGroups } from './toastGroups';

/** A melody file loaded and checked by the engine, ready to run. */
export interface LoadedMelody {
  readonly melody: Melody;
  readonly text: string;
  readonly file: string;
}

/** What a run started from the Harmony Board (or a script) adds to a plain run. */
export interface RunOptions {
  /** Preview mode: these nodes finish with the given output instead of running. */
  readonly pinned?: Readonly<Record<string, unknown>>;
  /** Pauses before nodes start: the board's breakpoints and stepping. */
  readonly debug?: RunDebugger;
  /** Events of this run only (not its sub-melody runs), from its first on — so the caller learns its id. */
  readonly onEvent?: (event: RunEvent) => void;
  /** Where it was started, for the run's trigger (default "VS Code"). */
  readonly startedFrom?: string;
  /** What started it, when not a person (a save, a commit, a schedule…). */
  readonly trigger?: TriggerInfo;
  /**
   * Runs started by triggers go quietly: progress in the status bar instead of a
   * notification, and a notification only when they fail.
   */
  readonly background?: boolean;
  /** The run's id, when something was named after it first (the Conductor's plan). */
  readonly runId?: string;
}

/** A run this window executes. */
interface ActiveRun {
  /** The melody's name (and how it was started, for resumes and replays). */
  title: string;
  readonly abort: AbortController;
  /** Known from the run's first event on. */
  runId?: string;
  /** Settles when the run has ended and its journal is closed. */
  done?: Promise<unknown>;
  /** Nodes running now, for the progress notification and the status bar. */
  readonly running: Set<string>;
}

/** What the controller is built from. */
export interface RunControllerDeps {
  readonly extension: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  readonly index: WorkspaceIndex;
  readonly options: () => ExtensionOptions;
  /** The model providers instrument nodes call. */
  readonly models: ModelProvider;
}

/** The first line of a message, for a notification. */
const firstLine = (text: string) => text.split('\n', 1)[0]!;

/**
 * The extension as the engine's host: it owns the engine of the Symphony root, runs
 * melodies with a cancellable progress notification, keeps the status-bar item while runs
 * are active, announces how each run ended, and cancels everything on shutdown.
 */
export class RunController implements vscode.Disposable {
  readonly model: RunsModel;
  readonly secrets: SecretVault;
  private engine: { readonly root: string; readonly maxParallel: number; readonly engine: Engine } | undefined;
  private readonly active = new Set<ActiveRun>();
  private readonly status: vscode.StatusBarItem;
  private readonly activeChanged = new vscode.EventEmitter<number>();
  private readonly revealRequested = new vscode.EventEmitter<string>();
  private readonly runEvent = new vscode.EventEmitter<RunEvent>();
  /** Runs (and their sub-melody runs) that triggers started: they go quietly. */
  private readonly backgroundRuns = new Set<string>();
  /** Failures of triggered runs: one notification per melody until the person looks. */
  private readonly failureToasts = new ToastGroups<RunResult>();

  /** Fires with how many runs this window executes, whenever that changes. */
  readonly onDidChangeActive = this.activeChanged.event;
  /** Fires with a run id to show in the Runs view. */
  readonly onDidRequestReveal = this.revealRequested.event;
  /**
   * Fires with every event of every run this window executes, sub-melody runs included —
   * after the Runs view has it. The Harmony Board follows the runs of its melody with it.
   */
  readonly onDidRunEvent = this.runEvent.event;
  private readonly announced = new vscode.EventEmitter<{ readonly runId: string; readonly melody: string; readonly state: RunResult['state']; readonly shown: boolean }>();
  /** Fires when a run's end is announced — `shown` false when it joined an open notification. */
  readonly onDidAnnounce = this.announced.event;

  constructor(private readonly deps: RunControllerDeps) {
    this.model = new RunsModel(deps.index, deps.options, deps.log);
    this.secrets = new SecretVault(deps.extension.secrets, deps.extension.globalState);
    this.status = vscode.window.createStatusBarItem('symphony.runs', vscode.StatusBarAlignment.Left, 10);
    this.status.name = 'Symphony Runs';
    this.status.command = { command: `${VIEWS.runs}.focus`, title: 'Show Runs' };
    // Who this process is (its start time, from /proc or `ps`) goes into every run's claim:
    // found out now, in the background, rather than while the first run waits for its folder.
    void thisProcess();
  }

  /**
   * The engine of the Symphony root. One per root, because it holds the instruments'
   * concurrency limits across runs; a changed `maxParallel` makes a new one, whose limits
   * apply to runs started from then on.
   */
  private async engineFor(): Promise<Engine> {
    // A command can activate the extension and arrive before the first workspace load.
    if (!this.model.root) await this.deps.index.refresh();
    const root = this.model.root;
    if (!root) throw new Error('open a folder first: melodies run in the workspace folder');
    const maxParallel = this.deps.options().maxParallel;
    if (this.engine?.root !== root || this.engine.maxParallel !== maxParallel) {
      const engine = createWorkspaceEngine(root, {
        host: vscodeHost(this.deps.log, (notice) => notice.level === 'error' && notice.runId !== undefined && this.backgroundRuns.has(notice.runId)),
        secrets: (name) => this.secrets.get(name),
        env: processEnv(),
        models: this.deps.models,
        onEvent: (e) => {
          if (e.type === 'run-started' && e.parent && this.backgroundRuns.has(e.parent.runId)) this.backgroundRuns.add(e.runId);
          this.model.apply(e);
          this.runEvent.fire(e);
        },
        maxParallel,
        workspace: () => this.workspaceModel(root),
      });
      this.engine = { root, maxParallel, engine };
    }
    return this.engine.engine;
  }

  /** The index's snapshot (which honours the ensembles-folder setting) when it is of this root. */
  private async workspaceModel(root: string): Promise<WorkspaceModel> {
    const model = this.deps.index.model;
    return model?.root === root ? model : loadWorkspaceModel(nodeFileSystem, root, this.deps.options().ensemblesFolder);
  }

  /** Loads and checks a melody file; a `RunRequestError` names what is wrong. */
  async load(file: string): Promise<LoadedMelody> {
    return (await this.engineFor()).loadMelodyFile(file);
  }

  /** Runs a loaded melody; resolves with its final record (failures are records, not errors). */
  run(loaded: LoadedMelody, inputs: Readonly<Record<string, unknown>>, options: RunOptions = {}): Promise<RunResult> {
    return this.runLoaded(loaded, inputs, options);
  }

  /**
   * Reads, checks and runs a melody file, shown as running (status bar, Runs badge) from the
   * moment it is asked for: a triggered run appears as soon as its trigger fires, not once
   * its file has been read and checked. `onShown` is called then. A file that cannot run
   * rejects, as `load` does, and is no longer shown.
   */
  async runFile(file: string, title: string, inputs: Readonly<Record<string, unknown>>, options: RunOptions & { readonly onShown?: () => void } = {}): Promise<RunResult> {
    const entry = this.claim(title);
    options.onShown?.();
    let loaded: LoadedMelody;
    try {
      loaded = await this.load(file);
    } catch (e) {
      this.release(entry);
      throw e;
    }
    return this.runLoaded(loaded, inputs, options, entry);
  }

  private runLoaded(loaded: LoadedMelody, inputs: Readonly<Record<string, unknown>>, options: RunOptions, claimed?: ActiveRun): Promise<RunResult> {
    const compensate = loaded.melody['on-failure']?.compensate;
    const plan = Object.keys(loaded.melody.nodes).filter((id) => id !== compensate);
    const { pinned, debug, onEvent: listener } = options;
    const title = pinned ? `${loaded.melody.name} (preview)` : loaded.melody.name;
    return this.execute(title, plan, options.background ?? false, claimed, (engine, signal, onEvent) =>
      engine.run({
        ...loaded,
        inputs,
        signal,
        onEvent: (e) => {
          onEvent(e);
          listener?.(e);
        },
        trigger: options.trigger ?? { kind: 'manual', detail: options.startedFrom ?? 'VS Code' },
        pinned,
        debug,
        runId: options.runId,
      }),
    );
  }

  /** Continues a run whose process died, without re-running the nodes that finished. */
  async resume(runId: string): Promise<RunResult> {
    await this.model.reread(runId);
    const title = `${this.model.snapshot.get(runId)?.melody ?? runId} (resumed)`;
    return this.execute(title, undefined, false, undefined, (engine, signal, onEvent) => engine.resume(runId, { signal, onEvent }));
  }

  /** Runs a run again from a node, with upstream outputs from its stored artifacts. */
  replay(runId: string, from: string): Promise<RunResult> {
    const title = `${this.model.snapshot.get(runId)?.melody ?? runId} from ${from}`;
    return this.execute(title, undefined, false, undefined, (engine, signal, onEvent) => engine.replay(runId, from, { signal, onEvent }));
  }

  /** Shows a run as active (status bar, Runs badge) before anything of it has happened. */
  private claim(title: string): ActiveRun {
    const entry: ActiveRun = { title, abort: new AbortController(), running: new Set() };
    this.active.add(entry);
    this.activeRunsChanged();
    return entry;
  }

  private release(entry: ActiveRun): void {
    if (entry.runId) this.forgetBackground(entry.runId);
    this.active.delete(entry);
    this.activeRunsChanged();
  }

  private async execute(
    title: string,
    plan: readonly string[] | undefined,
    background: boolean,
    claimed: ActiveRun | undefined,
    start: (engine: Engine, signal: AbortSignal, onEvent: (e: RunEvent) => void) => Promise<RunResult>,
  ): Promise<RunResult> {
    let entry = claimed;
    try {
      const engine = await this.engineFor();
      entry ??= this.claim(title);
      entry.title = title;
      const active = entry;
      const run = vscode.window.withProgress(
        { location: background ? vscode.ProgressLocation.Window : vscode.ProgressLocation.Notification, title: `Symphony: ${title}`, cancellable: true },
        (progress, token) => {
          const cancelled = token.onCancellationRequested(() => active.abort.abort());
          const step = plan?.length ? 100 / plan.length : 0;
          const onEvent = (e: RunEvent) => {
            if (e.type === 'run-started' || e.type === 'run-resumed') {
              active.runId = e.runId;
              if (background) this.backgroundRuns.add(e.runId);
              if (plan) this.model.plan(e.runId, plan);
              this.activeRunsChanged();
            } else if (e.type === 'node-started' || e.type === 'node-finished') {
              if (e.type === 'node-started') active.running.add(e.nodeId);
              else active.running.delete(e.nodeId);
              progress.report({ message: active.running.size ? `running ${[...active.running].join(', ')}` : undefined, increment: e.type === 'node-finished' ? step : 0 });
              this.updateStatus();
            }
          };
          return start(engine, active.abort.signal, onEvent).finally(() => cancelled.dispose());
        },
      );
      active.done = Promise.resolve(run).catch(() => undefined);
      const result = await run;
      this.model.logsComplete(result.runId);
      this.deps.log.info(`run ${result.runId} of ${result.melody}: ${result.state}${result.error ? ` (${firstLine(result.error)})` : ''}`);
      if (!background || result.state === 'failure') this.announce(result, background);
      return result;
    } finally {
      if (entry) this.release(entry);
    }
  }

  /** A finished top-level run and the sub-melody runs it started are no longer background runs. */
  private forgetBackground(runId: string): void {
    if (!this.backgroundRuns.delete(runId)) return;
    for (const child of this.backgroundRuns) if (this.model.snapshot.get(child)?.parent?.runId === runId) this.forgetBackground(child);
  }

  /**
   * Says how a run ended, with buttons to its row and its log. A triggered run's failure
   * joins its melody's open notification, if one is open, instead of stacking another:
   * the buttons then open the newest failed run.
   */
  private announce(result: RunResult, background = false): void {
    const showRun = 'Show Run';
    const showLog = 'Show Log';
    const took = result.durationMs !== undefined ? ` in ${formatDuration(result.durationMs)}` : '';
    const failedNode = (r: RunResult) => Object.entries(r.nodes).find(([, n]) => n.state === 'failure');
    const act = (r: RunResult) => (choice: string | undefined) => {
      const failed = failedNode(r);
      if (choice === showRun) this.reveal(r.runId);
      if (choice === showLog) {
        void showRunDocument(failed ? { kind: 'node-log', runId: r.runId, nodeId: failed[0] } : { kind: 'run-log', runId: r.runId });
      }
    };
    switch (result.state) {
      case 'success':
        void vscode.window.showInformationMessage(`Symphony: ${result.melody} succeeded${took}.`, showRun, showLog).then(act(result));
        return;
      case 'failure': {
        const failed = failedNode(result);
        const why = failed ? `${failed[0]}: ${firstLine(failed[1].error ?? 'failed')}` : firstLine(result.error ?? 'failed');
        const message = `Symphony: ${result.melody} failed${took} — ${why}`;
        if (!background) {
          void vscode.window.showErrorMessage(message, showRun, showLog).then(act(result));
          return;
        }
        const shown = this.failureToasts.post(result.melody, result, (latest) =>
          vscode.window.showErrorMessage(message, showRun, showLog).then((choice) => act(latest().item)(choice)),
        );
        if (!shown) this.deps.log.info(`run ${result.runId} of ${result.melody} failed too; its notification is still open, and its buttons now open this run`);
        this.announced.fire({ runId: result.runId, melody: result.melody, state: result.state, shown });
        return;
      }
      case 'cancelled':
        void vscode.window.showInformationMessage(`Symphony: ${result.melody} was cancelled.`, showRun, showLog).then(act(result));
        return;
    }
  }

  /** Whether the failure notification of a triggered melody is open (not yet closed by the person). */
  failureNotificationOpen(melody: string): boolean {
    return this.failureToasts.isOpen(melody);
  }

  /** Focuses the Runs view on a run. */
  reveal(runId: string): void {
    this.revealRequested.fire(runId);
  }

  /** Runs this window executes now, as id and title (those past their first event). */
  activeRuns(): { readonly runId: string; readonly title: string }[] {
    return [...this.active].flatMap((a) => (a.runId ? [{ runId: a.runId, title: a.title }] : []));
  }

  /** The top-level run this window executes that `runId` is (or is a sub-melody run of). */
  private activeEntry(runId: string): ActiveRun | undefined {
    const snapshot = this.model.snapshot;
    let id: string | undefined = runId;
    for (let depth = 0; id && depth < 16; depth++) {
      const found = [...this.active].find((a) => a.runId === id);
      if (found) return found;
      id = snapshot.get(id)?.parent?.runId;
    }
    return undefined;
  }

  /** Whether this window executes the run (so Cancel Run can stop it). */
  isActive(runId: string): boolean {
    return this.activeEntry(runId) !== undefined;
  }

  /**
   * Cancels a run of this window (a sub-melody run cancels the run that started it: they
   * share one signal). Resolves false when this window does not execute it.
   */
  cancel(runId: string): boolean {
    const entry = this.activeEntry(runId);
    if (!entry) return false;
    this.deps.log.info(`cancelling run ${entry.runId ?? runId}`);
    entry.abort.abort();
    return true;
  }

  private activeRunsChanged(): void {
    void vscode.commands.executeCommand('setContext', 'symphony.runsActive', this.active.size > 0);
    this.activeChanged.fire(this.active.size);
    this.updateStatus();
  }

  private updateStatus(): void {
    const n = this.active.size;
    if (n === 0) {
      this.status.hide();
      return;
    }
    this.status.text = `$(sync~spin) ${n} ${n === 1 ? 'melody' : 'melodies'} running`;
    // Plain text, not Markdown: the extension host turns a Markdown tooltip into tokens (its
    // Markdown lexer) at every update of the item — when a run is asked for, and at every
    // node start and end — and that was the largest piece of work between a save trigger
    // firing and its run's first journal event.
    const lines = [...this.active].map((a) => `• ${a.title}${a.running.size ? `: ${[...a.running].join(', ')}` : ''}`);
    this.status.tooltip = `Symphony — running now:\n${lines.join('\n')}\n\nClick to show the Runs view.`;
    this.status.show();
  }

  /**
   * Cancels every run of this window and waits, at most `ms`, for them to end: a
   * cancelled run still writes its last events and closes its journal, so a later resume
   * or replay finds a complete record.
   */
  async shutdown(ms: number): Promise<void> {
    const pending = [...this.active];
    if (!pending.length) return;
    for (const a of pending) a.abort.abort();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    await Promise.race([Promise.all(pending.map((a) => a.done)), deadline]);
    clearTimeout(timer);
  }

  dispose(): void {
    for (const a of this.active) a.abort.abort();
    this.status.dispose();
    this.activeChanged.dispose();
    this.revealRequested.dispose();
    this.runEvent.dispose();
    this.announced.dispose();
    this.model.dispose();
  }
}
