import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, sha256 } from '../../src/core/engine/hash';
import { replayEvents, type RunEvent } from '../../src/core/model/run';
import { artifactsDir, collectGarbage, FileArtifactStore, gcArtifacts } from '../../src/core/store/artifacts';
import { FileRunStorage, runPaths } from '../../src/core/store/runs';
import { tempDir } from './helpers';
import { sampleRun, storeRun } from './storeFixtures';

const HOUR = 60 * 60 * 1000;
/** A clock two hours ahead, so everything stored so far is past gc's grace period. */
const later = { now: () => Date.now() + 2 * HOUR };

function blobFile(root: string, hash: string): string {
  return join(artifactsDir(root), hash.slice(0, 2), hash);
}

/** Every file under the artifact store, relative to it. */
function storedFiles(root: string): string[] {
  const dir = artifactsDir(root);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((shard) => readdirSync(join(dir, shard)).map((f) => `${shard}/${f}`)).sort();
}

/** A run whose node `a` produced the artifact `ref`. */
function runWithOutput(runId: string, ref: string, state: 'finished' | 'running' = 'finished'): RunEvent[] {
  const events = sampleRun(runId).map((e) => (e.type === 'node-finished' && e.nodeId === 'a' ? { ...e, output: undefined, outputRef: ref } : e));
  return state === 'finished' ? events : events.slice(0, 4);
}

describe('FileArtifactStore', () => {
  it('stores JSON values canonically, under their sha256', async () => {
    const root = tempDir();
    const store = new FileArtifactStore(root);
    const hash = await store.put({ b: [1, { d: 2, c: 3 }], a: 'x' });
    assert.equal(hash, sha256('{"a":"x","b":[1,{"c":3,"d":2}]}'));
    assert.equal(await store.put({ a: 'x', b: [1, { c: 3, d: 2 }] }), hash);
    assert.equal(readFileSync(blobFile(root, hash), 'utf8'), '{"a":"x","b":[1,{"c":3,"d":2}]}');
    assert.deepEqual(await store.getJson(hash), { a: 'x', b: [1, { c: 3, d: 2 }] });
    assert.equal(await store.has(hash), true);
    assert.deepEqual(storedFiles(root), [`${hash.slice(0, 2)}/${hash}`]);
  });

  it('stores Buffers and Uint8Arrays as their bytes', async () => {
    const store = new FileArtifactStore(tempDir());
    const bytes = Buffer.from([0, 1, 2, 255]);
    const hash = await store.put(bytes);
    assert.equal(hash, sha256(bytes));
    // A view into a larger buffer: only the viewed bytes count.
    const view = new Uint8Array(new Uint8Array([9, 9, 0, 1, 2, 255, 9]).buffer, 2, 4);
    assert.equal(await store.put(view), hash);
    assert.deepEqual(await store.getBytes(hash), bytes);
    await assert.rejects(store.getJson(hash), /is not JSON/);
  });

  it('survives many concurrent puts of the same content', async () => {
    const root = tempDir();
    const store = new FileArtifactStore(root);
    const value = { big: 'x'.repeat(100_000) };
    const hashes = await Promise.all(Array.from({ length: 50 }, () => store.put(value)));
    assert.equal(new Set(hashes).size, 1);
    assert.deepEqual(storedFiles(root), [`${hashes[0]!.slice(0, 2)}/${hashes[0]}`]);
    assert.deepEqual(await store.getJson(hashes[0]!), value);
  });

  it('refuses unknown, malformed and damaged hashes', async () => {
    const root = tempDir();
    const store = new FileArtifactStore(root);
    const missing = sha256('nothing');
    assert.equal(await store.has(missing), false);
    assert.equal(await store.has('../../etc/passwd'), false);
    await assert.rejects(store.getJson(missing), /no artifact/);
    await assert.rejects(store.getBytes('../escape'), /invalid artifact hash/);
    const hash = await store.put({ a: 1 });
    writeFileSync(blobFile(root, hash), '{"a":2}');
    await assert.rejects(store.getJson(hash), /damaged/);
  });
});

