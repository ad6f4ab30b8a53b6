import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compactHandoff } from '../../src/core/conductor/compact';
import { appendHandoff } from '../../src/core/conductor/handoff';
import { NO_ROOM } from '../../src/core/context/pack';
import { CHARS_PER_TOKEN_READ, gatherContext, TITLES } from '../../src/core/context/sources';
import { nodeRig, scratchDir, testInstrument } from './nodeContext';

function write(root: string, path: string, text: string | Buffer): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
}

const brief = (g: Awaited<ReturnType<typeof gatherContext>>) => g.sections.map((s) => `${s.tier} ${s.title}`);

describe('context sources', () => {
  function workspace() {
    const rig = nodeRig();
    const instrument = testInstrument({ handles: ['db/**'], file: join(rig.root, 'ensembles', 'backend', 'database.yaml') });
    write(rig.root, 'ensembles/backend/summary.txt', 'Backend summary.\n');
    write(rig.root, 'production.md', '## Constraints\n\n- Keep it small.\n\n## Deliverables\n\n- A report\n');
    write(rig.root, 'db/a.sql', 'select 1;\n');
    write(rig.root, 'db/b.sql', 'select 2;\n');
    write(rig.root, 'src/x.ts', 'export {};\n');
    return { rig, instrument };
  }

  it('gathers MUST READ, SHOULD KNOW and REFERENCE IF NEEDED in order', async () => {
    const { rig, instrument } = workspace();
    for (let i = 0; i < 7; i++) await appendHandoff(rig.root, { nickname: 'Tuba', summary: `Turn ${i}.`, at: new Date(Date.UTC(2026, 1, 1, i)) });
    const g = await gatherContext(rig.ctx, instrument, { prompt: 'Look at `src/x.ts`, `db/a.sql` and `nope.ts`.', files: ['db/b.sql'], tiers: ['should', 'reference'], budget: 10_000 });
    assert.deepEqual(brief(g), [
      'must Task',
      `must ${TITLES.constraints}`,
      `should ${TITLES.handoff}`,
      `should ${TITLES.summary('ensembles/backend/summary.txt')}`,
      `should ${TITLES.goals}`,
      'should src/x.ts',
      'should db/a.sql',
      'should db/b.sql',
      `reference ${TITLES.olderHandoff}`,
    ]);
    assert.deepEqual(g.omitted, []);
    assert.equal(g.sections[1]!.text, '- Keep it small.');
    assert.ok(g.sections.filter((s) => s.title.endsWith('.sql') || s.title.endsWith('.ts')).every((s) => s.code));
    assert.match(g.sections[8]!.text, /^- 2026-02-01T01:00:00\.000Z Tuba: Turn 1\.\n- 2026-02-01T00:00:00\.000Z Tuba: Turn 0\.$/);
  });

  it('without tiers gathers the prompt and `files` only', async () => {
    const { rig, instrument } = workspace();
    await appendHandoff(rig.root, { nickname: 'Tuba', summary: 'x' });
    const g = await gatherContext(rig.ctx, instrument, { prompt: 'See `src/x.ts`.', files: ['db/**'], budget: 10_000 });
    assert.deepEqual(brief(g), ['must Task', 'should db/a.sql', 'should db/b.sql']);
    const none = await gatherContext(rig.ctx, instrument, { prompt: 'See `src/x.ts`.', tiers: [], budget: 10_000 });
    assert.deepEqual(brief(none), ['must Task', `must ${TITLES.constraints}`]);
  });

  it('puts the digest of a compacted handoff.md in SHOULD KNOW', async () => {
    const { rig, instrument } = workspace();
    for (let i = 0; i < 30; i++) await appendHandoff(rig.root, { nickname: i % 2 ? 'Oboe' : 'Tuba', summary: `Turn ${i} changed the parser of the service.` });
    await compactHandoff(rig.root, { keep: 8 });
    const g = await gatherContext(rig.ctx, instrument, { prompt: 'x', tiers: ['should'], budget: 10_000 });
    const log = g.sections.find((s) => s.title === TITLES.handoff)!.text;
    assert.match(log, /^Compacted earlier \(the digest in handoff\.md\):\n\n22 entries from .* compacted; they are in handoff\.archive\.md\.\n\n- \*\*Oboe\*\*: 11 turns/);
    assert.match(log, /\n\n3 older entries in handoff\.md, by instrument:\n/);
    assert.match(log, /\n\nNewest 5 entries, newest first:\n- \S+ Oboe: Turn 29 /);
  });

  it('turns refusals, binary files and bad globs into omissions, and reads no more than could fit', async () => {
    const parent = scratchDir();
    const root = join(parent, 'ws');
    write(parent, 'outside.txt', 'secret\n');
    write(root, 'db/a.sql', 'select 1;\n');
    write(root, 'db/blob.bin', Buffer.from([1, 0, 2]));
    write(root, 'private/p.md', 'private\n');
    write(root, 'production.md', '## Constraints\n\n- c\n');
    for (let i = 0; i < 5; i++) write(root, `db/big${i}.sql`, 'x'.repeat(3000));
    const rig = nodeRig({ root, permissions: { fs: { read: ['db/**', 'production.md'] } } });
    const instrument = testInstrument({ handles: ['db/**', '../**'] });

    const g = await gatherContext(rig.ctx, instrument, { prompt: 'Read `private/p.md` and `../outside.txt`.', tiers: ['should', 'reference'], budget: 300 });

    assert.deepEqual(
      g.omitted.map((o) => [o.title, o.reason.replace(/\(.*\)/, '(…)')]),
      [
        ['private/p.md', 'permissions.fs.read does not allow reading private/p.md (…)'],
        ['../outside.txt', `../outside.txt is outside the workspace (…); melodies may only touch files inside it`],
        [`${instrument.ref} handles`, `${instrument.ref} handles: ../** reaches outside the workspace; globs are relative to the workspace root`],
      ],
    );
    // The handles glob that reaches outside spoils the whole list: nothing of db/ was listed.
    // 600 tokens of budget: about 4,800 characters are read (CHARS_PER_TOKEN_READ), then no more.
    const ok = await gatherContext(rig.ctx, testInstrument({ handles: ['db/**'] }), { prompt: 'x', tiers: ['reference'], budget: 600 });
    assert.equal(CHARS_PER_TOKEN_READ, 8);
    assert.deepEqual(brief(ok), ['must Task', `must ${TITLES.constraints}`, 'reference db/a.sql', 'reference db/big0.sql', 'reference db/big1.sql']);
    assert.deepEqual(ok.omitted, [
      { title: 'db/big2.sql', reason: NO_ROOM },
      { title: 'db/big3.sql', reason: NO_ROOM },
      { title: 'db/big4.sql', reason: NO_ROOM },
      { title: 'db/blob.bin', reason: NO_ROOM },
    ]);
    const roomy = await gatherContext(rig.ctx, testInstrument({ handles: ['db/**'] }), { prompt: 'x', tiers: ['reference'], budget: 3000 });
    assert.deepEqual(roomy.omitted, [{ title: 'db/blob.bin', reason: 'binary' }]);
  });
});
