import * as assert from 'node:assert/strict';
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PermissionError, PermissionGuard } from '../../src/core/engine/permissions';
import { tempDir } from './helpers';

function workspace() {
  const root = realpathSync(tempDir('symphony-perm-'));
  const outside = realpathSync(tempDir('symphony-outside-'));
  mkdirSync(join(root, 'src'));
  mkdirSync(join(root, 'reports'));
  writeFileSync(join(root, 'src', 'a.ts'), 'x');
  writeFileSync(join(outside, 'secret.txt'), 'top secret');
  return { root, outside };
}

describe('PermissionGuard', () => {
  it('confines reads and writes to the workspace, refusing .. escapes', async () => {
    const { root } = workspace();
    const guard = new PermissionGuard(root);
    assert.equal(await guard.resolveRead('src/a.ts'), join(root, 'src', 'a.ts'));
    assert.equal(await guard.resolveRead('.'), root, 'the root itself may be read (a working directory)');
    await assert.rejects(guard.resolveRead('../../etc/passwd'), /is outside the workspace/);
    await assert.rejects(guard.resolveWrite('src/../../x.txt'), /is outside the workspace/);
    await assert.rejects(guard.resolveWrite('.'), /is outside the workspace/);
  });

  it('follows symlinks before judging: a link to the outside is refused, even a dangling one', async () => {
    const { root, outside } = workspace();
    symlinkSync(outside, join(root, 'escape'));
    symlinkSync(join(outside, 'not-yet.txt'), join(root, 'dangling.txt'));
    const guard = new PermissionGuard(root);
    await assert.rejects(guard.resolveRead('escape/secret.txt'), PermissionError);
    await assert.rejects(guard.resolveWrite('escape/new.txt'), /is outside the workspace/);
    await assert.rejects(guard.resolveWrite('dangling.txt'), /is outside the workspace/);
  });

  it('narrows access to the fs globs, naming the rule that refused', async () => {
    const { root } = workspace();
    const guard = new PermissionGuard(root, { fs: { read: ['src/**'], write: ['reports/**'] } });
    await guard.resolveRead('src/a.ts');
    await guard.resolveWrite('reports/out.md');
    await assert.rejects(guard.resolveWrite('src/a.ts'), { message: 'permissions.fs.write does not allow writing src/a.ts (allowed: reports/**)' });
    writeFileSync(join(root, 'notes.md'), 'n');
    await assert.rejects(guard.resolveRead('notes.md'), { message: 'permissions.fs.read does not allow reading notes.md (allowed: src/**)' });
  });

  it('never lets a melody write git internals or its own records', async () => {
    const { root } = workspace();
    const guard = new PermissionGuard(root);
    for (const p of ['.git/hooks/pre-commit', '.symphony/audit.jsonl', '.symphony/runs/x/journal.jsonl']) {
      await assert.rejects(guard.resolveWrite(p), /is never allowed/, p);
    }
    await guard.resolveWrite('.symphony/DEVIATIONS.json');
  });

  it('runs only the programs the melody lists', () => {
    const { root } = workspace();
    assert.throws(() => new PermissionGuard(root).checkCommand('rm'), { message: 'this melody does not allow running programs: add "rm" to permissions.commands' });
    const guard = new PermissionGuard(root, { commands: ['node', 'git'] });
    guard.checkCommand('node');
    assert.throws(() => guard.checkCommand('/usr/bin/node'), { message: 'permissions.commands does not allow "/usr/bin/node" (allowed: node, git)' });
  });
});
