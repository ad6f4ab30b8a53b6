/**
 * The run side of one melody on the Harmony Board: which run the board follows, the pins
 * of preview mode, the breakpoints, and the debugger of a run started from the board.
 * Plain state with a change callback and no `vscode`, so it is tested against a real
 * engine; `src/extension/board/runs.ts` persists it and wires it to the run controller.
 */
import { Breakpoints } from '../engine/debugger';
import type { RunEvent, RunRecord } from '../model/run';
import { NO_RUN, foldRunEvents, runView, type PinnedOutput, type Pins, type RunControls, type RunView } from '../../protocol/boardRun';
import { setOwn } from '../model/names';

/** What the board keeps of a melody between sessions: pins and breakpoints. */
export interface BoardRunSettings {
  readonly pins: Pins;
  readonly breakpoints: readonly string[];
}

/** No pins, no breakpoints. */
export const NO_SETTINGS: BoardRunSettings = { pins: {}, breakpoints: [] };

/** The most JSON a pinned output may take: it is kept in the workspace state. */
export const PIN_LIMIT_BYTES = 1024 * 1024;

/**
 * What changed, for the boards to send: the pins or breakpoints (`settings`), the
 * pause or the active run (`controls`), new events of the followed run (`events`), or a
 * whole new run to show (`view`).
 */
export type DeskChange =
  | { readonly kind: 'settings' }
  | { readonly kind: 'controls' }
  | { readonly kind: 'events'; readonly events: readonly RunEvent[] }
  | { readonly kind: 'view' };

/** What a run started from the board is given: its pins and its debugger. */
export interface BoardRunSetup {
  /** Present only for a preview with pins on nodes of the melody. */
  readonly pinned?: Readonly<Record<string, unknown>>;
  readonly debug: Breakpoints;
}

/** The debugger of the run started from the board, bound to its id at `run-started`. */
interface BoardRun {
  runId?: string;
  readonly debug: Breakpoints;
  readonly pinned: readonly string[];
}

/** Why an action cannot be done now, in words for the board's status line. */
export class DeskRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeskRefusal';
  }
}

/** The run desk of one melody: see the file comment. */
export class RunDesk {
  private settings: BoardRunSettings;
  private shown: RunView = NO_RUN;
  private board: BoardRun | undefined;

  constructor(
    settings: BoardRunSettings,
    private readonly changed: (change: DeskChange) => void,
  ) {
    this.settings = settings;
  }

  /** Pins and breakpoints, as persisted. */
  get saved(): BoardRunSettings {
    return this.settings;
  }

  /** The run the board shows and its events. */
  get view(): RunView {
    return this.shown;
  }

  /** The id of the run started from the board, once it has one and until it ends. */
  get boardRunId(): string | undefined {
    return this.board?.runId;
  }

  // ── Pins and breakpoints ─────────────────────────────────────────────────

  /** Replaces the breakpoints; a run started from the board pauses at the new set. */
  setBreakpoints(nodes: readonly string[]): void {
    const next = [...new Set(nodes)];
    const debug = this.board?.debug;
    if (debug) {
      for (const id of this.settings.breakpoints) if (!next.includes(id)) debug.toggle(id, false);
      for (const id of next) debug.toggle(id, true);
    }
    this.settings = { ...this.settings, breakpoints: next };
    this.changed({ kind: 'settings' });
    this.changed({ kind: 'controls' });
  }

  /** Pins an output to a node, or unpins it. Refuses an output too large to keep. */
  pin(nodeId: string, pin: PinnedOutput | undefined): void {
    if (pin) {
      const bytes = new TextEncoder().encode(JSON.stringify(pin.output ?? null)).length;
      if (bytes > PIN_LIMIT_BYTES) {
        throw new DeskRefusal(`the output of ${nodeId} is ${Math.round(bytes / 1024)} KiB; pins hold at most ${PIN_LIMIT_BYTES / 1024} KiB`);
      }
    }
    const pins = { ...this.settings.pins };
    if (pin) setOwn(pins, nodeId, pin);
    else delete pins[nodeId];
    this.settings = { ...this.settings, pins };
    this.changed({ kind: 'settings' });
  }

  /** A node was renamed on the board: its pin and breakpoint follow it. */
  rename(from: string, to: string): void {
    if (!Object.hasOwn(this.settings.pins, from) && !this.settings.breakpoints.includes(from)) return;
    const pins: Record<string, PinnedOutput> = {};
    for (const [id, pin] of Object.entries(this.settings.pins)) setOwn(pins, id === from ? to : id, pin);
    this.settings = { ...this.settings, pins };
    this.setBreakpoints(this.settings.breakpoints.map((id) => (id === from ? to : id)));
  }

