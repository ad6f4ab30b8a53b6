interface Pending<T, R> {
  readonly item: T;
  readonly resolve: (result: R) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * Group commit: items pushed while a flush is in flight go out together in the next one —
 * one write and one disk flush per batch instead of per item — and in the order pushed.
 * `push` resolves once its item's batch is flushed — with what `flush` returned for that
 * item, if anything — and rejects with the batch's error.
 */
export class GroupCommit<T, R = void> {
  private queue: Pending<T, R>[] = [];
  private draining: Promise<void> | undefined;

  constructor(
    private readonly flush: (items: readonly T[]) => Promise<readonly R[] | void>,
    /**
     * How long the first item of an idle queue waits for company: `microtask` — items pushed
     * in the same tick (a burst of log lines); `turn` — everything pushed until the event
     * loop turns (the ends of timers that fired together, and what they led to), for a
     * queue whose flushes are costly and whose latency nobody waits on item by item.
     */
    private readonly gather: 'microtask' | 'turn' = 'microtask',
  ) {}

  push(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  /** Resolves when everything pushed so far has been flushed (or has failed). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      // Let items pushed in the same tick (or turn) join the first batch.
      if (this.gather === 'turn') await new Promise<void>((resolve) => setImmediate(resolve));
      else await Promise.resolve();
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          const results = await this.flush(batch.map((p) => p.item));
          batch.forEach((p, i) => p.resolve((results ? results[i] : undefined) as R));
        } catch (e) {
          for (const p of batch) p.reject(e);
        }
      }
    } finally {
      // Reached synchronously after the empty-queue check, so no push can slip between.
      this.draining = undefined;
    }
  }
}
