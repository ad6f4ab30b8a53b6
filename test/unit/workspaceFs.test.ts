import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeFileSystem, type FileSystem } from '../../src/core/load/fs';
import { loadWorkspaceModel } from '../../src/core/load/workspace';
import { turnTakingFileSystem } from '../../src/extension/workspaceFs';
import { REPO, tempDir } from './helpers';

describe('turn-taking file system (the extension index reads)', () => {
  it('reads what the Node file system reads: files, folders, kinds, missing paths', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'a'));
    writeFileSync(join(root, 'a', 'x.yaml'), 'name: x\n');
    const fs = turnTakingFileSystem();
    const answers = async (f: FileSystem) => [
      await f.readFile(join(root, 'a', 'x.yaml')),
      await f.readDir(root),
      await f.readDir(join(root, 'missing')),
      await f.kind(root),
      await f.kind(join(root, 'a', 'x.yaml')),
      await f.kind(join(root, 'missing')),
      await f.readFile(join(root, 'missing')).catch((e: NodeJS.ErrnoException) => e.code),
    ];
    assert.deepEqual(await answers(fs), await answers(nodeFileSystem));
  });

  it('reads text that is shown (the Conductor trail) as Node does: invalid bytes replaced, a missing file an error', async () => {
    const root = tempDir();
    const file = join(root, 'handoff.md');
    writeFileSync(file, Buffer.from([0x23, 0x20, 0xff, 0x0a]));
    const fs = turnTakingFileSystem();
    assert.equal(await fs.readText(file), readFileSync(file, 'utf8'));
    assert.equal(await fs.readText(file), '# \ufffd\n');
    await assert.rejects(fs.readFile(file), 'the checked read refuses it');
    await assert.rejects(fs.readText(join(root, 'missing.md')), { code: 'ENOENT' });
  });

  it('loads the demo workspace as the Node file system does', async () => {
    const demo = join(REPO, 'examples', 'demo');
    const strip = (m: Awaited<ReturnType<typeof loadWorkspaceModel>>) => JSON.parse(JSON.stringify(m)) as unknown;
    assert.deepEqual(strip(await loadWorkspaceModel(turnTakingFileSystem(), demo)), strip(await loadWorkspaceModel(nodeFileSystem, demo)));
  });

  it('gives the event loop a turn once its budget is used, and reads on at once before', async () => {
    let clock = 0;
    const fs = turnTakingFileSystem(30, () => clock);
    let otherRan = false;
    setImmediate(() => (otherRan = true));
    clock = 29;
    await fs.kind(REPO);
    assert.equal(otherRan, false, 'within the budget, no turn is given');
    clock = 30;
    await fs.kind(REPO);
    assert.equal(otherRan, true, 'past the budget, what waited has run');
    // A new turn starts after the one given.
    otherRan = false;
    setImmediate(() => (otherRan = true));
    clock = 59;
    await fs.kind(REPO);
    assert.equal(otherRan, false);
  });
});
