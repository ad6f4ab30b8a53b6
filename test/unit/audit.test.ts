import * as assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import * as fc from 'fast-check';
import { canonicalJson, isIndex, sha256 } from '../../src/core/engine/hash';
import { AuditDamagedError, auditPath, FileAuditLog, GENESIS_HASH, verifyAudit } from '../../src/core/store/audit';
import { anyValue } from './arbitraries';
import { tempDir } from './helpers';
import { runChild, sampleAudit } from './storeFixtures';

/** A log of `n` records, and its lines. */
async function logOf(n: number): Promise<{ root: string; lines: string[] }> {
  const root = tempDir();
  const audit = new FileAuditLog(root, { now: () => new Date('2026-01-01T00:00:00.000Z') });
  for (let i = 0; i < n; i++) await audit.append({ action: 'node-finished', runId: 'r1', nodeId: `n${i}`, actor: 'cli', detail: { status: 'success', i } });
  return { root, lines: readFileSync(auditPath(root), 'utf8').split('\n').slice(0, -1) };
}

function rewrite(root: string, lines: readonly string[], end = '\n'): void {
  writeFileSync(auditPath(root), lines.join('\n') + end);
}

/** Re-signs a line after editing it, as a forger who knows the format would. */
function resign(line: string, edit: (r: Record<string, unknown>) => void): string {
  const r = JSON.parse(line) as Record<string, unknown>;
  edit(r);
  delete r.hash;
  return JSON.stringify({ ...r, hash: sha256(canonicalJson(r)) });
}