describe('garbage collection', () => {
  it('gcArtifacts keeps what kept runs refer to and what is new, and deletes the rest', async () => {
    const root = tempDir();
    const storage = new FileRunStorage(root);
    const store = new FileArtifactStore(root);
    const inJournal = await store.put({ journal: true });
    const inRecordOnly = await store.put({ record: true });
    const ofDroppedRun = await store.put({ dropped: true });
    const orphan = await store.put(Buffer.from('orphan'));
    await storeRun(storage, runWithOutput('kept', inJournal));
    await storage.writeRecord({ ...replayEvents(runWithOutput('kept', inJournal))!, nodes: { z: { state: 'success', attempts: 1, iterations: 0, outputRef: inRecordOnly, timeline: [] } } });
    await storeRun(storage, runWithOutput('dropped', ofDroppedRun));
    const leftover = join(artifactsDir(root), 'ab', 'ab12.1234-cafe.tmp');
    mkdirSync(join(artifactsDir(root), 'ab'), { recursive: true });
    writeFileSync(leftover, 'partial');

    // Within the grace period nothing goes: a running node stores before it journals.
    assert.deepEqual(await gcArtifacts(root, ['kept']), { artifactsRemoved: 0, bytesFreed: 0 });

    const result = await gcArtifacts(root, ['kept'], later);
    assert.equal(result.artifactsRemoved, 2);
    assert.equal(result.bytesFreed, '{"dropped":true}'.length + 'orphan'.length + 'partial'.length);
    for (const kept of [inJournal, inRecordOnly]) assert.equal(await store.has(kept), true);
    for (const gone of [ofDroppedRun, orphan]) assert.equal(await store.has(gone), false);
    assert.ok(!existsSync(leftover));
  });

  it('a put of existing content renews it, so a concurrent gc keeps it', async () => {
    const root = tempDir();
    const store = new FileArtifactStore(root);
    const hash = await store.put({ v: 1 });
    const clock = { now: () => Date.now() + 2 * HOUR };
    // Stored "three hours ago", then put again by a running node "now" (two hours ahead).
    const old = new Date(Date.now() - 3 * HOUR);
    utimesSync(blobFile(root, hash), old, old);
    assert.equal(await store.put({ v: 1 }), hash);
    assert.equal((await gcArtifacts(root, [], { ...clock, minAgeMs: 3 * HOUR })).artifactsRemoved, 0);
    assert.equal((await gcArtifacts(root, [], clock)).artifactsRemoved, 1);
  });

  it('collectGarbage keeps the newest N runs and every running one, then drops unreferenced artifacts', async () => {
    const root = tempDir();
    const storage = new FileRunStorage(root);
    const store = new FileArtifactStore(root);
    const shared = await store.put({ shared: true });
    const refs: Record<string, string> = {};
    const ids = ['20260101-000000-000001', '20260101-000000-000002', '20260101-000000-000003', '20260101-000000-000004', '20260101-000000-000005'];
    for (const id of ids) {
      refs[id] = await store.put({ of: id });
      // The oldest run never finished (its process died): it must survive any gc.
      await storeRun(storage, runWithOutput(id, refs[id]!, id === ids[0] ? 'running' : 'finished'));
    }
    // The newest run also uses an artifact an old, removed run used.
    await storeRun(storage, runWithOutput('20260101-000000-000006', shared));
    await storeRun(storage, runWithOutput('20251231-000000-000000', shared));
    const sizeOfRemoved = ['20260101-000000-000002', '20260101-000000-000003', '20251231-000000-000000']
      .map((id) => readFileSync(runPaths(root, id).journal).length)
      .reduce((a, b) => a + b);

    const result = await collectGarbage(root, storage, 3, later);

    assert.deepEqual(
      (await storage.list()).map((r) => r.runId),
      ['20260101-000000-000006', '20260101-000000-000005', '20260101-000000-000004', '20260101-000000-000001'],
    );
    assert.equal(result.runsRemoved, 3);
    assert.equal(result.artifactsRemoved, 2);
    assert.equal(result.bytesFreed, sizeOfRemoved + canonicalJson({ of: ids[1] }).length + canonicalJson({ of: ids[2] }).length);
    assert.equal(await store.has(shared), true);
    assert.equal(await store.has(refs[ids[0]!]!), true);
    assert.equal(await store.has(refs[ids[1]!]!), false);

    assert.deepEqual(await collectGarbage(root, storage, 3, later), { runsRemoved: 0, artifactsRemoved: 0, cacheEntriesRemoved: 0, bytesFreed: 0 });
    await assert.rejects(collectGarbage(root, storage, -1), RangeError);
  });
});
