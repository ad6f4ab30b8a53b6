/**
 * The Harmony Board's run overlay, preview pins and debug controls as data: what the
 * extension sends about runs of the board's melody (see `board.ts`), and the one fold of
 * the engine's events that both sides use — the extension to answer a reloaded webview,
 * the webview to draw live status on its cards. Plain JSON and pure functions: no
 * `vscode`, no DOM.
 */
import { RunRecordBuilder, type NodeRecord, type NodeState, type RunEvent, type RunRecord } from '../core/model/run';
import { eventClock, eventLines, formatCost, formatDuration, formatTokens, nodeFacts } from './runText';
import { own } from '../core/model/names';

/** Events the debug console keeps per run; older ones are dropped (and counted). */
export const CONSOLE_LIMIT = 2000;

/** A node's output pinned for preview runs: the node does not run, it finishes with this. */
export interface PinnedOutput {
  readonly output: unknown;
  /** The run it was taken from; absent when typed in by hand. */
  readonly fromRun?: string;
}

/** Pinned outputs by node id. */
export type Pins = Readonly<Record<string, PinnedOutput>>;

/** The run of the board's melody this window executes now. */
export interface ActiveRun {
  readonly runId: string;
  /** Started from a board: it has a debugger, so Continue and Step apply to it. */
  readonly debuggable: boolean;
  /** Nodes that finish with their pinned output instead of running (a preview run). */
  readonly pinned: readonly string[];
}

/** What the toolbar and the debug console enable: breakpoints, the active run, a pause. */
export interface RunControls {
  /** Nodes to pause before, in the order they were set. */
  readonly breakpoints: readonly string[];
  /** Absent when no run of this melody executes in this window (nothing to cancel). */
  readonly active?: ActiveRun;
  /** The node the active run is paused before. */
  readonly paused?: string;
}

/** No run, no breakpoints. */
export const NO_CONTROLS: RunControls = { breakpoints: [] };

/** The run the board shows — the latest of its melody — and its event stream. */
export interface RunView {
  readonly run?: RunRecord;
  /** The run's events, oldest first: the last {@link CONSOLE_LIMIT} of them. */
  readonly events: readonly RunEvent[];
  /** How many earlier events were dropped to keep within the limit. */
  readonly dropped: number;
}

/** Nothing run yet. */
export const NO_RUN: RunView = { events: [], dropped: 0 };

/**
 * A view of `run` with the given events (the last {@link CONSOLE_LIMIT} of them);
 * `dropped` counts events already left out before these.
 */
export function runView(run: RunRecord | undefined, events: readonly RunEvent[], dropped = 0): RunView {
  const over = Math.max(0, events.length - CONSOLE_LIMIT);
  return { run, events: over ? events.slice(over) : events, dropped: dropped + over };
}

/**
 * Folds a batch of events into the view. A top-level `run-started` begins a new run (the
 * board follows the latest run of its melody); events of any other run are ignored, and
 * so is everything before the first `run-started`. Node records that an event does not
 * touch keep their identity, so the canvas redraws only the cards that changed.
 */
export function foldRunEvents(view: RunView, events: readonly RunEvent[]): RunView {
  let run = view.run;
  let kept = view.events;
  let dropped = view.dropped;
  let builder: RunRecordBuilder | undefined;
  let added: RunEvent[] = [];
  for (const e of events) {
    if (e.type === 'run-started' && !e.parent) {
      builder = new RunRecordBuilder();
      builder.apply(e);
      run = builder.record;
      kept = [];
      dropped = 0;
      added = [e];
      continue;
    }
    if (!run || e.runId !== run.runId) continue;
    builder ??= new RunRecordBuilder(run);
    builder.apply(e);
    run = builder.record;
    added.push(e);
  }
  if (!added.length) return view;
  const all = kept.length ? [...kept, ...added] : added;
  const over = Math.max(0, all.length - CONSOLE_LIMIT);
  return { run, events: over ? all.slice(over) : all, dropped: dropped + over };
}

/**
 * A node's state on the board: its record's, or `pending` while the run is going and the
 * node is part of its graph but has not started. Undefined when there is nothing to show.
 */
export function nodeState(run: RunRecord | undefined, nodeId: string, inGraph: boolean): NodeState | undefined {
  const node = own(run?.nodes, nodeId);
  if (node) return node.state;
  return run?.state === 'running' && inGraph ? 'pending' : undefined;
}

