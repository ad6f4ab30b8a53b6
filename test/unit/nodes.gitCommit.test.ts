import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PermissionError } from '../../src/core/engine/permissions';
import { commitMessage, gitCommitNode } from '../../src/core/nodes/gitCommit';
import { NodeError } from '../../src/core/nodes/types';
import { nodeRig, rejection, scratchDir, testInstrument, type RigOptions } from './nodeContext';

const GIT_ALLOWED: RigOptions = { permissions: { commands: ['git'] } };

/** Runs git in `cwd` and returns its trimmed output. */
function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

/** A new repository on branch main, with a local identity (no global config needed). */
function newRepo(): string {
  const dir = scratchDir('symphony-git-');
  git(dir, 'init', '--quiet', '--initial-branch=main');
  git(dir, 'config', 'user.name', 'Test Person');
  git(dir, 'config', 'user.email', 'test@example.invalid');
  git(dir, 'config', 'commit.gpgsign', 'false');
  return dir;
}

function write(root: string, path: string, text: string): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
}

/** Files changed by HEAD, with their status letter. */
function headChanges(root: string): string[] {
  return git(root, 'show', '--name-status', '--format=', 'HEAD').split('\n').filter(Boolean).map((l) => l.replace(/\s+/, ' '));
}

describe('git-commit node', () => {
  it('commits only the given paths, crediting the nickname and naming the run', async () => {
    const root = newRepo();
    write(root, 'src/orders.sql', 'create table orders();\n');
    write(root, 'notes.txt', 'not part of this commit\n');
    write(root, 'staged-by-hand.txt', 'the user staged this\n');
    git(root, 'add', 'staged-by-hand.txt');
    const rig = nodeRig({ ...GIT_ALLOWED, root, instrument: testInstrument({ nickname: 'Tuba' }) });

    const { output } = await gitCommitNode.run({ message: 'Add the orders table', paths: ['src/orders.sql'] }, rig.ctx);

    assert.deepEqual(output, { commit: git(root, 'rev-parse', 'HEAD'), branch: 'main' });
    assert.equal(git(root, 'log', '-1', '--format=%B'), `[Tuba] Add the orders table\n\nSymphony-Run: ${rig.ctx.runId}`);
    assert.deepEqual(headChanges(root), ['A src/orders.sql']);
    // What the user staged by hand stays staged, and untracked files stay untracked.
    assert.equal(git(root, 'status', '--porcelain'), 'A  staged-by-hand.txt\n?? notes.txt');
    assert.match(rig.logged('info'), /committed [0-9a-f]{7} on main/);
  });

  it('stages the deletion of a given path', async () => {
    const root = newRepo();
    write(root, 'old.txt', 'old\n');
    write(root, 'keep.txt', 'keep\n');
    git(root, 'add', '.');
    git(root, 'commit', '--quiet', '-m', 'initial');
    unlinkSync(join(root, 'old.txt'));
    write(root, 'keep.txt', 'changed but not given\n');
    const rig = nodeRig({ ...GIT_ALLOWED, root });

    await gitCommitNode.run({ message: 'Remove old.txt', paths: ['old.txt'], nickname: 'Oboe' }, rig.ctx);

    assert.deepEqual(headChanges(root), ['D old.txt']);
    assert.equal(git(root, 'log', '-1', '--format=%s'), '[Oboe] Remove old.txt');
    assert.equal(git(root, 'status', '--porcelain'), 'M keep.txt');
  });

  it('without paths commits every change in the workspace — additions, edits, deletions — and nothing outside it', async () => {
    const repo = newRepo();
    write(repo, 'ws/edited.txt', 'v1\n');
    write(repo, 'ws/deleted.txt', 'bye\n');
    write(repo, 'outside.txt', 'v1\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '--quiet', '-m', 'initial');
    write(repo, 'ws/edited.txt', 'v2\n');
    write(repo, 'ws/new/added.txt', 'hi\n');
    unlinkSync(join(repo, 'ws', 'deleted.txt'));
    write(repo, 'outside.txt', 'v2\n');
    // The workspace is a folder of the repository; the melody is credited when nobody else is.
    const rig = nodeRig({ ...GIT_ALLOWED, root: join(repo, 'ws') });

    await gitCommitNode.run({ message: 'Update the workspace\n\nBody line.' }, rig.ctx);

    assert.deepEqual(headChanges(repo).sort(), ['A ws/new/added.txt', 'D ws/deleted.txt', 'M ws/edited.txt']);
    assert.equal(git(repo, 'log', '-1', '--format=%B'), `[test-melody] Update the workspace\n\nBody line.\n\nSymphony-Run: ${rig.ctx.runId}`);
    assert.equal(git(repo, 'status', '--porcelain'), 'M outside.txt');
  });

  it('outputs a null commit when there is nothing to commit', async () => {
    const root = newRepo();
    const rig = nodeRig({ ...GIT_ALLOWED, root });
    assert.deepEqual((await gitCommitNode.run({ message: 'Nothing' }, rig.ctx)).output, { commit: null, branch: 'main' });
    assert.equal(rig.logged('info'), 'nothing to commit');
    // An empty list of paths stages nothing, rather than everything.
    write(root, 'a.txt', 'a\n');
    assert.deepEqual((await gitCommitNode.run({ message: 'Nothing', paths: [] }, rig.ctx)).output, { commit: null, branch: 'main' });
    assert.equal(git(root, 'status', '--porcelain'), '?? a.txt');
  });

  it('refuses paths outside the workspace and treats pathspec magic literally', async () => {
    const repo = newRepo();
    write(repo, 'ws/a.txt', 'a\n');
    write(repo, 'secret.txt', 's\n');
    const rig = nodeRig({ ...GIT_ALLOWED, root: join(repo, 'ws') });
    const outside = await rejection(gitCommitNode.run({ message: 'x', paths: ['../secret.txt'] }, rig.ctx));
    assert.ok(outside instanceof PermissionError);
    assert.match(outside.message, /outside the workspace/);
    // ":/" would mean "the whole repository" to git; here it is just a (missing) file name.
    const magic = await rejection(gitCommitNode.run({ message: 'x', paths: [':/'] }, rig.ctx));
    assert.ok(magic instanceof NodeError, magic.message);
    assert.match(magic.message, /^git add failed: .*pathspec/);
    assert.equal(git(repo, 'status', '--porcelain'), '?? secret.txt\n?? ws/');
  });

  it('needs git in permissions.commands', async () => {
    const e = await rejection(gitCommitNode.run({ message: 'x' }, nodeRig({ root: newRepo(), permissions: { commands: ['npm'] } }).ctx));
    assert.ok(e instanceof PermissionError);
    assert.match(e.message, /permissions\.commands does not allow "git"/);
  });

  it('fails for good outside a git repository', async () => {
    const e = await rejection(gitCommitNode.run({ message: 'x' }, nodeRig(GIT_ALLOWED).ctx));
    assert.ok(e instanceof NodeError);
    assert.equal(e.retryable, false);
    assert.match(e.message, /is not in a git repository/);
  });
});

describe('commitMessage', () => {
  it('adds the nickname once and joins the run trailer to existing trailers', () => {
    assert.equal(commitMessage('  Fix it  ', 'Tuba', 'r1'), '[Tuba] Fix it\n\nSymphony-Run: r1');
    assert.equal(commitMessage('[Tuba] Fix it', 'Tuba', 'r1'), '[Tuba] Fix it\n\nSymphony-Run: r1');
    assert.equal(
      commitMessage('Fix it\n\nWhy it broke.\n\nCo-authored-by: A <a@example.invalid>', 'Tuba', 'r1'),
      '[Tuba] Fix it\n\nWhy it broke.\n\nCo-authored-by: A <a@example.invalid>\nSymphony-Run: r1',
    );
  });
});
