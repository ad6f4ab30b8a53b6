/** One waiter for a slot. */
interface Waiter {
  readonly wake: () => void;
  readonly reject: (reason: unknown) => void;
  readonly signal?: AbortSignal;
}

/** A counting semaphore: at most `limit` holders at once, waiters served in order. */
export class Semaphore {
  private active = 0;
  private waiting: Waiter[] = [];
  /**
   * Signals this semaphore listens to: one listener per signal drops all of its waiters —
   * not one added and removed per waiter (a run's nodes all wait on the run's signal).
   */
  private readonly watched = new WeakSet<AbortSignal>();

  constructor(private limit: number) {
    if (!(limit >= 1)) throw new Error(`a semaphore needs a limit of at least 1, not ${limit}`);
  }

  get inUse(): number {
    return this.active;
  }

  /**
   * A free slot now, or undefined. A slot is free only while nobody waits (a released slot
   * goes straight to the first waiter), so this never jumps the queue.
   */
  tryAcquire(): (() => void) | undefined {
    return this.active < this.limit ? this.grant() : undefined;
  }

  private grant(): () => void {
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.waiting.shift()?.wake();
    };
  }

  /** Waits for a slot; rejects if `signal` aborts first. Returns the release function. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.active < this.limit) return Promise.resolve(this.grant());
    return new Promise((resolve, reject) => {
      this.waiting.push({ wake: () => resolve(this.grant()), reject, signal });
      if (signal && !this.watched.has(signal)) {
        this.watched.add(signal);
        signal.addEventListener(
          'abort',
          () => {
            const dropped = this.waiting.filter((w) => w.signal === signal);
            this.waiting = this.waiting.filter((w) => w.signal !== signal);
            for (const w of dropped) w.reject(signal.reason);
          },
          { once: true },
        );
      }
    });
  }
}
