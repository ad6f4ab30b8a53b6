/**
 * What the run controls ask for: each is an intent to the extension, which owns runs,
 * pins and breakpoints (they outlive the webview), and answers with new state.
 */
import type { RunEvent } from '../../../src/core/model/run';
import { perform } from '../actions';
import { saveViewState } from '../host';
import { getState, setStatus, update } from '../store';
import type { IntentResult } from '../host';

/** Runs the melody — a preview with the pins when the Preview toggle is on. */
export async function startRun(inputs?: Readonly<Record<string, string>>): Promise<IntentResult> {
  const s = getState();
  update({ starting: true });
  // A run meant to stop at a breakpoint should show where it stopped.
  if (s.controls.breakpoints.length) showConsole(true);
  try {
    return await perform({ kind: 'run', inputs, preview: s.preview });
  } finally {
    update({ starting: false });
  }
}

/** Cancels the run executing now. */
export function cancelRun(): void {
  void perform({ kind: 'cancel-run' });
}

/** Continues or steps the paused run. */
export function debugRun(action: 'continue' | 'step'): void {
  void perform({ kind: 'debug', action });
}

/** Toggles breakpoints on nodes: all on, unless they all have one already. */
export function toggleBreakpoints(nodes: readonly string[]): void {
  if (!nodes.length) {
    setStatus('Select a node to set a breakpoint on it (F9)', 'error');
    return;
  }
  const set = new Set(getState().controls.breakpoints);
  const allOn = nodes.every((id) => set.has(id));
  for (const id of nodes) {
    if (allOn) set.delete(id);
    else set.add(id);
  }
  void perform({ kind: 'set-breakpoints', nodes: [...set] });
}

/** Removes every breakpoint. */
export function clearBreakpoints(): void {
  void perform({ kind: 'set-breakpoints', nodes: [] });
}

/** Turns preview (run with pinned outputs) on or off. */
export function setPreview(on: boolean): void {
  update({ preview: on });
  saveViewState({ preview: on });
  setStatus(on ? 'Preview on: pinned nodes do not run, they give their pinned output' : 'Preview off: every node runs');
}

/** Opens or closes the debug console. */
export function showConsole(open: boolean): void {
  if (getState().console === open) return;
  update({ console: open });
  saveViewState({ console: open });
}

/** Pins an output typed in the inspector (JSON), or the node's output from a run. */
export function pinOutput(node: string, pin: { source: 'typed'; output: unknown } | { source: 'run'; runId: string }): Promise<IntentResult> {
  return perform({ kind: 'pin-output', node, pin });
}

/** Unpins a node: it runs again in previews. */
export function unpin(node: string): void {
  void perform({ kind: 'pin-output', node });
}

/** Opens a node's output or log of a run beside the board. */
export function openRunDocument(runId: string, node: string, document: 'output' | 'log'): void {
  void perform({ kind: 'open-run-document', runId, node, document });
}

/**
 * What a batch of events means for someone not looking at the canvas: the run's start and
 * end are said in the status line (and so to screen readers).
 */
export function announce(events: readonly RunEvent[]): void {
  for (const e of events) {
    if (e.type === 'run-started' && !e.parent) setStatus(`Run ${e.runId} of ${e.melody} started`);
    if (e.type === 'run-finished') setStatus(`Run ${e.runId} ${e.status === 'success' ? 'succeeded' : e.status === 'failure' ? `failed${e.error ? `: ${e.error.split('\n')[0]}` : ''}` : 'was cancelled'}`, e.status === 'failure' ? 'error' : 'info');
  }
}