  /** Nodes were deleted: their pins and breakpoints go too (a new node of the same name starts clean). */
  forget(nodeIds: readonly string[]): void {
    const gone = new Set(nodeIds);
    if (!Object.keys(this.settings.pins).some((id) => gone.has(id)) && !this.settings.breakpoints.some((id) => gone.has(id))) return;
    this.settings = { ...this.settings, pins: Object.fromEntries(Object.entries(this.settings.pins).filter(([id]) => !gone.has(id))) };
    this.setBreakpoints(this.settings.breakpoints.filter((id) => !gone.has(id)));
  }

  // ── Runs ─────────────────────────────────────────────────────────────────

  /**
   * Sets up a run from the board: a debugger holding the breakpoints (always, so ones set
   * during the run apply), and — for a preview — the pins of nodes the melody has.
   */
  begin(nodeIds: readonly string[], preview: boolean): BoardRunSetup {
    if (this.board) throw new DeskRefusal(`a run started from the board is still going${this.board.runId ? ` (${this.board.runId})` : ''}: cancel it first`);
    const pinnedIds = preview ? nodeIds.filter((id) => Object.hasOwn(this.settings.pins, id)) : [];
    const debug = new Breakpoints(this.settings.breakpoints, {
      onPause: () => this.changed({ kind: 'controls' }),
      onResume: () => this.changed({ kind: 'controls' }),
    });
    this.board = { debug, pinned: pinnedIds };
    const pinned = pinnedIds.length ? Object.fromEntries(pinnedIds.map((id) => [id, this.settings.pins[id]!.output])) : undefined;
    return { pinned, debug };
  }

  /** The run from the board has its id (its first event). */
  started(runId: string): void {
    if (this.board && !this.board.runId) {
      this.board.runId = runId;
      this.changed({ kind: 'controls' });
    }
  }

  /** The run from the board is over (ended, or never started): a new one may begin. */
  ended(): void {
    if (!this.board) return;
    this.board = undefined;
    this.changed({ kind: 'controls' });
  }

  /**
   * An event of any run in this window. `ofThisMelody` says whether a `run-started` is of
   * this desk's melody file: the desk then follows that run, whoever started it.
   */
  apply(event: RunEvent, ofThisMelody: boolean): void {
    const starts = event.type === 'run-started' && !event.parent;
    if (starts ? !ofThisMelody : event.runId !== this.shown.run?.runId) return;
    this.shown = foldRunEvents(this.shown, [event]);
    this.changed(starts ? { kind: 'view' } : { kind: 'events', events: [event] });
    // The run's state decides whether there is something to cancel.
    if (starts || event.type === 'run-finished') this.changed({ kind: 'controls' });
  }

  /**
   * Shows a stored run (of the CLI, another window, or from before this board opened). The
   * caller decides that it is newer than the run shown: only it knows which runs are live.
   */
  showStored(run: RunRecord, events: readonly RunEvent[]): void {
    this.shown = runView(run, events);
    this.changed({ kind: 'view' });
  }

  /**
   * Nobody can press Continue any more (the last board of the melody closed): the run from
   * the board goes on without pausing. The saved breakpoints stay for the next run.
   */
  release(): void {
    const debug = this.board?.debug;
    if (!debug) return;
    for (const id of [...debug.breakpoints]) debug.toggle(id, false);
    if (debug.paused) debug.continue();
  }

  /** Continues or steps the paused run from the board. */
  debug(action: 'continue' | 'step'): string {
    const debug = this.board?.debug;
    const paused = debug?.paused;
    if (!debug || !paused) throw new DeskRefusal('no run from the board is paused');
    if (action === 'step') debug.step();
    else debug.continue();
    return action === 'step' ? `Stepped: ${paused} starts` : `Continued from ${paused}`;
  }

  /**
   * The controls to show. `executing(runId)` says whether this window still executes a run
   * (only then can it be cancelled).
   */
  controls(executing: (runId: string) => boolean): RunControls {
    const run = this.shown.run;
    const breakpoints = this.settings.breakpoints;
    if (!run || run.state !== 'running' || !executing(run.runId)) return { breakpoints };
    const fromBoard = this.board?.runId === run.runId ? this.board : undefined;
    return {
      breakpoints,
      active: { runId: run.runId, debuggable: fromBoard !== undefined, pinned: fromBoard?.pinned ?? [] },
      paused: fromBoard?.debug.paused,
    };
  }
}
