/**
 * The messages the extension sends the Harmony Board, and the board's guard for them. Kept
 * apart from board.ts (the webview's intents, checked by zod in the extension) and free of
 * zod: the webview imports only this, so its bundle carries no schema library (189 kB of
 * board.js, built into schemas at every open, that the board never used).
 */
import type { RunEvent, RunRecord } from '../core/model/run';
import type { BoardCatalog, BoardDocument } from './boardModel';
import type { Pins, RunControls } from './boardRun';

/** How boards look in this workspace, as the user last chose. */
export interface BoardView {
  /** The minimap in the canvas's corner (shown unless the user hid it). */
  readonly minimap: boolean;
}

/** Messages from the extension to the board. */
export type HostMessage =
  /** What the workspace offers and how its boards look; first after `ready`, again when ensembles change. */
  | { readonly type: 'init'; readonly catalog: BoardCatalog; readonly view: BoardView }
  /** The document as it now is. */
  | { readonly type: 'document'; readonly document: BoardDocument }
  /** The outcome of intent `id`; `select` names nodes to select (a new or renamed node). */
  | { readonly type: 'result'; readonly id: number; readonly ok: boolean; readonly message: string; readonly select?: readonly string[] }
  /**
   * The latest run of this melody (or none) and its events — the last `CONSOLE_LIMIT`,
   * `dropped` counting those left out. Replaces whatever run the board showed.
   */
  | { readonly type: 'run-state'; readonly run: RunRecord | null; readonly events: readonly RunEvent[]; readonly dropped: number }
  /** Events of the followed run, in order, gathered for a moment so a chatty run does not flood the board. */
  | { readonly type: 'run-events'; readonly events: readonly RunEvent[] }
  /** Breakpoints, the run executing now and where it is paused. */
  | { readonly type: 'run-controls'; readonly controls: RunControls }
  /** The outputs pinned for preview runs of this melody. */
  | { readonly type: 'pins'; readonly pins: Pins };

/** The name of a host message (`init`, `document`…). */
export type HostMessageType = HostMessage['type'];

/** The fields each host message must carry, for the webview's guard. */
const HOST_FIELDS: { readonly [T in HostMessageType]: readonly string[] } = {
  init: ['catalog', 'view'],
  document: ['document'],
  result: ['id', 'ok', 'message'],
  'run-state': ['run', 'events', 'dropped'],
  'run-events': ['events'],
  'run-controls': ['controls'],
  pins: ['pins'],
};

/** Whether `raw` is a message the extension sends (the webview ignores anything else). */
export function isHostMessage(raw: unknown): raw is HostMessage {
  if (typeof raw !== 'object' || raw === null) return false;
  const type = (raw as { type?: unknown }).type;
  if (typeof type !== 'string' || !Object.hasOwn(HOST_FIELDS, type)) return false;
  return HOST_FIELDS[type as HostMessageType].every((f) => Object.hasOwn(raw, f));
}

