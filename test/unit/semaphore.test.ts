import * as assert from 'node:assert/strict';
import { Semaphore } from '../../src/core/engine/semaphore';

describe('Semaphore', () => {
  it('serves waiters in order, and tryAcquire never takes a slot a waiter is owed', async () => {
    const s = new Semaphore(1);
    const first = s.tryAcquire()!;
    const order: string[] = [];
    const a = s.acquire().then((release) => (order.push('a'), release));
    const b = s.acquire().then((release) => (order.push('b'), release));
    first();
    // The released slot went to a at once: nothing is free for a newcomer.
    assert.equal(s.tryAcquire(), undefined);
    (await a)();
    (await b)();
    assert.deepEqual(order, ['a', 'b']);
    assert.equal(s.inUse, 0);
  });

  it('drops the waiters of an aborted signal, and only those; the others keep their place', async () => {
    const s = new Semaphore(1);
    const held = (await s.acquire())!;
    const run = new AbortController();
    const other = new AbortController();
    const cancelled = [s.acquire(run.signal), s.acquire(run.signal)];
    const kept = s.acquire(other.signal);
    const reason = new Error('cancelled');
    run.abort(reason);
    for (const c of cancelled) await assert.rejects(c, (e) => e === reason);
    await assert.rejects(s.acquire(run.signal), (e) => e === reason);
    held();
    const release = await kept;
    assert.equal(s.inUse, 1);
    release();
    assert.equal(s.inUse, 0);
  });
});
