/**
 * Pausing a run before nodes start — the Harmony Board's debugger. The engine asks
 * `beforeNode` before every node it is about to run and waits for the answer; nodes
 * already running carry on.
 */
export interface RunDebugger {
  /** Resolves when `nodeId` may start; rejects (or the signal aborts) to stop waiting. */
  beforeNode(nodeId: string, signal: AbortSignal): Promise<void>;
}

/** Where a paused run stands, for a debug console. */
export interface PauseState {
  readonly nodeId: string;
}

/**
 * Breakpoints and stepping: the run pauses before a node with a breakpoint, or before the
 * next node at all while stepping. `continue()` runs on to the next breakpoint; `step()`
 * lets one node start and pauses before the one after. Nodes that become ready while the
 * run is paused queue up and are released one by one, in order.
 */
export class Breakpoints implements RunDebugger {
  private readonly points: Set<string>;
  private stepping: boolean;
  private waiting: { nodeId: string; release: () => void }[] = [];

  constructor(
    breakpoints: Iterable<string> = [],
    options: { readonly stepping?: boolean; readonly onPause?: (pause: PauseState) => void; readonly onResume?: () => void } = {},
  ) {
    this.points = new Set(breakpoints);
    this.stepping = options.stepping ?? false;
    this.onPause = options.onPause;
    this.onResume = options.onResume;
  }

  private readonly onPause?: (pause: PauseState) => void;
  private readonly onResume?: () => void;

  /** The node the run is paused before, if any. */
  get paused(): string | undefined {
    return this.waiting[0]?.nodeId;
  }

  get breakpoints(): ReadonlySet<string> {
    return this.points;
  }

  toggle(nodeId: string, on = !this.points.has(nodeId)): void {
    if (on) this.points.add(nodeId);
    else this.points.delete(nodeId);
  }

  beforeNode(nodeId: string, signal: AbortSignal): Promise<void> {
    if (!this.stepping && !this.points.has(nodeId) && this.waiting.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const entry = {
        nodeId,
        release: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.waiting = this.waiting.filter((w) => w !== entry);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
      if (this.waiting.length === 1) this.onPause?.({ nodeId });
    });
  }

  /** Lets the paused node start and pauses again before the next one. */
  step(): void {
    this.stepping = true;
    this.releaseHead();
    if (this.waiting[0]) this.onPause?.({ nodeId: this.waiting[0].nodeId });
  }

  /** Lets the paused node start and runs on until the next breakpoint. */
  continue(): void {
    this.stepping = false;
    this.releaseHead();
    // Nodes that queued up while paused go too, unless one of them has a breakpoint.
    while (this.waiting[0]) {
      if (this.points.has(this.waiting[0].nodeId)) {
        this.onPause?.({ nodeId: this.waiting[0].nodeId });
        return;
      }
      this.releaseHead();
    }
  }

  private releaseHead(): void {
    const head = this.waiting.shift();
    if (!head) return;
    this.onResume?.();
    head.release();
  }
}
