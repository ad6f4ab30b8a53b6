import * as assert from 'node:assert/strict';
import * as fc from 'fast-check';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARCHIVE_FILE, compactHandoff, readHandoff, splitHandoff } from '../../src/core/conductor/compact';
import { digestEntries, handoffDigest, handoffHistory } from '../../src/core/conductor/digest';
import { appendHandoff, formatHandoffEntry, parseHandoff, type HandoffEntry, type HandoffInput } from '../../src/core/conductor/handoff';
import { countTokens } from '../../src/core/providers/tokens';
import { tempDir } from './helpers';

const day = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, i));
const NICKS = ['Tuba', 'Oboe', 'Viola'];

/** The i-th entry of a scripted log. */
function entry(i: number, extra: Partial<HandoffInput> = {}): HandoffInput {
  const nickname = NICKS[i % 3]!;
  return {
    nickname,
    instrument: `${nickname.toLowerCase()}/player`,
    model: 'llama3.1',
    tokens: { input: 100 + i, output: 10 + i },
    files: [`src/${nickname.toLowerCase()}/${i % 4}.ts`],
    summary: `Turn ${i} by ${nickname}. It changed the ${['schema', 'parser', 'tests', 'docs'][i % 4]} of the service carefully.`,
    at: day(i),
    ...extra,
  };
}

async function logOf(root: string, n: number, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++) await appendHandoff(root, entry(i));
}

const read = (root: string, file: string) => readFileSync(join(root, file), 'utf8');
const key = (e: HandoffEntry) => JSON.stringify(e);

