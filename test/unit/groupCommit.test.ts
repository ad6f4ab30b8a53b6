import * as assert from 'node:assert/strict';
import { GroupCommit } from '../../src/core/store/groupCommit';

/** A queue whose flushes record their batches and answer each item with its batch number. */
function recording(gather?: 'microtask' | 'turn'): { queue: GroupCommit<string, number>; batches: string[][] } {
  const batches: string[][] = [];
  const queue = new GroupCommit<string, number>(async (items) => {
    batches.push([...items]);
    await new Promise((r) => setImmediate(r));
    return items.map(() => batches.length);
  }, gather);
  return { queue, batches };
}

/** Pushes `a`, then `b` a few microtasks later (as a run's last node end and its run-finished). */
async function pushApart(queue: GroupCommit<string, number>): Promise<number[]> {
  const a = queue.push('a');
  for (let i = 0; i < 5; i++) await Promise.resolve();
  const b = queue.push('b');
  return Promise.all([a, b]);
}

describe('GroupCommit', () => {
  it('flushes items pushed in the same tick together, in order', async () => {
    const { queue, batches } = recording();
    const done = Promise.all(['x', 'y', 'z'].map((i) => queue.push(i)));
    assert.deepEqual(await done, [1, 1, 1]);
    assert.deepEqual(batches, [['x', 'y', 'z']]);
  });

  it('by default starts flushing after a microtask: a later push goes in the next batch', async () => {
    const { queue, batches } = recording();
    assert.deepEqual(await pushApart(queue), [1, 2]);
    assert.deepEqual(batches, [['a'], ['b']]);
  });

  it('with gather "turn", waits for the event loop to turn, so both share one flush', async () => {
    const { queue, batches } = recording('turn');
    assert.deepEqual(await pushApart(queue), [1, 1]);
    assert.deepEqual(batches, [['a', 'b']]);
  });

  it('items pushed while a flush is in flight go out together in the next one', async () => {
    const { queue, batches } = recording('turn');
    const first = queue.push('1');
    await new Promise((r) => setImmediate(r));
    const more = [queue.push('2'), queue.push('3')];
    await Promise.all([first, ...more]);
    assert.deepEqual(batches, [['1'], ['2', '3']]);
    await queue.idle();
  });

  it('add: every item of a batch shares one promise, settled with the batch, in order with push', async () => {
    const batches: string[][] = [];
    let fail = false;
    const queue = new GroupCommit<string, number>(async (items) => {
      batches.push([...items]);
      await new Promise((r) => setImmediate(r));
      if (fail) throw new Error('disk full');
      return items.map((_, i) => i);
    });
    const a = queue.add('a');
    const b = queue.push('b');
    const c = queue.add('c');
    assert.equal(a, c);
    assert.deepEqual(await Promise.all([a, b, c]), [undefined, 1, undefined]);
    fail = true;
    const d = queue.add('d');
    assert.notEqual(d, a);
    await assert.rejects(d, /disk full/);
    assert.deepEqual(batches, [['a', 'b', 'c'], ['d']]);
  });
});
