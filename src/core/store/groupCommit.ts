interface Pending<T> {
  readonly item: T;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/**
 * Group commit: items pushed while a flush is in flight go out together in the next one —
 * one write and one disk flush per batch instead of per item — and in the order pushed.
 * `push` resolves once its item's batch is flushed, and rejects with the batch's error.
 */
export class GroupCommit<T> {
  private queue: Pending<T>[] = [];
  private draining: Promise<void> | undefined;

  constructor(private readonly flush: (items: readonly T[]) => Promise<void>) {}

  push(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
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
      // Let items pushed in the same tick (a burst of log lines) join the first batch.
      await Promise.resolve();
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          await this.flush(batch.map((p) => p.item));
          for (const p of batch) p.resolve();
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
