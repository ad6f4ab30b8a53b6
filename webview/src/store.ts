/**
 * The board's state: what the extension last sent (catalog, document, the run of the
 * melody, pins and debug controls), what the user has selected, and the last status
 * message. A tiny external store read with `useSyncExternalStore`, so every panel sees
 * the same snapshot.
 */
import { useSyncExternalStore } from 'react';
import type { BoardCatalog, BoardDocument, BoardNode } from '../../src/protocol/boardModel';
import { NO_CONTROLS, NO_RUN, type Pins, type RunControls, type RunView } from '../../src/protocol/boardRun';
import { loadViewState } from './host';

/** A line for the status bar (and screen readers, through its live region). */
export interface Status {
  readonly text: string;
  readonly tone: 'info' | 'error';
  /** Increases with every message, so the same text twice is announced twice. */
  readonly seq: number;
}

/** Everything the panels render from. */
export interface BoardState {
  readonly catalog?: BoardCatalog;
  readonly document?: BoardDocument;
  /** Selected node ids, in the canvas's order. */
  readonly selection: readonly string[];
  readonly status?: Status;
  /** A request to select and center a node (from the extension, the outline, a diagnostic). */
  readonly focus?: { readonly node: string; readonly seq: number };
  /** The latest run of the melody and its events (the overlay and the debug console). */
  readonly run: RunView;
  /** Breakpoints, the run executing now, and where it is paused. */
  readonly controls: RunControls;
  /** Outputs pinned for preview runs. */
  readonly pins: Pins;
  /** Whether Run uses the pins (a preview); remembered across reloads. */
  readonly preview: boolean;
  /** Whether the debug console is open; remembered across reloads. */
  readonly console: boolean;
  /** A run intent is on its way (Run stays disabled until it is answered). */
  readonly starting: boolean;
  /** The minimap is shown: this panel's choice, else the workspace's (from `init`). */
  readonly minimap: boolean;
}

const view = loadViewState();
let state: BoardState = {
  selection: [],
  run: NO_RUN,
  controls: NO_CONTROLS,
  pins: {},
  preview: view.preview ?? true,
  console: view.console ?? false,
  starting: false,
  minimap: view.minimap ?? true,
};
const subscribers = new Set<() => void>();
let seq = 0;

/** The current state, outside React. */
export function getState(): BoardState {
  return state;
}

/** Changes part of the state and re-renders whoever reads it. */
export function update(patch: Partial<BoardState>): void {
  state = { ...state, ...patch };
  for (const s of subscribers) s();
}

/** The current state, re-rendering the component when it changes. */
export function useBoard(): BoardState {
  return useSyncExternalStore(
    (cb) => {
      subscribers.add(cb);
      return () => subscribers.delete(cb);
    },
    () => state,
  );
}

/** Says something in the status line (and to screen readers). */
export function setStatus(text: string, tone: Status['tone'] = 'info'): void {
  update({ status: { text, tone, seq: ++seq } });
}

/** Selects a node and asks the canvas to bring it into view. */
export function focusNode(node: string): void {
  update({ focus: { node, seq: ++seq }, selection: [node] });
}

/** The selected node when exactly one is selected. */
export function selectedNode(s: Pick<BoardState, 'document' | 'selection'>): BoardNode | undefined {
  if (s.selection.length !== 1) return undefined;
  return s.document?.melody?.nodes.find((n) => n.id === s.selection[0]);
}