describe('handoff.md compaction', () => {
  it('moves the entries older than the newest N to the archive and writes a digest after the header', async () => {
    const root = tempDir();
    await logOf(root, 12);
    const before = parseHandoff(read(root, 'handoff.md'));

    const r = await compactHandoff(root, { keep: 4 });

    assert.deepEqual(r, { moved: 8, kept: 4, archived: 8, from: day(0).toISOString(), to: day(7).toISOString() });
    const text = read(root, 'handoff.md');
    assert.deepEqual(parseHandoff(text), before.slice(8));
    assert.deepEqual(parseHandoff(read(root, ARCHIVE_FILE)), before.slice(0, 8));
    assert.match(read(root, ARCHIVE_FILE), /^# Handoff Archive\n/);
    // The header stays first, the digest follows it, then the entries kept.
    assert.match(text, /^# Handoff Log\n[\s\S]*?\n---\n\n## Digest\n\n<!-- Written by `symphony handoff compact` from the 8 entries of handoff\.archive\.md; edits here are replaced\. -->\n\n8 entries from 2026-01-01T00:00:00\.000Z to 2026-01-01T00:07:00\.000Z, compacted; they are in handoff\.archive\.md\.\n\n- \*\*Oboe\*\*/);
    assert.match(text, /\n- \*\*Tuba\*\* \(tuba\/player\): 3 turns, 2026-01-01T00:00:00\.000Z to 2026-01-01T00:06:00\.000Z, 309 in \/ 39 out tokens\n {2}- Files \(3\): src\/tuba\/2\.ts, src\/tuba\/3\.ts, src\/tuba\/0\.ts\n {2}- Recent work: It changed the schema of the service carefully\. It changed the docs of the service carefully\.\n/);
    assert.match(text, /\n\n---\n\n### 2026-01-01T00:08:00\.000Z — Viola\n/);
    const { digest, entries } = readHandoff(text);
    assert.equal(entries.length, 4);
    assert.match(digest!, /^8 entries from/);
  });

  it('is idempotent, and appending and compacting again only ever adds to the archive', async () => {
    const root = tempDir();
    await logOf(root, 10);
    await compactHandoff(root, { keep: 3 });
    const once = [read(root, 'handoff.md'), read(root, ARCHIVE_FILE)];
    assert.deepEqual(await compactHandoff(root, { keep: 3 }), { moved: 0, kept: 3, archived: 7 });
    assert.deepEqual([read(root, 'handoff.md'), read(root, ARCHIVE_FILE)], once);

    await logOf(root, 5, 10);
    assert.deepEqual(parseHandoff(read(root, 'handoff.md')).map((e) => e.at), [7, 8, 9, 10, 11, 12, 13, 14].map((i) => day(i).toISOString()));
    const r = await compactHandoff(root, { keep: 2 });
    assert.deepEqual([r.moved, r.kept, r.archived], [6, 2, 13]);
    assert.ok(read(root, ARCHIVE_FILE).startsWith(once[1]!), 'the archive is only appended to');
    assert.deepEqual(parseHandoff(read(root, ARCHIVE_FILE)).map((e) => e.at), [...Array(13).keys()].map((i) => day(i).toISOString()));
    assert.match(read(root, 'handoff.md'), /from the 13 entries of handoff\.archive\.md[\s\S]*\n13 entries from 2026-01-01T00:00:00\.000Z to 2026-01-01T00:12:00\.000Z/);
    assert.equal(read(root, 'handoff.md').split('## Digest').length, 2, 'one digest');
  });

  it('keeps hand-written text: the header, notes between entries move with the entry before them', async () => {
    const root = tempDir();
    const header = '# Our log\n\nWritten by hand.\n';
    writeFileSync(join(root, 'handoff.md'), `${header}\n${formatHandoffEntry(entry(0))}\na note after the first entry\n\n${formatHandoffEntry(entry(1))}\n${formatHandoffEntry(entry(2))}`);
    await compactHandoff(root, { keep: 1 });
    const text = read(root, 'handoff.md');
    assert.ok(text.startsWith(`${header}\n## Digest\n`));
    assert.match(read(root, ARCHIVE_FILE), /\n---\n\na note after the first entry\n\n### 2026-01-01T00:01:00\.000Z — Oboe\n/);
    assert.ok(text.endsWith(formatHandoffEntry(entry(2))));
  });

  it('with keep 0 moves everything, and appends after the digest', async () => {
    const root = tempDir();
    await logOf(root, 3);
    await compactHandoff(root, { keep: 0 });
    assert.deepEqual(parseHandoff(read(root, 'handoff.md')), []);
    await appendHandoff(root, entry(3));
    assert.deepEqual(parseHandoff(read(root, 'handoff.md')).map((e) => e.nickname), ['Tuba']);
    assert.match(read(root, 'handoff.md'), /\n---\n\n### 2026-01-01T00:03:00\.000Z — Tuba\n/);
  });

  it('does nothing without a handoff.md', async () => {
    const root = tempDir();
    assert.deepEqual(await compactHandoff(root, { keep: 5 }), { moved: 0, kept: 0, archived: 0 });
    assert.ok(!existsSync(join(root, 'handoff.md')) && !existsSync(join(root, ARCHIVE_FILE)));
  });

  it('after a crash between its two writes, does not archive the same entries twice', async () => {
    const root = tempDir();
    await logOf(root, 6);
    const original = read(root, 'handoff.md');
    await compactHandoff(root, { keep: 2 });
    // As if handoff.md had not been replaced: the archive holds entries 0–3, handoff.md all six.
    writeFileSync(join(root, 'handoff.md'), original);
    const r = await compactHandoff(root, { keep: 2 });
    assert.deepEqual([r.moved, r.archived], [4, 4]);
    assert.deepEqual(parseHandoff(read(root, ARCHIVE_FILE)).map((e) => e.at), [0, 1, 2, 3].map((i) => day(i).toISOString()));
  });

  it('takes the lock appends take: compacting while others append loses nothing', async function () {
    this.timeout(60_000);
    const root = tempDir();
    await logOf(root, 20);
    await Promise.all([...Array.from({ length: 40 }, (_, i) => appendHandoff(root, entry(20 + i))), compactHandoff(root, { keep: 5 }), compactHandoff(root, { keep: 10 })]);
    const all = [...parseHandoff(read(root, ARCHIVE_FILE)), ...parseHandoff(read(root, 'handoff.md'))];
    assert.deepEqual(all.map((e) => e.at).sort(), [...Array(60).keys()].map((i) => day(i).toISOString()).sort());
  });

  it('never loses or duplicates an entry, whatever is appended and compacted in what order (property)', async function () {
    this.timeout(240_000);
    const op = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), summary: fc.string({ maxLength: 80 }), nickname: fc.constantFrom(...NICKS, 'Oboe — second'), files: fc.array(fc.constantFrom('a.ts', 'b/c.md'), { maxLength: 2 }) }),
      fc.record({ kind: fc.constant('compact' as const), keep: fc.integer({ min: 0, max: 6 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const root = tempDir('symphony-compact-');
        const appended: HandoffEntry[] = [];
        let n = 0;
        for (const o of ops) {
          if (o.kind === 'append') {
            const input: HandoffInput = { nickname: o.nickname, summary: o.summary.trim() ? o.summary : 'x', files: o.files, at: day(n++) };
            await appendHandoff(root, input);
            appended.push(parseHandoff(formatHandoffEntry(input))[0]!);
          } else {
            const before = existsSync(join(root, 'handoff.md')) ? [read(root, 'handoff.md'), existsSync(join(root, ARCHIVE_FILE)) ? read(root, ARCHIVE_FILE) : ''] : undefined;
            const r = await compactHandoff(root, { keep: o.keep });
            if (r.moved === 0 && before) assert.deepEqual([read(root, 'handoff.md'), existsSync(join(root, ARCHIVE_FILE)) ? read(root, ARCHIVE_FILE) : ''], before);
            const again = await compactHandoff(root, { keep: o.keep });
            assert.equal(again.moved, 0, 'idempotent');
          }
          const archived = existsSync(join(root, ARCHIVE_FILE)) ? parseHandoff(read(root, ARCHIVE_FILE)) : [];
          const current = existsSync(join(root, 'handoff.md')) ? parseHandoff(read(root, 'handoff.md')) : [];
          // The same entries in the same order: the archive, then what is left.
          assert.deepEqual([...archived, ...current].map(key), appended.map(key));
        }
      }),
      { numRuns: 40, seed: 11 },
    );
  });

  it('splits a file with no entries into its preamble alone', () => {
    assert.deepEqual(splitHandoff('# Handoff Log\n\n---\n'), { preamble: '# Handoff Log\n\n---\n', between: '', chunks: [] });
  });
});

describe('handoff digests', () => {
  const entries = (n: number): HandoffEntry[] => parseHandoff(Array.from({ length: n }, (_, i) => formatHandoffEntry(entry(i))).join('\n'));

  it('sums up each instrument, the most recently active first', () => {
    const d = digestEntries(entries(7));
    assert.deepEqual(
      d.map((x) => [x.nickname, x.turns, x.tokens, x.first, x.last, x.files]),
      [
        ['Tuba', 3, { input: 309, output: 39 }, day(0).toISOString(), day(6).toISOString(), ['src/tuba/2.ts', 'src/tuba/3.ts', 'src/tuba/0.ts']],
        ['Viola', 2, { input: 207, output: 27 }, day(2).toISOString(), day(5).toISOString(), ['src/viola/1.ts', 'src/viola/2.ts']],
        ['Oboe', 2, { input: 205, output: 25 }, day(1).toISOString(), day(4).toISOString(), ['src/oboe/0.ts', 'src/oboe/1.ts']],
      ],
    );
    assert.ok(d.every((x) => x.highlights.length > 0));
  });

  it('gives a prompt the newest entries, the stored digest and an overview, within its budget however long the log', function () {
    this.timeout(60_000);
    const few = handoffDigest(entries(3), 2000);
    assert.match(few, /^Newest 3 entries, newest first:\n- 2026-01-01T00:02:00\.000Z Viola \(viola\/player, llama3\.1, 102 in \/ 12 out tokens; files: src\/viola\/2\.ts\): Turn 2 by Viola\./);
    const many = entries(10_000);
    for (const budget of [50, 300, 2000]) {
      const text = handoffDigest(many, budget, { stored: '3 entries from x to y, compacted.' });
      assert.ok(countTokens(text) <= budget, `${countTokens(text)} > ${budget}`);
    }
    const text = handoffDigest(many, 2000, { stored: 'STORED' });
    assert.match(text, /^Compacted earlier \(the digest in handoff\.md\):\n\nSTORED\n\n9995 older entries in handoff\.md, by instrument:\n- \*\*Oboe\*\*/);
    assert.match(text, /\n\nNewest 5 entries, newest first:\n- 2026-01-07T22:39:00\.000Z Tuba/);
    assert.equal(handoffDigest([], 2000), '');
  });

  it('lists older entries newest first within a budget, then how many more', () => {
    const text = handoffHistory(entries(500), 400);
    assert.ok(countTokens(text) <= 400);
    assert.match(text, /^- 2026-01-01T08:19:00\.000Z Oboe /);
    assert.match(text, /\n- …and \d+ older entries not shown \(in handoff\.md, and handoff\.archive\.md once compacted\)$/);
  });
});
