import type { HostMessage } from '../../protocol/board';

/** Messages that replace the last of their type: only the newest waits in the queue. */
const REPLACING: ReadonlySet<HostMessage['type']> = new Set(['document', 'init', 'run-state', 'run-controls', 'pins']);

/**
 * The host's end of the board's message channel. Messages wait until the webview says it
 * is ready (its listener is installed), so nothing is lost while the page loads; of the
 * queued documents (and the other messages that replace their predecessor) only the newest
 * is kept. A run's state holds its events, so run events queued before it go too.
 */
export class BoardChannel {
  private isReady = false;
  private queue: HostMessage[] = [];
  private readonly listeners = new Set<(m: HostMessage) => void>();

  constructor(private readonly post: (message: HostMessage) => PromiseLike<boolean>) {}

  /** Sends now, or as soon as the board is ready. */
  send(message: HostMessage): void {
    for (const l of this.listeners) l(message);
    if (this.isReady) {
      void this.post(message);
      return;
    }
    if (REPLACING.has(message.type)) {
      this.queue = this.queue.filter((m) => m.type !== message.type && !(message.type === 'run-state' && m.type === 'run-events'));
    }
    this.queue.push(message);
  }

  /** The board is (again) listening: flush what waited. */
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
