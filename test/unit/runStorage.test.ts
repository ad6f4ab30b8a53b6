import * as assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, promises as fsp, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { replayEvents, type RunEvent, type RunRecord } from '../../src/core/model/run';
import { FileRunStorage, JournalCorruptError, runPaths } from '../../src/core/store/runs';
import { tempDir } from './helpers';
import { AT, sampleRun, storeRun } from './storeFixtures';

const log = (runId: string, i: number): RunEvent => ({ type: 'node-log', runId, at: AT, nodeId: 'a', stream: 'stdout', text: `line ${i}` });

/**
 * FileHandle's methods live on a prototype shared by every handle, so a test can watch (or
 * break) the journal's writes and flushes without a seam in the production code.
 */
async function fileHandlePrototype(dir: string): Promise<FileHandle> {
  const fd = await fsp.open(join(dir, 'probe'), 'w');
  await fd.close();
  return Object.getPrototypeOf(fd) as FileHandle;
}

function patch<K extends 'datasync' | 'write'>(proto: FileHandle, key: K, wrap: (original: FileHandle[K]) => FileHandle[K]): () => void {
  const original = proto[key];
  (proto as unknown as Record<string, unknown>)[key] = wrap(original);
  return () => {
    (proto as unknown as Record<string, unknown>)[key] = original;
  };
}