describe('FileAuditLog', () => {
  it('writes each line as its chain fields, then the entry in canonical JSON, and verifies it', async () => {
    const root = tempDir();
    const at = '2026-01-01T00:00:00.000Z';
    const audit = new FileAuditLog(root, { now: () => new Date(at) });
    const entries = [
      { action: 'node-finished', runId: 'r1', nodeId: 'b', actor: 'cli', detail: { z: 1, a: [2, undefined, { y: 'é"\n', b: null }], error: undefined, big: 3n } },
      { action: 'approval', runId: 'r1', actor: 'cli', seq: 99, hash: 'forged', detail: { '10': 'x', '2': 'y', k: true } },
      { '0': 'an index key', action: 'odd', runId: 'r1', actor: 'cli', detail: {} },
    ];
    for (const e of entries) await audit.append(e as never);
    const lines = readFileSync(auditPath(root), 'utf8').split('\n').slice(0, -1);
    // The layout every earlier version wrote: seq, at, prev, hash, then the entry's members.
    let prev = GENESIS_HASH;
    for (const [i, e] of entries.entries()) {
      const plain = JSON.parse(canonicalJson(e)) as Record<string, unknown>;
      for (const f of ['seq', 'at', 'prev', 'hash']) delete plain[f];
      const hash = sha256(canonicalJson({ seq: i + 1, at, prev, ...plain }));
      assert.equal(lines[i], JSON.stringify({ seq: i + 1, at, prev, hash, ...plain }));
      prev = hash;
    }
    assert.deepEqual(await verifyAudit(root), { ok: true, records: 3, head: prev, anchored: 0 });
  });

  it('writes, for any entry, the very lines and hashes the original two-pass writer wrote', async () => {
    // The writer merges the chain fields into the entry's canonical members instead of writing
    // the entry twice; the lines and hashes already in users' logs must come out byte for byte.
    const key = fc.oneof(fc.string(), fc.constantFrom('0', '7', '10', '01', 'action', 'actor', 'at', 'prev', 'seq', 'hash', 'b', 'q', 'z', 'A', '_', 'é', '__proto__', 'toJSON'));
    const value = anyValue(key);
    const entry = fc.record({ action: fc.string(), runId: fc.string(), actor: fc.string(), nodeId: fc.option(fc.string(), { nil: undefined }), detail: fc.dictionary(key, value, { maxKeys: 4 }) }).chain((e) =>
      fc.dictionary(key, value, { maxKeys: 3 }).map((extra) => ({ ...extra, ...e })),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 4 }), async (entries) => {
        const root = tempDir();
        const at = '2026-01-01T00:00:00.000Z';
        const audit = new FileAuditLog(root, { now: () => new Date(at) });
        await Promise.all(entries.map((e) => audit.append(e as never)));
        const lines = readFileSync(auditPath(root), 'utf8').split('\n').slice(0, -1);
        let prev = GENESIS_HASH;
        for (const [i, e] of entries.entries()) {
          const fields: Record<string, unknown> = { ...e };
          for (const f of ['seq', 'at', 'prev', 'hash']) delete fields[f];
          const seq = i + 1;
          const hash = sha256(canonicalJson({ ...fields, seq, at, prev }));
          const text = canonicalJson(fields);
          const expected = Object.keys(fields).some(isIndex)
            ? JSON.stringify({ seq, at, prev, hash, ...(JSON.parse(text) as object) })
            : `{"seq":${seq},"at":${JSON.stringify(at)},"prev":${JSON.stringify(prev)},"hash":${JSON.stringify(hash)}${text === '{}' ? '' : `,${text.slice(1)}`}`;
          assert.equal(lines[i], expected);
          prev = hash;
        }
      }),
      { numRuns: 150 },
    );
  });

  it('chains each record to the one before, starting from the genesis hash', async () => {
    const { root, lines } = await logOf(3);
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      records.map((r) => r.seq),
      [1, 2, 3],
    );
    assert.equal(records[0]!.prev, GENESIS_HASH);
    for (const [i, r] of records.entries()) {
      const { hash, ...body } = r;
      assert.equal(hash, sha256(canonicalJson(body)));
      if (i > 0) assert.equal(r.prev, records[i - 1]!.hash);
    }
    assert.deepEqual(Object.keys(records[0]!), ['seq', 'at', 'prev', 'hash', 'action', 'actor', 'detail', 'nodeId', 'runId']);
    assert.deepEqual(await verifyAudit(root), { ok: true, records: 3, head: records[2]!.hash, anchored: 0 });
  });

  it('never lets an entry overwrite the chain fields', async () => {
    const root = tempDir();
    const audit = new FileAuditLog(root);
    await audit.append({ action: 'x', seq: 99, prev: 'forged', hash: 'forged' } as never);
    const line = JSON.parse(readFileSync(auditPath(root), 'utf8')) as Record<string, unknown>;
    assert.equal(line.seq, 1);
    assert.equal(line.prev, GENESIS_HASH);
    assert.equal((await verifyAudit(root)).ok, true);
  });

  it('treats a missing log as valid and empty', async () => {
    assert.deepEqual(await verifyAudit(tempDir()), { ok: true, records: 0, head: GENESIS_HASH, anchored: 0 });
  });

  describe('verifyAudit names the first bad line', () => {
    it('an edited field', async () => {
      const { root, lines } = await logOf(5);
      lines[2] = lines[2]!.replace('"status":"success"', '"status":"failure"');
      rewrite(root, lines);
      assert.deepEqual(await verifyAudit(root), { ok: false, line: 3, reason: 'hash does not match the record: it was edited' });
    });

    it('an edited and re-signed record (breaks the next link)', async () => {
      const { root, lines } = await logOf(5);
      lines[2] = resign(lines[2]!, (r) => (r.actor = 'someone else'));
      rewrite(root, lines);
      const result = await verifyAudit(root);
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.line, 4);
      assert.match(!result.ok ? result.reason : '', /prev does not match the hash of line 3/);
    });

    it('a deleted line', async () => {
      const { root, lines } = await logOf(5);
      lines.splice(1, 1);
      rewrite(root, lines);
      assert.deepEqual(await verifyAudit(root), { ok: false, line: 2, reason: 'seq is 3, expected 2: a record was deleted, inserted or moved' });
    });

    it('the first line deleted', async () => {
      const { root, lines } = await logOf(3);
      rewrite(root, lines.slice(1));
      assert.equal((await verifyAudit(root) as { line: number }).line, 1);
    });

    it('two lines swapped', async () => {
      const { root, lines } = await logOf(5);
      [lines[3], lines[4]] = [lines[4]!, lines[3]!];
      rewrite(root, lines);
      assert.deepEqual(await verifyAudit(root), { ok: false, line: 4, reason: 'seq is 5, expected 4: a record was deleted, inserted or moved' });
    });

    it('an inserted line, even one with the right seq and prev', async () => {
      const { root, lines } = await logOf(4);
      const forged = resign(lines[1]!, (r) => {
        r.seq = 3;
        r.prev = JSON.parse(lines[1]!).hash;
        r.action = 'forged';
      });
      lines.splice(2, 0, forged);
      rewrite(root, lines);
      assert.deepEqual(await verifyAudit(root), { ok: false, line: 4, reason: 'seq is 3, expected 4: a record was deleted, inserted or moved' });
    });

    it('a file cut in the middle of a line', async () => {
      const { root, lines } = await logOf(5);
      const text = readFileSync(auditPath(root), 'utf8');
      writeFileSync(auditPath(root), text.slice(0, text.length - Math.floor(lines[4]!.length / 2)));
      assert.deepEqual(await verifyAudit(root), { ok: false, line: 5, reason: 'incomplete last line: the file was cut or an append was interrupted' });
    });

    it('a line that is not JSON', async () => {
      const { root, lines } = await logOf(3);
      lines[1] = lines[1]!.slice(0, -1);
      rewrite(root, lines);
      assert.deepEqual(await verifyAudit(root), { ok: false, line: 2, reason: 'not valid JSON' });
    });
  });

  it('neither drops nor chains onto a line cut short: it stops, naming the line', async () => {
    const { root, lines } = await logOf(2);
    appendFileSync(auditPath(root), lines[1]!.slice(0, 30));
    const cut = readFileSync(auditPath(root));
    await assert.rejects(new FileAuditLog(root).append({ action: 'after-crash' }), (e: unknown) => {
      assert.ok(e instanceof AuditDamagedError);
      assert.equal(e.line, 3);
      assert.match(e.message, /^the audit log \.symphony\/audit\.jsonl is damaged: its last line \(3\) is cut off .*run `symphony audit verify`/);
      return true;
    });
    assert.deepEqual(readFileSync(auditPath(root)), cut, 'the log is left as it was');
    // Repaired (here: the cut record removed by hand), auditing goes on.
    writeFileSync(auditPath(root), lines.join('\n') + '\n');
    await new FileAuditLog(root).append({ action: 'after-repair' });
    const result = await verifyAudit(root);
    assert.equal(result.ok && result.records, 3);
  });

  it('refuses to chain onto a damaged last record', async () => {
    const { root, lines } = await logOf(2);
    rewrite(root, [lines[0]!, '{"not":"a record"}']);
    await assert.rejects(new FileAuditLog(root).append({ action: 'x' }), /its last line \(2\) is not a record/);
  });

  it('resolves each append with its place in the chain', async () => {
    const root = tempDir();
    const audit = new FileAuditLog(root);
    const heads = await Promise.all([audit.append({ action: 'a' }), audit.append({ action: 'b' })]);
    const hashes = readFileSync(auditPath(root), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { hash: string }).hash);
    assert.deepEqual(heads, [
      { seq: 1, hash: hashes[0] },
      { seq: 2, hash: hashes[1] },
    ]);
  });

  describe('verifyAudit checks the anchors runs keep', () => {
    it('passes while each anchored record is in place', async () => {
      const { root, lines } = await logOf(4);
      const anchors = [2, 4].map((seq) => ({ runId: `r${seq}`, seq, hash: (JSON.parse(lines[seq - 1]!) as { hash: string }).hash }));
      const result = await verifyAudit(root, { anchors });
      assert.equal(result.ok && result.anchored, 2);
    });

    it('names the run whose record was cut off the end', async () => {
      const { root, lines } = await logOf(4);
      const anchors = [2, 4].map((seq) => ({ runId: `r${seq}`, seq, hash: (JSON.parse(lines[seq - 1]!) as { hash: string }).hash }));
      rewrite(root, lines.slice(0, 3));
      const result = await verifyAudit(root, { anchors });
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.line, 4);
      assert.match(!result.ok ? result.reason : '', /^audit\.jsonl ends at record 3, before record 4 that run r4 anchored \(hash [0-9a-f]{12}…\): records were cut off its end$/);
      // Emptied entirely: still noticed.
      rewrite(root, [], '');
      assert.equal((await verifyAudit(root, { anchors })).ok, false);
    });

    it('names a record rewritten after the run that anchored it (chain forged anew)', async () => {
      const { root, lines } = await logOf(3);
      const anchors = [{ runId: 'r3', seq: 3, hash: (JSON.parse(lines[2]!) as { hash: string }).hash }];
      lines[2] = resign(lines[2]!, (r) => (r.action = 'forged'));
      rewrite(root, lines);
      assert.deepEqual(await verifyAudit(root, { anchors }), {
        ok: false,
        line: 3,
        reason: `this is not the record run r3 anchored here (hash ${anchors[0]!.hash.slice(0, 12)}…): the log was rewritten after that run ended`,
      });
    });
  });

  it('keeps one chain when this process and three others append at once', async function () {
    this.timeout(60_000);
    const root = tempDir();
    const audit = new FileAuditLog(root);
    await Promise.all([
      ...Array.from({ length: 40 }, (_, i) => audit.append(sampleAudit('parent', i))),
      runChild('audit', root, 'c1', 40),
      runChild('audit', root, 'c2', 40),
      runChild('audit', root, 'c3', 40),
    ]);
    const result = await verifyAudit(root);
    assert.deepEqual(result.ok && result.records, 160);
    const records = readFileSync(auditPath(root), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { actor: string; detail: { i: number } });
    for (const tag of ['parent', 'c1', 'c2', 'c3']) {
      const mine = records.filter((r) => r.actor === tag).map((r) => r.detail.i);
      assert.deepEqual(
        mine.sort((a, b) => a - b),
        Array.from({ length: 40 }, (_, i) => i),
        tag,
      );
    }
  });
});
