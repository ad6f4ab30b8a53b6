import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../harness/paths';
import { copyDemo } from '../harness/workspace';
import { tempDir } from './helpers';

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

describe('the demo copy that npm start and the integration tests open', () => {
  it('is a git repository of its own, outside the checkout, with the demo committed', async () => {
    const workspace = await copyDemo(tempDir('symphony-demo-copy-'));
    assert.ok(relative(repoRoot, workspace).startsWith('..'), `${workspace} lies outside ${repoRoot}`);
    // git (and so the git extension, chambers, commit triggers) stops at the copy.
    assert.equal(git(workspace, 'rev-parse', '--show-toplevel'), workspace);
    assert.equal(git(workspace, 'rev-list', '--count', 'HEAD'), '1');
    assert.equal(git(workspace, 'status', '--porcelain'), '', 'nothing left uncommitted');
    assert.deepEqual(readdirSync(join(workspace, 'melodies')).sort(), readdirSync(join(repoRoot, 'examples', 'demo', 'melodies')).sort());
    // Nothing a template's `npm test` could climb to: no package.json from here to the root.
    for (let dir = workspace; ; dir = join(dir, '..')) {
      assert.equal(existsSync(join(dir, 'package.json')), false, `${dir} has a package.json`);
      if (join(dir, '..') === dir) break;
    }
    assert.equal(existsSync(join(workspace, '.symphony', 'runs')), false, 'runs left in the checkout are not copied');
  });

  it('refuses a folder inside the checkout', async () => {
    await assert.rejects(copyDemo(join(repoRoot, 'test-results')), /inside the repository .*set TMPDIR/);
  });

  it("is described by the demo's README: every melody named, and the right count", () => {
    const demo = join(repoRoot, 'examples', 'demo');
    const readme = readFileSync(join(demo, 'README.md'), 'utf8');
    const names = readdirSync(join(demo, 'melodies')).map((f) => f.replace(/\.melody\.yaml$/, ''));
    const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
    assert.match(readme, new RegExp(`\\b${words[names.length]} melodies\\b`));
    for (const name of names) assert.ok(readme.includes(`\`${name}\``), `the README names ${name}`);
  });
});
