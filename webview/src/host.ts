/**
 * The board's end of the message channel (see `src/protocol/board.ts`). Everything the
 * webview says to the extension goes through `send`, typed as a `BoardMessage`; what
 * arrives is checked with `isHostMessage` before anyone sees it.
 */
import type { BoardIntent, BoardMessage } from '../../src/protocol/board';
import { isHostMessage, type BoardView, type HostMessage } from '../../src/protocol/boardHost';
import type { CachedLayout } from './canvas/layoutCache';

interface VsCodeApi {
  postMessage(message: BoardMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

/** What the webview remembers across reloads (the panel hidden and shown again). */
export interface ViewState {
  readonly viewport?: { x: number; y: number; zoom: number };
  /** Side panels the user showed or hid (undefined: by the editor's width). */
  readonly showLeft?: boolean;
  readonly showRight?: boolean;
  /** Run with the pinned outputs (preview) or without. */
  readonly preview?: boolean;
  /** The debug console under the canvas is open. */
  readonly console?: boolean;
  /** The minimap is shown (undefined: as the workspace's boards show it). */
  readonly minimap?: boolean;
  /** The last ELK layout and the graph's shape it is for (canvas/layoutCache.ts). */
  readonly layout?: CachedLayout;
}

/** The outcome of an intent, as the extension reported it. */
export interface IntentResult {
  readonly ok: boolean;
  readonly message: string;
  readonly select?: readonly string[];
}

const api = acquireVsCodeApi();
const listeners = new Set<(m: HostMessage) => void>();
const pending = new Map<number, (r: IntentResult) => void>();
let nextId = 1;

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const message = event.data;
  if (!isHostMessage(message)) return;
  if (message.type === 'result') {
    pending.get(message.id)?.({ ok: message.ok, message: message.message, select: message.select });
    pending.delete(message.id);
  }
  for (const l of listeners) l(message);
});

/** Listens to the extension's messages; returns the unsubscribe function. */
export function onHostMessage(listener: (m: HostMessage) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Tells the extension the board is listening (it then sends `init` and `document`). */
export function sendReady(): void {
  api.postMessage({ type: 'ready' });
}

/** Asks the extension to do something; resolves with its answer. */
export function request(intent: BoardIntent): Promise<IntentResult> {
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    api.postMessage({ type: 'intent', id, intent });
  });
}

/** Tells the extension how the user wants boards to look, for the workspace's next boards. */
export function sendView(view: BoardView): void {
  api.postMessage({ type: 'view', view });
}

/** Reports a problem inside the webview to the Symphony log. */
export function log(level: 'info' | 'warn' | 'error', message: string): void {
  api.postMessage({ type: 'log', level, message: message.slice(0, 20_000) });
}

/** What this panel remembered before it was hidden (nothing on a first open). */
export function loadViewState(): ViewState {
  const s = api.getState();
  return typeof s === 'object' && s !== null ? (s as ViewState) : {};
}

/** Remembers part of the view across reloads of the panel. */
export function saveViewState(patch: Partial<ViewState>): void {
  api.setState({ ...loadViewState(), ...patch });
}
