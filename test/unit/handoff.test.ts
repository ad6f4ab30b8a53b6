import * as assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendHandoff, formatHandoffEntry, parseHandoff, type HandoffEntry, type HandoffInput } from '../../src/core/conductor/handoff';
import { REPO, tempDir } from './helpers';
import { runChild, sampleHandoff } from './storeFixtures';

const AT = new Date('2026-05-01T10:00:00.000Z');

/** What parseHandoff should give back for an input (the summary is stored trimmed). */
function expected(e: HandoffInput): HandoffEntry {
  return {
    at: (e.at ?? AT).toISOString(),
    nickname: e.nickname,
    ...(e.instrument ? { instrument: e.instrument } : {}),
    ...(e.model ? { model: e.model } : {}),
    ...(e.tokens ? { tokens: e.tokens } : {}),
    ...(e.files?.length ? { files: e.files } : {}),
    summary: e.summary.trim(),
  };
}

describe('handoff.md', () => {
  it('writes the documented entry shape', () => {
    const text = formatHandoffEntry({
      nickname: 'Tuba',
      instrument: 'backend/database',
      model: 'llama3.1',
      tokens: { input: 1200, output: 350 },
      files: ['db/schema.sql', 'src/db.ts'],
      summary: 'Added the users table.',
      at: AT,
    });
    assert.equal(
      text,
      [
        '### 2026-05-01T10:00:00.000Z — Tuba',
        '',
        '- Instrument: backend/database',
        '- Model: llama3.1',
        '- Tokens: 1200 in / 350 out',
        '- Files:',
        '  - db/schema.sql',
        '  - src/db.ts',
        '',
        'Added the users table.',
        '',
        '---',
        '',
      ].join('\n'),
    );
  });

  it('reads back summaries that look like structure, unchanged', () => {
    const tricky: HandoffInput = {
      nickname: 'Oboe',
      at: AT,
      summary: '- Model: not metadata\n\nFirst paragraph.\n---\n### not a heading\n#hashtag\n\\backslash\n\\---\n===\n\nLast.',
    };
    const plain: HandoffInput = { nickname: 'Viola — second chair', at: AT, summary: 'Only a summary.' };
    const text = formatHandoffEntry(tricky) + '\n' + formatHandoffEntry(plain);
    assert.deepEqual(parseHandoff(text), [expected(tricky), expected(plain)]);
  });

  it('keeps values on one line', () => {
    const [entry] = parseHandoff(formatHandoffEntry({ nickname: 'Tuba\n### evil', files: ['a\nb'], summary: 's', at: AT }));
    assert.equal(entry!.nickname, 'Tuba ### evil');
    assert.deepEqual(entry!.files, ['a b']);
    assert.throws(() => formatHandoffEntry({ nickname: '  ', summary: 's' }), /needs a nickname/);
  });

  it('creates handoff.md with a header, and appends after what is there', async () => {
    const root = tempDir();
    const first: HandoffInput = { nickname: 'Tuba', summary: 'one', at: AT };
    await appendHandoff(root, first);
    const created = readFileSync(join(root, 'handoff.md'), 'utf8');
    assert.match(created, /^# Handoff Log\n/);
    await appendHandoff(root, { ...first, nickname: 'Oboe' });
    assert.deepEqual(
      parseHandoff(readFileSync(join(root, 'handoff.md'), 'utf8')).map((e) => e.nickname),
      ['Tuba', 'Oboe'],
    );
    assert.ok(readFileSync(join(root, 'handoff.md'), 'utf8').startsWith(created));
  });

  it("appends to `symphony init`'s file and to a hand-edited one without a final newline", async () => {
    const root = tempDir();
    const path = join(root, 'handoff.md');
    copyFileSync(join(REPO, 'templates', 'init', 'handoff.md'), path);
    const template = readFileSync(path, 'utf8');
    await appendHandoff(root, { nickname: 'Tuba', summary: 'one', at: AT });
    assert.ok(readFileSync(path, 'utf8').startsWith(template));
    writeFileSync(path, `${readFileSync(path, 'utf8')}a note typed by hand`);
    await appendHandoff(root, { nickname: 'Oboe', summary: 'two', at: AT });
    const entries = parseHandoff(readFileSync(path, 'utf8'));
    assert.deepEqual(
      entries.map((e) => [e.nickname, e.summary]),
      [
        ['Tuba', 'one'],
        ['Oboe', 'two'],
      ],
    );
    assert.match(readFileSync(path, 'utf8'), /a note typed by hand\n\n### /);
  });

  it('never tears or interleaves entries appended at once by this process and four others', async function () {
    this.timeout(60_000);
    const root = tempDir();
    const parentCount = 200;
    const childCount = 50;
    const children = ['c1', 'c2', 'c3', 'c4'];
    await Promise.all([
      ...Array.from({ length: parentCount }, (_, i) => appendHandoff(root, sampleHandoff('parent', i))),
      ...children.map((tag) => runChild('handoff', root, tag, childCount)),
    ]);
    const text = readFileSync(join(root, 'handoff.md'), 'utf8');
    // Only the first append, whoever it was, saw a missing file.
    assert.equal(text.split('# Handoff Log').length, 2, 'one header');
    const entries = parseHandoff(text);
    assert.equal(entries.length, parentCount + children.length * childCount);
    const byNickname = new Map(entries.map((e) => [e.nickname, e]));
    assert.equal(byNickname.size, entries.length, 'every entry appears exactly once');
    for (const [tag, count] of [['parent', parentCount], ...children.map((c) => [c, childCount] as const)] as const) {
      for (let i = 0; i < count; i++) {
        const entry = byNickname.get(`${tag}-${i}`);
        assert.ok(entry, `${tag}-${i} is missing`);
        const { at, ...rest } = entry;
        assert.ok(!Number.isNaN(Date.parse(at)));
        const { at: _at, ...want } = expected(sampleHandoff(tag, i));
        assert.deepEqual(rest, want);
      }
    }
  });
});
