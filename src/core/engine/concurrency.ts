/** A run waiting for, or holding, its concurrency group. */
interface Entry {
  /** Aborts the run (cancel-in-progress). */
  readonly cancel: () => void;
  /** Lets a queued run start. */
  readonly start: () => void;
}

/**
 * `concurrency: { group, cancel-in-progress }`: runs in the same group never overlap. A new
 * run waits for the one in progress (in arrival order), or — with cancel-in-progress —
 * cancels it and every run still waiting, then starts as soon as they have stopped. The
 * groups are per engine, i.e. per process.
 */
export class ConcurrencyGroups {
  private readonly groups = new Map<string, { current?: Entry; queue: Entry[] }>();

  /** Resolves when a run may start in `group`; call the returned function when it ends. */
  async enter(group: string, cancelInProgress: boolean, cancel: () => void): Promise<() => void> {
    let state = this.groups.get(group);
    if (!state) this.groups.set(group, (state = { queue: [] }));
    const s = state;
    let started!: () => void;
    const ready = new Promise<void>((resolve) => (started = resolve));
    const me: Entry = { cancel, start: started };
    if (cancelInProgress) {
      // Waiting runs start at once, already cancelled, so they end quickly and in order.
      for (const waiting of s.queue) waiting.cancel();
      s.current?.cancel();
    }
    if (!s.current) {
      s.current = me;
      started();
    } else {
      s.queue.push(me);
    }
    await ready;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = s.queue.shift();
      s.current = next;
      if (next) next.start();
      else this.groups.delete(group);
    };
  }

  /** How many runs hold or wait for `group`. */
  size(group: string): number {
    const s = this.groups.get(group);
    return s ? s.queue.length + (s.current ? 1 : 0) : 0;
  }
}
