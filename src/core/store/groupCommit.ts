interface Pending<R> {
  /** The item's place in its batch. */
  readonly index: number;
  readonly resolve: (result: R) => void;
  readonly reject: (e: unknown) => void;
}

/** The one promise every `add` of a batch gets. */
interface Shared {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

function shared(): Shared {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Group commit: items pushed while a flush is in flight go out together in the next one —
 * one write and one disk flush per batch instead of per item — and in the order pushed.
 * `push` resolves once its item's batch is flushed — with what `flush` returned for that
 * item, if anything — and rejects with the batch's error. `add` is `push` for a caller that
 * needs no result: every item added to one batch gets the same promise, so a burst of
 * thousands of items does not make thousands of promises.
 */
export class GroupCommit<T, R = void> {
  private queue: T[] = [];
  private waiters: Pending<R>[] = [];
  private together: Shared | undefined;
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
      this.waiters.push({ index: this.queue.length, resolve, reject });
      this.queue.push(item);
      this.draining ??= this.drain();
    });
  }

  /** Resolves once the item's batch is flushed, rejects with the batch's error; the promise is shared by the batch. */
  add(item: T): Promise<void> {
    this.queue.push(item);
    const together = (this.together ??= shared());
    this.draining ??= this.drain();
    return together.promise;
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
        const waiters = this.waiters;
        const together = this.together;
        this.queue = [];
        this.waiters = [];
        this.together = undefined;
        try {
          const results = await this.flush(batch);
          for (const p of waiters) p.resolve((results ? results[p.index] : undefined) as R);
          together?.resolve();
        } catch (e) {
          for (const p of waiters) p.reject(e);
          together?.reject(e);
        }
      }
    } finally {
      // Reached synchronously after the empty-queue check, so no push can slip between.
      this.draining = undefined;
    }
  }
}
