// No `vscode` import.

/**
 * Runs an action once, `delayMs` after the first of a burst of calls. Unlike a debounce, a
 * steady stream of calls (a run appending to its journal all the time) cannot postpone it
 * forever: the delay bounds both how stale the result is and how often the work is done.
 */
export class Coalescer {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly delayMs: number,
    private readonly action: () => void,
  ) {}

  schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.action();
    }, this.delayMs);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
