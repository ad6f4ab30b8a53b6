/**
 * One notification per key at a time: while a key's notification is open (not yet acted on
 * or dismissed), later posts under that key only update what its buttons open — the newest
 * item — instead of stacking another notification over the editor. Once the person looks
 * (a button, or closing it), the next post shows a new one. Takes no `vscode`: the caller
 * shows the notification, so this is unit-tested with plain promises.
 */
export class ToastGroups<T> {
  private readonly open = new Map<string, { latest: T; held: number }>();

  /**
   * Shows `show`'s notification for `key` unless one is open; `show` gets the newest item
   * and how many more arrived while it was open, at the moment a button is pressed.
   * Resolves true when a notification was shown.
   */
  post(key: string, item: T, show: (latest: () => { item: T; held: number }) => PromiseLike<unknown>): boolean {
    const group = this.open.get(key);
    if (group) {
      group.latest = item;
      group.held++;
      return false;
    }
    const entry = { latest: item, held: 0 };
    this.open.set(key, entry);
    const close = () => {
      if (this.open.get(key) === entry) this.open.delete(key);
    };
    show(() => ({ item: entry.latest, held: entry.held })).then(close, close);
    return true;
  }

  /** Whether a notification for `key` is open. */
  isOpen(key: string): boolean {
    return this.open.has(key);
  }
}