/** Whether a node finished with an output given for it instead of running. */
export function wasPinned(node: NodeRecord | undefined): boolean {
  return node?.attempts === 0 && node.state === 'success' && (node.reason?.startsWith('pinned') ?? false);
}

/** The line under a node's card: duration, attempts, tokens and cost — or why it was skipped. */
export function nodeRunLine(node: NodeRecord): string {
  if (wasPinned(node)) return 'pinned output';
  const facts = nodeFacts(node);
  if (!facts.length && node.reason && node.state !== 'success') return node.reason;
  return facts.join(' · ');
}

/** What a screen reader hears about a node's last run, e.g. `last run: success, 1.2s, 2 attempts`. */
export function nodeRunWords(state: NodeState, node: NodeRecord | undefined): string {
  const facts = node ? (wasPinned(node) ? ['pinned output'] : nodeFacts(node)) : [];
  return [`last run: ${state}`, ...facts].join(', ');
}

/**
 * A run in one line for the toolbar: its state, how far it got or how long it took, its
 * tokens and cost. `planned` is how many nodes the run's graph has (for "2 of 5 done").
 */
export function runSummary(run: RunRecord, planned: number): string {
  const nodes = Object.values(run.nodes);
  const usage = [formatTokens(run.tokens), formatCost(run.costUsd)].filter((x): x is string => x !== undefined);
  if (run.state === 'running') {
    const done = nodes.filter((n) => n.state !== 'running' && n.state !== 'pending').length;
    return [`running · ${done} of ${Math.max(planned, nodes.length)} done`, ...usage].join(' · ');
  }
  const failed = nodes.filter((n) => n.state === 'failure').length;
  const took = run.durationMs !== undefined ? ` in ${formatDuration(run.durationMs)}` : '';
  return [`${run.state}${took}`, ...(failed ? [`${failed} failed`] : []), ...usage].join(' · ');
}

/**
 * How an edge looks during and after a run: `done` from a node that succeeded (lit),
 * `failed` from one that failed, `flowing` into a node running now; undefined otherwise.
 */
export function edgeRunState(run: RunRecord | undefined, from: string, to: string): 'done' | 'failed' | 'flowing' | undefined {
  const source = own(run?.nodes, from)?.state;
  if (source === 'success') return own(run?.nodes, to)?.state === 'running' ? 'flowing' : 'done';
  return source === 'failure' ? 'failed' : undefined;
}

/** One line of the debug console. */
export interface ConsoleLine {
  /** Stable across renders: the event's position in the run, and the line's within it. */
  readonly key: string;
  readonly clock: string;
  readonly text: string;
  readonly nodeId?: string;
  /** `log` for a node's output lines, `error` for failures, retries and fallbacks, `success` for a node or run that succeeded. */
  readonly tone: 'event' | 'log' | 'error' | 'success';
}

/** What the console shows: text to look for (in the line or its node id), and whether log lines show. */
export interface ConsoleFilter {
  readonly text: string;
  readonly logs: boolean;
}

function toneOf(e: RunEvent): ConsoleLine['tone'] {
  switch (e.type) {
    case 'node-log':
      return 'log';
    case 'node-retried':
    case 'node-fallback':
      return 'error';
    case 'node-finished':
    case 'run-finished':
      return e.status === 'failure' ? 'error' : e.status === 'success' ? 'success' : 'event';
    default:
      return 'event';
  }
}

/** The console's lines for a view, filtered; `limit` keeps the newest (rendering stays cheap). */
export function consoleLines(view: RunView, filter: ConsoleFilter, limit = 500): ConsoleLine[] {
  const needle = filter.text.trim().toLowerCase();
  const out: ConsoleLine[] = [];
  // Newest first while collecting, so the limit costs only what is shown.
  for (let i = view.events.length - 1; i >= 0 && out.length < limit; i--) {
    const e = view.events[i]!;
    if (e.type === 'node-log' && !filter.logs) continue;
    const nodeId = 'nodeId' in e ? e.nodeId : undefined;
    const lines = eventLines(e);
    for (let j = lines.length - 1; j >= 0 && out.length < limit; j--) {
      const text = lines[j]!;
      if (needle && !text.toLowerCase().includes(needle) && !nodeId?.toLowerCase().includes(needle)) continue;
      out.push({ key: `${view.dropped + i}.${j}`, clock: eventClock(e), text, nodeId, tone: toneOf(e) });
    }
  }
  return out.reverse();
}
