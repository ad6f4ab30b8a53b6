import * as assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../../src/core/engine/hash';
import type { NodeFinished } from '../../src/core/model/run';
import { readWorkspaceFile } from '../../src/core/nodes/support';
import type { NodeContext } from '../../src/core/nodes/types';
import { collectGarbage, FileArtifactStore } from '../../src/core/store/artifacts';
import type { CacheEntry } from '../../src/core/store/cache';
import { FileRunStorage } from '../../src/core/store/runs';
import { EngineRig } from './engineRig';

/** A node that reads `in.txt` through the guard and answers with its text and its input. */
const readsInput = async (ctx: NodeContext, input: unknown) => ({ output: { text: (await readWorkspaceFile(ctx, 'in.txt')).text, input } });

const MELODY = 'name: cached\ncache: true\nnodes:\n  r: { uses: read-file, with: { path: in.txt } }\n';

function cacheEntries(root: string): CacheEntry[] {
  const dir = join(root, '.symphony', 'cache');
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as CacheEntry);
}

function startsOf(rig: EngineRig, id: string): number {
  return rig.started.filter((s) => s.startsWith(`${id}#`)).length;
}

describe('engine: node cache (cache: true)', () => {
  it('takes an unchanged node from the cache: it does not run, shows as cached, costs nothing and is journaled', async () => {
    const rig = new EngineRig();
    writeFileSync(join(rig.root, 'in.txt'), 'one');
    rig.auto.set('r', readsInput);
    const first = await rig.run(MELODY);
    assert.equal(first.state, 'success');
    assert.equal(first.nodes.r!.cached, undefined, 'a first run stores, it does not hit');
    const second = await rig.run(MELODY);
    assert.equal(second.state, 'success');
    assert.equal(startsOf(rig, 'r'), 1, 'the second run took r from the cache');
    assert.equal(second.nodes.r!.cached, true);
    assert.deepEqual(second.nodes.r!.output, first.nodes.r!.output);
    assert.equal(second.nodes.r!.tokens, undefined);
    assert.deepEqual(second.tokens, { input: 0, output: 0 });
    const journal = readFileSync(join(rig.root, '.symphony', 'runs', second.runId, 'journal.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    const end = journal.find((e) => e.type === 'node-finished') as NodeFinished;
    assert.equal(end.cached, true);
    assert.match(end.cacheKey!, /^[0-9a-f]{64}$/);
    const record = JSON.parse(readFileSync(join(rig.root, '.symphony', 'runs', second.runId, 'run.json'), 'utf8'));
    assert.equal(record.nodes.r.cached, true);
  });

  it('runs the node again when a file it read, its input or its instrument changed', async () => {
    const rig = new EngineRig();
    writeFileSync(join(rig.root, 'in.txt'), 'one');
    rig.auto.set('r', readsInput);
    await rig.run(MELODY);
    writeFileSync(join(rig.root, 'in.txt'), 'two');
    const changedFile = await rig.run(MELODY);
    assert.equal(startsOf(rig, 'r'), 2);
    assert.equal(changedFile.nodes.r!.cached, undefined);
    assert.equal((changedFile.nodes.r!.output as { text: string }).text, 'two');

    const otherInput = await rig.run(MELODY.replace('path: in.txt', 'path: in.txt, parse: text'));
    assert.equal(startsOf(rig, 'r'), 3, 'another `with:` is another key');
    assert.equal(otherInput.nodes.r!.cached, undefined);
  });

  it('runs a node again when a file it read changed during the run, even with its size and modification time kept', async () => {
    // The engine's clock a minute ahead: in.txt, written just now, is old enough that the
    // run remembers its hash after the first look (files changed moments ago never are).
    const rig = new EngineRig({ now: () => Date.now() + 60_000 });
    const file = join(rig.root, 'in.txt');
    const then = new Date(Date.now() - 60_000);
    writeFileSync(file, 'one');
    utimesSync(file, then, then);
    rig.auto.set('a', readsInput);
    rig.auto.set('c', readsInput);
    let rewrite = false;
    rig.auto.set('b', () => {
      // Same length, same modification time: only the content (and the change time) differ.
      if (rewrite) {
        writeFileSync(file, 'uno');
        utimesSync(file, then, then);
      }
      return { output: 'b' };
    });
    // a and c read in.txt under one key; b, between them, is never cached.
    const text =
      'name: within\ncache: true\nnodes:\n  a: { uses: read-file, with: { path: in.txt } }\n  b: { uses: transform, cache: false, needs: [a], with: { value: 1 } }\n  c: { uses: read-file, needs: [b], with: { path: in.txt } }\n';
    assert.equal((await rig.run(text)).state, 'success');
    rewrite = true;
    const second = await rig.run(text);
    assert.equal(second.nodes.a!.cached, true, 'a hits: in.txt still reads "one" when a starts');
    assert.equal(second.nodes.c!.cached, undefined, 'c misses: in.txt changed after a looked at it');
    assert.equal((second.nodes.c!.output as { text: string }).text, 'uno');
    assert.equal(startsOf(rig, 'c'), 2);
    const third = await rig.run(text);
    assert.equal(third.nodes.a!.cached, true, 'c stored "uno" under the key, and in.txt holds it');
    assert.equal((third.nodes.a!.output as { text: string }).text, 'uno');
  });

  it('gets programs ready only when a node is not taken from the cache: a run served whole from it starts none', async () => {
    const rig = new EngineRig();
    writeFileSync(join(rig.root, 'in.txt'), 'one');
    rig.auto.set('r', readsInput);
    rig.auto.set('t', () => ({ output: 't' }));
    // How many nodes of the run had started when it prepared, per call.
    const prepared: number[] = [];
    const run = async (text: string, noCache?: boolean) => {
      const before = rig.eventsOf('node-started').length;
      return rig.engine.run({ ...rig.melody(text), noCache, prepare: () => prepared.push(rig.eventsOf('node-started').length - before) });
    };
    const twoNodes = MELODY + '  t: { uses: transform, needs: [r], with: { value: 1 } }\n';
    assert.equal((await run(twoNodes)).nodes.r!.cached, undefined);
    assert.deepEqual(prepared, [0], 'an empty cache serves nothing: prepared once, as the run starts');
    const hits = await run(twoNodes);
    assert.deepEqual([hits.nodes.r!.cached, hits.nodes.t!.cached], [true, true]);
    assert.deepEqual(prepared, [0], 'every node came from the cache: nothing was prepared');
    const other = await run(twoNodes.replace('value: 1', 'value: 2'));
    assert.deepEqual([other.nodes.r!.cached, other.nodes.t!.cached], [true, undefined]);
    assert.deepEqual(prepared, [0, 2], 'prepared once t missed, not before');
    await run(twoNodes, true);
    assert.deepEqual(prepared, [0, 2, 0], '--no-cache prepares as the run starts');
    // A node that is never cached will run: the run prepares as it starts, once.
    await run(twoNodes.replace('needs: [r],', 'needs: [r], cache: false,'));
    assert.deepEqual(prepared, [0, 2, 0, 0]);
  });

  it('runs the node again when its instrument changed', async () => {
    const rig = new EngineRig();
    writeFileSync(join(rig.root, 'in.txt'), 'one');
    rig.auto.set('r', readsInput);
    mkdirSync(join(rig.root, 'ensembles', 'team'), { recursive: true });
    for (const id of ['small', 'big']) writeFileSync(join(rig.root, 'ensembles', 'team', `${id}.yaml`), `nickname: ${id}\nkind: model\nmodel: { provider: anthropic, id: ${id} }\n`);
    const withInstrument = (ref: string) => `name: cached\ncache: true\nnodes:\n  r: { uses: instrument, instrument: ${ref}, with: { prompt: hi } }\n`;
    await rig.run(withInstrument('team/small'));
    assert.equal((await rig.run(withInstrument('team/small'))).nodes.r!.cached, true);
    assert.equal(startsOf(rig, 'r'), 1);
    const otherInstrument = await rig.run(withInstrument('team/big'));
    assert.equal(startsOf(rig, 'r'), 2, 'another instrument is another key');
    assert.equal(otherInstrument.nodes.r!.cached, undefined);
  });

  it('runs every node with noCache (--no-cache), and still stores what they produce', async () => {
    const rig = new EngineRig();
    writeFileSync(join(rig.root, 'in.txt'), 'one');
    let calls = 0;
    rig.auto.set('r', async (ctx, input) => ({ output: { ...(await readsInput(ctx, input)).output, calls: ++calls } }));
    await rig.run(MELODY);
    const forced = await rig.engine.run({ ...rig.melody(MELODY), noCache: true });
    assert.equal(startsOf(rig, 'r'), 2);
    assert.equal(forced.nodes.r!.cached, undefined);
    const after = await rig.run(MELODY);
    assert.equal(after.nodes.r!.cached, true);
    assert.equal((after.nodes.r!.output as { calls: number }).calls, 2, 'the forced run stored its output');
  });

  it('honours a node’s own cache: false over the melody’s default', async () => {
    const rig = new EngineRig();
    writeFileSync(join(rig.root, 'in.txt'), 'one');
    rig.auto.set('r', readsInput);
    const text = 'name: cached\ncache: true\nnodes:\n  r: { uses: read-file, cache: false, with: { path: in.txt } }\n';
    await rig.run(text);
    await rig.run(text);
    assert.equal(startsOf(rig, 'r'), 2);
  });

  it('never caches a failure', async () => {
    const rig = new EngineRig();
    writeFileSync(join(rig.root, 'in.txt'), 'one');
    let calls = 0;
    rig.auto.set('r', async (ctx, input) => {
      if (++calls === 1) throw new Error('broke');
      return readsInput(ctx, input);
    });
    const text = 'name: cached\ncache: true\nnodes:\n  r: { uses: read-file, retry: { max: 1 }, with: { path: in.txt } }\n';
    assert.equal((await rig.run(text)).state, 'failure');
    const again = await rig.run(text);
    assert.equal(again.state, 'success');
    assert.equal(again.nodes.r!.cached, undefined, 'the failure was not served from the cache');
    assert.equal(startsOf(rig, 'r'), 2);
  });

  it('does not cache a node one of whose reads was refused, or that wrote a file', async () => {
    const rig = new EngineRig();
    writeFileSync(join(rig.root, 'in.txt'), 'one');
    writeFileSync(join(rig.root, 'secret.txt'), 'private');
    rig.auto.set('r', async (ctx, input) => {
      // An agent tries a file it may not read, is refused, and answers anyway.
      await readWorkspaceFile(ctx, 'secret.txt').catch(() => undefined);
      return readsInput(ctx, input);
    });
    rig.auto.set('w', async (ctx) => {
      await ctx.permissions.resolveWrite('out.txt');
      return { output: 'wrote' };
    });
    const text = 'name: cached\ncache: true\npermissions:\n  fs: { read: [in.txt], write: [out.txt] }\nnodes:\n  r: { uses: read-file, with: { path: in.txt } }\n  w: { uses: transform, with: { value: 1 } }\n';
    assert.equal((await rig.run(text)).state, 'success');
    const again = await rig.run(text);
    assert.equal(again.state, 'success');
    assert.equal(startsOf(rig, 'r'), 2);
    assert.equal(startsOf(rig, 'w'), 2);
    assert.equal(again.nodes.r!.cached, undefined);
  });

  describe('attacks', () => {
    it('never serves an output to a node whose permissions do not let it read the files behind it', async () => {
      const rig = new EngineRig();
      writeFileSync(join(rig.root, 'in.txt'), 'public');
      writeFileSync(join(rig.root, 'secret.txt'), 'the private key');
      rig.auto.set('r', async (ctx) => ({ output: (await readWorkspaceFile(ctx, 'secret.txt')).text }));
      // A melody allowed to read secret.txt fills the cache…
      const allowed = await rig.run('name: a\ncache: true\nnodes:\n  r: { uses: read-file, with: { path: secret.txt } }\n');
      assert.equal(allowed.nodes.r!.output, 'the private key');
      // …and the same node in a melody that may read only in.txt must not get it.
      const narrow = 'name: b\ncache: true\npermissions:\n  fs: { read: [in.txt] }\nnodes:\n  r: { uses: read-file, with: { path: secret.txt } }\n';
      const refused = await rig.run(narrow);
      assert.equal(refused.nodes.r!.state, 'failure');
      assert.equal(refused.nodes.r!.cached, undefined);
      assert.notEqual(refused.nodes.r!.output, 'the private key');
      assert.match(refused.nodes.r!.error!, /does not allow reading secret\.txt/);

      // Even an entry under the narrow melody's own key that names secret.txt (planted, or
      // left by older permissions) is a miss: the guard is asked again on every hit.
      rig.auto.set('r', readsInput);
      const own = 'name: b\ncache: true\npermissions:\n  fs: { read: [in.txt] }\nnodes:\n  r: { uses: read-file, with: { path: in.txt } }\n';
      const stored = await rig.run(own);
      const key = (rig.eventsOf('node-finished', stored.runId)[0] as NodeFinished).cacheKey!;
      const secretRun = (rig.eventsOf('node-finished', allowed.runId)[0] as NodeFinished).cacheKey!;
      const secretEntry = cacheEntries(rig.root).find((e) => e.key === secretRun)!;
      const planted: CacheEntry = { key, reads: [{ path: 'secret.txt', sha256: sha256(Buffer.from('the private key')) }], outputRef: secretEntry.outputRef, storedAt: new Date().toISOString() };
      writeFileSync(join(rig.root, '.symphony', 'cache', `${key}.json`), JSON.stringify(planted));
      const again = await rig.run(own);
      assert.equal(again.nodes.r!.cached, undefined);
      assert.equal((again.nodes.r!.output as { text: string }).text, 'public');
    });

    it('keeps secrets out of the key and out of every cache file', async () => {
      let secret = 'hunter2-s3cr3t/+';
      const rig = new EngineRig({ secrets: async (name) => (name === 'TOKEN' ? secret : undefined) });
      rig.auto.set('r', (_ctx, input) => ({ output: input }));
      const text = 'name: s\ncache: true\nnodes:\n  r: { uses: transform, with: { value: "Bearer ${{ secrets.TOKEN }}" } }\n';
      const first = await rig.run(text);
      const cacheDir = join(rig.root, '.symphony', 'cache');
      const files = readdirSync(cacheDir).map((n) => readFileSync(join(cacheDir, n), 'utf8'));
      assert.ok(files.length > 0);
      for (const f of files) assert.ok(!f.includes(secret) && !f.includes('hunter2'), 'no cache file holds the secret');
      // The key is the same whatever the secret's value: the value is not part of it.
      secret = 'another-s3cr3t-value';
      const second = await rig.run(text);
      assert.equal(second.nodes.r!.cached, true);
      assert.equal((rig.eventsOf('node-finished', second.runId)[0] as NodeFinished).cacheKey, (rig.eventsOf('node-finished', first.runId)[0] as NodeFinished).cacheKey);
    });
  });

  it('resumes a run with a cached node without running it', async () => {
    const rig = new EngineRig();
    const m = rig.melody('name: resumable\ncache: true\nnodes:\n  a: { uses: transform, with: { value: 1 } }\n  b: { uses: transform, needs: [a], with: { value: 2 } }\n');
    const storage = new FileRunStorage(rig.root);
    const runId = '20260101-000000-cach01';
    const j = await storage.create(runId);
    const base = { runId, at: new Date().toISOString() };
    await j.append({ ...base, type: 'run-started', melody: 'resumable', file: 'test.melody.yaml', definitionHash: sha256(m.text), inputs: {}, trigger: { kind: 'manual' } });
    await j.append({ ...base, type: 'node-started', nodeId: 'a', attempt: 1, iteration: 0, provenance: 'p' });
    await j.append({ ...base, type: 'node-finished', nodeId: 'a', status: 'success', attempts: 1, iterations: 0, output: 'from-cache', durationMs: 1, cached: true, cacheKey: 'f'.repeat(64) });
    await j.close();
    rig.auto.set('b', () => ({ output: 'b' }));
    const r = await rig.engine.resume(runId);
    assert.equal(r.state, 'success');
    assert.deepEqual(rig.started, ['b#1']);
    assert.equal(r.nodes.a!.cached, true);
    assert.equal(r.nodes.a!.output, 'from-cache');
  });

  it('gc drops the entries no kept run names, and keeps the outputs of those it keeps', async () => {
    const rig = new EngineRig();
    writeFileSync(join(rig.root, 'in.txt'), 'one');
    rig.auto.set('r', readsInput);
    await rig.run(MELODY);
    writeFileSync(join(rig.root, 'in.txt'), 'two');
    await rig.run(MELODY);
    // Another write of in.txt: a third key, whose run the gc removes below.
    await rig.run(MELODY.replace('path: in.txt', 'path: in.txt, parse: text'));
    assert.equal(cacheEntries(rig.root).length, 2, 'one entry per key: the second run replaced the first');
    const later = { now: () => Date.now() + 2 * 60 * 60 * 1000 };
    const r = await collectGarbage(rig.root, new FileRunStorage(rig.root), 2, later);
    assert.equal(r.runsRemoved, 1);
    // The first run's key is the newer run's too (same path and with:), so it stays.
    assert.equal(r.cacheEntriesRemoved, 0);
    const kept = cacheEntries(rig.root);
    for (const e of kept) assert.ok(await new FileArtifactStore(rig.root).has(e.outputRef), 'a kept entry keeps its output');
    const none = await collectGarbage(rig.root, new FileRunStorage(rig.root), 0, later);
    assert.equal(none.cacheEntriesRemoved, 2);
    assert.deepEqual(cacheEntries(rig.root), []);
    const again = await rig.run(MELODY);
    assert.equal(again.nodes.r!.cached, undefined, 'a dropped entry is a miss');
  });
});