describe('FileRunStorage', () => {
  it('refuses to reopen a run another live process has open, and takes over from a dead one', async () => {
    const root = tempDir();
    const storage = new FileRunStorage(root);
    const journal = await storage.create('20260101-000000-0wn3r1');
    await journal.append(sampleRun('20260101-000000-0wn3r1')[0]!);
    await journal.close();
    assert.equal(existsSync(runPaths(root, '20260101-000000-0wn3r1').owner), false, 'closing releases the claim');

    // Another process holds the run: a real child process, named in owner.json.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      writeFileSync(runPaths(root, '20260101-000000-0wn3r1').owner, JSON.stringify({ pid: child.pid, host: hostname() }));
      assert.equal(await storage.isLive('20260101-000000-0wn3r1'), true);
      await assert.rejects(storage.reopen('20260101-000000-0wn3r1'), new RegExp(`run 20260101-000000-0wn3r1 is being run by pid ${child.pid} \\(host `));
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    // Its process died (as with kill -9): resume may take the run over.
    assert.equal(await storage.isLive('20260101-000000-0wn3r1'), false);
    const { journal: again } = await storage.reopen('20260101-000000-0wn3r1');
    assert.equal(JSON.parse(readFileSync(runPaths(root, '20260101-000000-0wn3r1').owner, 'utf8')).pid, process.pid);
    await again.close();
  });

  it('gives a run to one of two reopens at once; the other is told who holds it, and when from', async () => {
    const root = tempDir();
    const storage = new FileRunStorage(root);
    await storeRun(storage, sampleRun('r1').slice(0, 2));
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => storage.reopen('r1')));
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const r of results) {
      if (r.status === 'rejected') assert.match(String(r.reason), new RegExp(`^RunBusyError: run r1 is being resumed by pid ${process.pid} \\(host ${hostname()}\\) since \\d{4}-`));
    }
    const claim = JSON.parse(readFileSync(runPaths(root, 'r1').owner, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(claim).sort(), ['action', 'host', 'nonce', 'pid', 'since', ...(process.platform === 'win32' ? [] : ['startTime'])].sort());
    assert.equal(claim.action, 'resume');
    await (won[0] as PromiseFulfilledResult<{ journal: { close(): Promise<void> } }>).value.journal.close();
    assert.equal(existsSync(runPaths(root, 'r1').owner), false);
  });

  it('takes a run over from a claim whose pid now belongs to another process (recycled pid)', async function () {
    if (process.platform === 'win32') this.skip();
    const root = tempDir();
    const storage = new FileRunStorage(root);
    await storeRun(storage, sampleRun('r1').slice(0, 2));
    // Our own pid, alive, but with a start time that is not ours: the claim is someone else's, long gone.
    writeFileSync(runPaths(root, 'r1').owner, JSON.stringify({ pid: process.pid, host: hostname(), startTime: 'boot:1', action: 'run', since: AT, nonce: 'old' }));
    assert.equal(await storage.isLive('r1'), false);
    const { journal } = await storage.reopen('r1');
    await journal.close();
  });

  it('refuses a run claimed on another host, which it cannot check, saying how to release it', async () => {
    const root = tempDir();
    const storage = new FileRunStorage(root);
    await storeRun(storage, sampleRun('r1').slice(0, 2));
    writeFileSync(runPaths(root, 'r1').owner, JSON.stringify({ pid: 4242, host: 'build-server-7', action: 'resume', since: AT, nonce: 'x' }));
    assert.equal(await storage.isLive('r1'), true);
    await assert.rejects(storage.reopen('r1'), /run r1 is being resumed by pid 4242 \(host build-server-7\) since 2026-01-01T00:00:00\.000Z, which this machine cannot check; if that process is gone, delete .*owner\.json/);
  });

  it('journals events in order and rebuilds the record from them', async () => {
    const root = tempDir();
    const storage = new FileRunStorage(root);
    const events = sampleRun('r1');
    await storeRun(storage, events);
    const lines = readFileSync(runPaths(root, 'r1').journal, 'utf8').split('\n');
    assert.equal(lines.length, events.length + 1);
    assert.equal(lines.at(-1), '');
    assert.deepEqual(await storage.events('r1'), events);
    assert.ok(!existsSync(runPaths(root, 'r1').record));
    assert.deepEqual(await storage.record('r1'), replayEvents(events));
  });

  it('refuses to create a run that exists', async () => {
    const storage = new FileRunStorage(tempDir());
    await (await storage.create('r1')).close();
    await assert.rejects(storage.create('r1'), /run r1 already exists/);
  });

  it('refuses run ids that are not plain folder names', async () => {
    const storage = new FileRunStorage(tempDir());
    await assert.rejects(storage.create('../escape'), /invalid run id/);
    await assert.rejects(storage.events('a/b'), /invalid run id/);
  });

  it('keeps call order for appends nobody awaited, and flushes them before close resolves', async () => {
    const root = tempDir();
    const storage = new FileRunStorage(root);
    const journal = await storage.create('r1');
    const [first, ...rest] = sampleRun('r1');
    void journal.append(first!);
    for (let i = 0; i < 500; i++) void journal.append(log('r1', i));
    await journal.close();
    const events = await storage.events('r1');
    assert.equal(events.length, 501);
    assert.deepEqual(
      events.slice(1).map((e) => (e.type === 'node-log' ? e.text : e.type)),
      Array.from({ length: 500 }, (_, i) => `line ${i}`),
    );
    await assert.rejects(journal.append(rest[0]!), /closed/);
  });

  it('resolves an append only after its line is written and flushed', async () => {
    const root = tempDir();
    const proto = await fileHandlePrototype(root);
    const storage = new FileRunStorage(root);
    const journal = await storage.create('r1');
    let syncs = 0;
    const restore = patch(proto, 'datasync', (original) =>
      async function (this: FileHandle) {
        await original.call(this);
        syncs++;
      },
    );
    try {
      const [started] = sampleRun('r1');
      await journal.append(started!);
      assert.equal(syncs, 1);
      assert.deepEqual(await storage.events('r1'), [started]);
    } finally {
      restore();
      await journal.close();
    }
  });

  it('groups appends queued during a flush into one write and one fdatasync', async () => {
    const root = tempDir();
    const proto = await fileHandlePrototype(root);
    const storage = new FileRunStorage(root);
    const journal = await storage.create('r1');
    await journal.append(sampleRun('r1')[0]!);
    let syncs = 0;
    const restore = patch(proto, 'datasync', (original) =>
      async function (this: FileHandle) {
        syncs++;
        await original.call(this);
      },
    );
    try {
      await Promise.all(Array.from({ length: 200 }, (_, i) => journal.append(log('r1', i))));
    } finally {
      restore();
    }
    await journal.close();
    // All 200 were queued in one tick, so they form a single batch.
    assert.equal(syncs, 1);
    assert.equal((await storage.events('r1')).length, 201);
  });

  it('measures journal throughput (printed, not asserted)', async () => {
    const root = tempDir();
    const storage = new FileRunStorage(root);
    const n = 300;
    const timed = async (runId: string, appendAll: (j: Awaited<ReturnType<FileRunStorage['create']>>) => Promise<unknown>) => {
      const journal = await storage.create(runId);
      await journal.append(sampleRun(runId)[0]!);
      const t0 = process.hrtime.bigint();
      await appendAll(journal);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      await journal.close();
      return Math.round(n / seconds);
    };
    const single = await timed('single', async (j) => {
      for (let i = 0; i < n; i++) await j.append(log('single', i));
    });
    const grouped = await timed('grouped', (j) => Promise.all(Array.from({ length: n }, (_, i) => j.append(log('grouped', i)))));
    console.log(`      journal appends/s: ${single} one at a time (awaited), ${grouped} grouped (${n} queued at once)`);
    assert.equal((await storage.events('grouped')).length, n + 1);
  });

  it('drops a torn last line on read, and cuts it off on reopen so appends continue cleanly', async () => {
    const root = tempDir();
    const storage = new FileRunStorage(root);
    const events = sampleRun('r1').slice(0, 4);
    await storeRun(storage, events);
    const { journal: file } = runPaths(root, 'r1');
    const good = readFileSync(file);
    // A write cut off mid-way, in the middle of a multi-byte character.
    appendFileSync(file, Buffer.concat([Buffer.from('{"type":"node-log","runId":"r1","text":"caf'), Buffer.from('é').subarray(0, 1)]));
    assert.deepEqual(await storage.events('r1'), events);

    const reopened = await storage.reopen('r1');
    assert.deepEqual(reopened.events, events);
    assert.deepEqual(readFileSync(file), good);
    const more = sampleRun('r1').slice(4);
    for (const e of more) await reopened.journal.append(e);
    await reopened.journal.close();
    assert.deepEqual(await storage.events('r1'), [...events, ...more]);
    assert.equal((await storage.record('r1'))?.state, 'failure');
  });

  it('reports a damaged line before the end with its file and line number, and leaves the file alone', async () => {
    const root = tempDir();
    const storage = new FileRunStorage(root);
    await storeRun(storage, sampleRun('r1'));
    const { journal: file } = runPaths(root, 'r1');
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[2] = lines[2]!.slice(0, 20);
    writeFileSync(file, lines.join('\n'));
    const damaged = readFileSync(file);
    for (const read of [() => storage.events('r1'), () => storage.reopen('r1'), () => storage.record('r1')]) {
      await assert.rejects(read(), (e: unknown) => {
        assert.ok(e instanceof JournalCorruptError);
        assert.equal(e.file, file);
        assert.equal(e.line, 3);
        assert.match(e.message, /journal\.jsonl:3: not valid JSON/);
        return true;
      });
    }
    assert.deepEqual(readFileSync(file), damaged);
  });

  it('rejects lines that are JSON but not events of this run', async () => {
    const root = tempDir();
    const storage = new FileRunStorage(root);
    await storeRun(storage, sampleRun('r1').slice(0, 2));
    const { journal: file } = runPaths(root, 'r1');
    appendFileSync(file, `${JSON.stringify({ ...sampleRun('other')[1], nodeId: 'x' })}\n`);
    await assert.rejects(storage.events('r1'), /journal\.jsonl:3: event of run "other"/);
    writeFileSync(file, `${JSON.stringify(sampleRun('r1')[0])}\n{"type":"bogus","runId":"r1","at":"x"}\n`);
    await assert.rejects(storage.events('r1'), /journal\.jsonl:2: unknown event type "bogus"/);
  });

  it('after a failed write, cuts the file back and refuses further appends', async () => {
    const root = tempDir();
    const proto = await fileHandlePrototype(root);
    const storage = new FileRunStorage(root);
    const journal = await storage.create('r1');
    const [started, nodeStarted] = sampleRun('r1');
    await journal.append(started!);
    const restore = patch(proto, 'write', (original) =>
      async function (this: FileHandle, ...args: unknown[]) {
        // Half the line reaches the disk, then the disk is full.
        const data = args[0] as Buffer;
        await (original as (...a: unknown[]) => Promise<unknown>).call(this, data.subarray(0, 10));
        throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      } as FileHandle['write'],
    );
    try {
      await assert.rejects(journal.append(nodeStarted!), /cannot write the journal .*no space left/);
    } finally {
      restore();
    }
    await assert.rejects(journal.append(nodeStarted!), /no space left/);
    await journal.close();
    assert.equal(readFileSync(runPaths(root, 'r1').journal, 'utf8'), `${JSON.stringify(started)}\n`);
  });

  it('writes run.json atomically, leaving no temp file', async () => {
    const root = tempDir();
    const storage = new FileRunStorage(root);
    const events = sampleRun('r1');
    await storeRun(storage, events);
    const record = replayEvents(events)!;
    await Promise.all([storage.writeRecord(record), storage.writeRecord(record), storage.writeRecord(record)]);
    assert.deepEqual(JSON.parse(readFileSync(runPaths(root, 'r1').record, 'utf8')), JSON.parse(JSON.stringify(record)));
    assert.deepEqual(readdirSync(runPaths(root, 'r1').dir).sort(), ['journal.jsonl', 'run.json']);
    await assert.rejects(storage.writeRecord({ ...record, runId: 'gone' }), /ENOENT/);
  });

  it('uses run.json only when it matches the end of the journal', async () => {
    const root = tempDir();
    const storage = new FileRunStorage(root);
    const events = sampleRun('r1');
    await storeRun(storage, events);
    const rebuilt = replayEvents(events)!;
    // A marker only run.json has, to see which one record() returned.
    const marked: RunRecord = { ...rebuilt, error: 'from run.json' };
    await storage.writeRecord(marked);
    assert.equal((await storage.record('r1'))?.error, 'from run.json');

    // Written while the run was going, and never updated: behind the journal.
    await storage.writeRecord({ ...replayEvents(events.slice(0, 3))!, error: 'stale' });
    assert.deepEqual(await storage.record('r1'), rebuilt);

    // Claims an end the journal does not have.
    await storage.writeRecord({ ...marked, endedAt: '2030-01-01T00:00:00.000Z' });
    assert.deepEqual(await storage.record('r1'), rebuilt);

    writeFileSync(runPaths(root, 'r1').record, '{"runId": "r1", "sta');
    assert.deepEqual(await storage.record('r1'), rebuilt);
    assert.equal(await storage.record('nope'), undefined);
  });

  it('lists runs newest first, skipping folders without a journal or with an empty one', async () => {
    const root = tempDir();
    const storage = new FileRunStorage(root);
    for (const id of ['20260101-000000-aaaaaa', '20260301-000000-cccccc', '20260201-000000-bbbbbb']) await storeRun(storage, sampleRun(id));
    mkdirSync(join(root, '.symphony', 'runs', '20260401-000000-dddddd'));
    await (await storage.create('20260501-000000-eeeeee')).close();
    await storeRun(storage, sampleRun('20250101-000000-ffffff'));
    writeFileSync(runPaths(root, '20250101-000000-ffffff').journal, 'garbage\n');
    assert.deepEqual(
      (await storage.list()).map((r) => r.runId),
      ['20260301-000000-cccccc', '20260201-000000-bbbbbb', '20260101-000000-aaaaaa'],
    );
    await storage.remove('20260201-000000-bbbbbb');
    assert.ok(!existsSync(runPaths(root, '20260201-000000-bbbbbb').dir));
    assert.deepEqual(
      (await storage.list()).map((r) => r.runId),
      ['20260301-000000-cccccc', '20260101-000000-aaaaaa'],
    );
    assert.deepEqual(await new FileRunStorage(tempDir()).list(), []);
  });
});
