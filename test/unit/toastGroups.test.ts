import * as assert from 'node:assert/strict';
import { ToastGroups } from '../../src/extension/runs/toastGroups';

/** A notification the test closes by hand, as a person would. */
function notification() {
  let close!: (choice?: string) => void;
  const closed = new Promise<string | undefined>((resolve) => (close = resolve));
  return { closed, close };
}

describe('grouped failure notifications (ToastGroups)', () => {
  it('shows one notification per key until it is closed; its buttons open the newest item', async () => {
    const groups = new ToastGroups<string>();
    const shown: { key: string; latest: () => { item: string; held: number } }[] = [];
    const first = notification();
    const post = (key: string, item: string, n = first) =>
      groups.post(key, item, (latest) => {
        shown.push({ key, latest });
        return n.closed;
      });

    assert.equal(post('code-review', 'run-1'), true);
    assert.equal(post('code-review', 'run-2'), false, 'a second failure joins the open notification');
    assert.equal(post('code-review', 'run-3'), false);
    const other = notification();
    assert.equal(post('build', 'run-4', other), true, 'another melody has a notification of its own');
    assert.deepEqual(shown.map((s) => s.key), ['code-review', 'build']);
    assert.deepEqual(shown[0]!.latest(), { item: 'run-3', held: 2 });

    first.close('Show Run');
    await first.closed;
    await Promise.resolve();
    assert.equal(groups.isOpen('code-review'), false, 'looking at it closes the group');
    const next = notification();
    assert.equal(post('code-review', 'run-5', next), true, 'the next failure after that is shown');
    assert.equal(groups.isOpen('build'), true);
  });

  it('closes the group when the notification fails to show', async () => {
    const groups = new ToastGroups<number>();
    groups.post('k', 1, () => Promise.reject(new Error('no window')));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(groups.isOpen('k'), false);
  });
});
