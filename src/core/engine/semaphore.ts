/** A counting semaphore: at most `limit` holders at once, waiters served in order. */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

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
      this.waiting.shift()?.();
    };
  }

  /** Waits for a slot; rejects if `signal` aborts first. Returns the release function. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const grant = () => this.grant();
    if (this.active < this.limit) return Promise.resolve(grant());
    return new Promise((resolve, reject) => {
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(grant());
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(wake);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal!.reason);
      };
      this.waiting.push(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
