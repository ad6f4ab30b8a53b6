import type { HostMessage } from '../../protocol/board';

/**
 * The board's state: what the session gives a board whole each time it says ready (its
 * first load and every reload). Sent before that, it need not wait — the answer to `ready`
 * carries its newest form (run events are inside the run state).
 */
const STATE: ReadonlySet<HostMessage['type']> = new Set(['init', 'document', 'run-state', 'run-events', 'run-controls', 'pins']);

/**
 * The host's end of the board's message channel. Messages other than the board's state
 * wait until the webview says it is ready (its listener is installed), so nothing is lost
 * while the page loads; the state is not queued, since the session answers `ready` with
 * all of it. A board that opens thus gets each part of its state once, not a queued copy
 * and then the answer's.
 */
export class BoardChannel {
  private isReady = false;
  private queue: HostMessage[] = [];
  private readonly listeners = new Set<(m: HostMessage) => void>();

  constructor(private readonly post: (message: HostMessage) => PromiseLike<boolean>) {}

  /** Sends now; before the board is ready, the board's state is dropped and the rest waits. */
  send(message: HostMessage): void {
    for (const l of this.listeners) l(message);
    if (this.isReady) {
      void this.post(message);
      return;
    }
    if (!STATE.has(message.type)) this.queue.push(message);
  }

  /** The board is (again) listening: flush what waited. The caller then sends the state. */
  ready(): void {
    this.isReady = true;
    const waiting = this.queue;
    this.queue = [];
    for (const m of waiting) void this.post(m);
  }

  get readyNow(): boolean {
    return this.isReady;
  }

  /** Calls `listener` with every message sent (tests watch the conversation this way). */
  watch(listener: (m: HostMessage) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }
}
