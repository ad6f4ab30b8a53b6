import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LockTimeoutError, LockUncheckableError, withFileLock } from '../../src/core/store/lock';
import { thisProcess } from '../../src/core/store/processes';
import { tempDir } from './helpers';

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  return Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }));
}

function lockBy(path: string, owner: { pid: number; host: string; startTime?: string }): void {
  writeFileSync(path, JSON.stringify({ ...owner, nonce: 'someone-else', at: new Date().toISOString() }));
}

describe('withFileLock', () => {
  it('runs one holder at a time and removes the lock afterwards', async () => {
    const path = join(tempDir(), 'nested', 'x.lock');
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        withFileLock(path, async () => {
          inside++;
          most = Math.max(most, inside);
          assert.ok(existsSync(path));
          await new Promise((r) => setTimeout(r, 1));
          order.push(i);
          inside--;
        }),
      ),
    );
    assert.equal(most, 1);
    assert.deepEqual(order, Array.from({ length: 20 }, (_, i) => i));
    assert.ok(!existsSync(path));
  });

  it('releases the lock when the holder throws', async () => {
    const path = join(tempDir(), 'x.lock');
    await assert.rejects(
      withFileLock(path, async () => {
        throw new Error('inside');
      }),
      /inside/,
    );
    assert.ok(!existsSync(path));
    assert.equal(await withFileLock(path, async () => 42), 42);
  });

  it('takes over at once a lock whose owner process on this host has died', async () => {
    const path = join(tempDir(), 'x.lock');
    lockBy(path, { pid: deadPid(), host: hostname() });
    // Taken within timeoutMs, far below staleMs: the dead owner was recognised, the lock's
    // age never mattered. (No wall-clock bound: a loaded machine may be slow to do anything.)
    await withFileLock(path, async () => undefined, { staleMs: 10 * 60_000, timeoutMs: 60_000 });
  });

  it('waits for a live owner, then gives up naming it', async () => {
    const path = join(tempDir(), 'x.lock');
    lockBy(path, await thisProcess());
    await assert.rejects(withFileLock(path, async () => undefined, { timeoutMs: 1500 }), (e: unknown) => {
      assert.ok(e instanceof LockTimeoutError);
      assert.match(e.message, new RegExp(`timed out waiting for .*x\\.lock \\(held by .*"pid":${process.pid}`));
      return true;
    });
    assert.ok(existsSync(path));
  });

  it('takes over at once a lock whose pid now belongs to another process (its start time differs)', async function () {
    if (process.platform === 'win32') this.skip();
    const path = join(tempDir(), 'x.lock');
    lockBy(path, { pid: 1, host: hostname(), startTime: 'boot:1' });
    const started = Date.now();
    await withFileLock(path, async () => undefined, { timeoutMs: 5_000 });
    assert.ok(Date.now() - started < 500, `took ${Date.now() - started} ms`);
  });

  it('takes over within a second a lock of a live pid that records no start time (planted, or an older Symphony)', async function () {
    if (process.platform === 'win32') this.skip();
    const path = join(tempDir(), 'x.lock');
    lockBy(path, { pid: 1, host: hostname() });
    const started = Date.now();
    await withFileLock(path, async () => undefined, { timeoutMs: 10_000 });
    const took = Date.now() - started;
    assert.ok(took >= 1000 && took < 3000, `took ${took} ms`);
  });

  it('fails within a second, clearly, on a lock held on another host', async () => {
    const path = join(tempDir(), 'x.lock');
    lockBy(path, { pid: 4242, host: 'build-server-7' });
    const started = Date.now();
    await assert.rejects(withFileLock(path, async () => undefined, { timeoutMs: 10_000 }), (e: unknown) => {
      assert.ok(e instanceof LockUncheckableError);
      assert.match(e.message, /x\.lock is held by pid 4242 on host build-server-7 since .*, which this machine cannot check; if no Symphony process on build-server-7 is using this workspace, delete it$/);
      return true;
    });
    assert.ok(Date.now() - started < 3000);
    assert.ok(existsSync(path), 'a lock it cannot judge is left alone');
  });

  it('fails within a second on a lock Symphony did not write', async () => {
    const path = join(tempDir(), 'x.lock');
    writeFileSync(path, 'locked by me');
    await assert.rejects(withFileLock(path, async () => undefined, { timeoutMs: 10_000 }), /x\.lock was not written by Symphony \(it holds "locked by me"\); if no Symphony process is using this workspace, delete it/);
  });

  it('takes over a lock it cannot check once it is older than staleMs', async () => {
    const path = join(tempDir(), 'x.lock');
    lockBy(path, { pid: 1, host: 'another-machine' });
    await assert.rejects(withFileLock(path, async () => undefined, { staleMs: 10_000, timeoutMs: 100 }), LockTimeoutError);
    const old = new Date(Date.now() - 20_000);
    utimesSync(path, old, old);
    await withFileLock(path, async () => undefined, { staleMs: 10_000, timeoutMs: 30_000 });
    assert.ok(!existsSync(path));
  });

  it('does not delete a lock that someone else took over meanwhile', async () => {
    const path = join(tempDir(), 'x.lock');
    await withFileLock(path, async () => {
      // Another process judged us stale and took the lock.
      lockBy(path, { pid: process.pid, host: 'another-machine' });
    });
    assert.match(readFileSync(path, 'utf8'), /another-machine/);
  });
});
