import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseHandoff } from '../../src/core/conductor/handoff';
import { cli, tempDir } from './helpers';

describe('symphony handoff compact', () => {
  function workspace(): string {
    const root = tempDir('symphony-cli-handoff-');
    writeFileSync(join(root, 'sheetMusic.md'), '# test\n');
    return root;
  }

  it('moves older entries to handoff.archive.md, keeping the newest N, and says what moved', async () => {
    const root = workspace();
    for (let i = 0; i < 5; i++) assert.equal((await cli(root, ['handoff', 'append', '--instrument', `Player${i}`, '--summary', `Turn ${i}.`])).code, 0);

    const r = await cli(root, ['handoff', 'compact', '--keep', '2']);

    assert.deepEqual([r.code, r.stderr], [0, '']);
    assert.match(r.stdout, /^moved 3 entries \(\S+ to \S+\) to handoff\.archive\.md, which now holds 3 entries; handoff\.md keeps the newest 2 and a digest of the archive\n$/);
    assert.deepEqual(parseHandoff(readFileSync(join(root, 'handoff.md'), 'utf8')).map((e) => e.nickname), ['Player3', 'Player4']);
    assert.deepEqual(parseHandoff(readFileSync(join(root, 'handoff.archive.md'), 'utf8')).map((e) => e.nickname), ['Player0', 'Player1', 'Player2']);

    const again = await cli(root, ['handoff', 'compact', '--keep', '2']);
    assert.equal(again.stdout, 'nothing to compact: handoff.md has 2 entries (keeping the newest 2)\n');
  });

  it('keeps the newest 20 by default, and refuses a --keep that is not a whole number', async () => {
    const root = workspace();
    for (let i = 0; i < 21; i++) await cli(root, ['handoff', 'append', '--instrument', 'Tuba', '--summary', `Turn ${i}.`]);
    assert.match((await cli(root, ['handoff', 'compact'])).stdout, /^moved 1 entry \(/);
    const bad = await cli(root, ['handoff', 'compact', '--keep', 'many']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /expected a whole number of entries/);
  });
});
