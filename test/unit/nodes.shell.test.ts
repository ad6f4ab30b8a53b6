import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PermissionError } from '../../src/core/engine/permissions';
import { OUTPUT_LIMIT, shellNode } from '../../src/core/nodes/shell';
import { NodeError } from '../../src/core/nodes/types';
import type { WithOf } from '../../src/core/model/nodeKinds';
import { processesWith, waitFor } from './helpers';
import { nodeRig, rejection, type RigOptions } from './nodeContext';

const NODE_ONLY: RigOptions = { permissions: { commands: ['node'] } };

/** Runs `node -e script args…` as a shell node. */
function runNode(rig: ReturnType<typeof nodeRig>, script: string, extra: Partial<WithOf<'shell'>> = {}) {
  return shellNode.run({ command: 'node', ...extra, args: ['-e', script, ...(extra.args ?? [])] }, rig.ctx);
}

describe('shell node', () => {
  it('streams output to the log while the program runs, and returns stdout, stderr and the exit code', async () => {
    const rig = nodeRig(NODE_ONLY);
    let settled = false;
    // The program goes on only once the test has seen its first line (a file named `go`), so
    // "not ended yet" holds however slowly either side runs.
    const running = runNode(
      rig,
      "process.stdout.write('first\\n'); const t = setInterval(() => { if (require('fs').existsSync('go')) { clearInterval(t); process.stdout.write('second\\n'); console.error('careful'); } }, 10)",
    ).finally(() => (settled = true));
    await waitFor('the first line in the log', () => rig.logged('stdout').includes('first'));
    assert.equal(settled, false, 'the first chunk reached the log before the program ended');
    writeFileSync(join(rig.root, 'go'), '');
    const { output } = await running;
    assert.deepEqual(output, { stdout: 'first\nsecond\n', stderr: 'careful\n', exitCode: 0 });
    assert.equal(rig.logged('stdout'), 'first\nsecond\n');
    assert.equal(rig.logged('stderr'), 'careful\n');
  });

  it('writes stdin and closes it', async () => {
    const rig = nodeRig(NODE_ONLY);
    const { output } = await runNode(rig, 'process.stdin.pipe(process.stdout)', { stdin: 'hello\nworld' });
    assert.equal((output as { stdout: string }).stdout, 'hello\nworld');
  });

  it('closes stdin even when there is none to write, so readers do not hang', async () => {
    const rig = nodeRig(NODE_ONLY);
    const { output } = await runNode(rig, "let n = 0; process.stdin.on('data', (d) => (n += d.length)).on('end', () => console.log(n))");
    assert.equal((output as { stdout: string }).stdout, '0\n');
  });

  it('fails with a retryable NodeError naming the exit code and quoting the end of stderr', async () => {
    const rig = nodeRig(NODE_ONLY);
    const e = await rejection(runNode(rig, 'for (let i = 1; i <= 9; i++) console.error(`line ${i}`); process.exit(3)'));
    assert.ok(e instanceof NodeError);
    assert.equal(e.retryable, true);
    assert.equal(e.message, 'node exited with code 3:\nline 5\nline 6\nline 7\nline 8\nline 9');
  });

  it('refuses a program the melody does not allow, naming the rule', async () => {
    const refused = await rejection(shellNode.run({ command: 'node', args: ['-e', ''] }, nodeRig({ permissions: { commands: ['npm', 'git'] } }).ctx));
    assert.ok(refused instanceof PermissionError);
    assert.match(refused.message, /permissions\.commands does not allow "node" \(allowed: npm, git\)/);
    const none = await rejection(shellNode.run({ command: 'node', args: [] }, nodeRig().ctx));
    assert.match(none.message, /does not allow running programs: add "node" to permissions\.commands/);
  });

  it('refuses variables that decide what runs unless permissions.env lists them, and finds programs on Symphony’s PATH', async () => {
    const rig = nodeRig(NODE_ONLY);
    const refused = await rejection(runNode(rig, '', { env: { NODE_OPTIONS: `--require ${join(rig.root, 'evil.js')}` } }));
    assert.ok(refused instanceof PermissionError);
    assert.match(refused.message, /^setting NODE_OPTIONS for a program is not allowed: .* list it in permissions\.env/);
    const allowed = nodeRig({ permissions: { commands: ['node'], env: ['path'] } });
    const { output } = await runNode(allowed, 'console.log(process.env.PATH)', { env: { PATH: allowed.root } });
    assert.equal((output as { stdout: string }).stdout, `${allowed.root}\n`, 'node was found on Symphony’s PATH, not on the one it runs with');
  });

  it('passes arguments literally: no shell sees spaces, quotes, $(…), ; or globs', async () => {
    const rig = nodeRig({ permissions: { commands: ['node', 'echo'] } });
    const args = ['two words', '"double" \'single\'', '$(touch subst)', '`touch tick`', '; touch pwned', '&& touch amp', '*', '$HOME', '| cat'];
    const { output } = await runNode(rig, 'console.log(JSON.stringify(process.argv.slice(1)))', { args });
    assert.deepEqual(JSON.parse((output as { stdout: string }).stdout), args);

    // The same through a real non-node program: a shell would have run `touch pwned`.
    const echoed = await shellNode.run({ command: 'echo', args: ['hi', '; touch pwned', '$(touch subst)'] }, rig.ctx);
    assert.equal((echoed.output as { stdout: string }).stdout, 'hi ; touch pwned $(touch subst)\n');
    for (const name of ['pwned', 'subst', 'tick', 'amp']) assert.equal(existsSync(join(rig.root, name)), false, `${name} must not exist`);
  });

  it('runs in with.cwd inside the workspace with with.env added to the environment', async () => {
    const rig = nodeRig(NODE_ONLY);
    mkdirSync(join(rig.root, 'pkg', 'sub'), { recursive: true });
    const { output } = await runNode(rig, 'console.log(process.cwd()); console.log(process.env.GREETING, typeof process.env.PATH)', {
      cwd: 'pkg/sub',
      env: { GREETING: 'hello there' },
    });
    assert.equal((output as { stdout: string }).stdout, `${realpathSync(join(rig.root, 'pkg', 'sub'))}\nhello there string\n`);
    const atRoot = await runNode(rig, 'console.log(process.cwd())', { cwd: '.' });
    assert.equal(realpathSync((atRoot.output as { stdout: string }).stdout.trim()), realpathSync(rig.root));
  });

  it('refuses a cwd outside the workspace', async () => {
    const rig = nodeRig(NODE_ONLY);
    const e = await rejection(runNode(rig, '', { cwd: '..' }));
    assert.ok(e instanceof PermissionError);
    assert.match(e.message, /outside the workspace/);
  });

  it('reports a missing program as not found on PATH, without retrying', async () => {
    const rig = nodeRig({ permissions: { commands: ['symphony-no-such-program'] } });
    const e = await rejection(shellNode.run({ command: 'symphony-no-such-program', args: [] }, rig.ctx));
    assert.ok(e instanceof NodeError);
    assert.equal(e.retryable, false);
    assert.equal(e.message, 'program symphony-no-such-program was not found on PATH');
  });

  it('names the signal that killed a program, and refuses arguments no program can receive', async () => {
    const rig = nodeRig(NODE_ONLY);
    const killed = await rejection(runNode(rig, "console.error('about to die'); process.kill(process.pid, 'SIGKILL')"));
    assert.equal(killed.message, 'node was killed by SIGKILL:\nabout to die');
    const nul = await rejection(runNode(rig, '', { args: ['a\u0000b'] }));
    assert.ok(nul instanceof NodeError);
    assert.equal(nul.retryable, false);
    assert.match(nul.message, /^program node could not start: /);
  });

  it('keeps at most OUTPUT_LIMIT characters of output and says what it dropped', async () => {
    const rig = nodeRig(NODE_ONLY);
    const { output } = await runNode(rig, `process.stdout.write('x'.repeat(${OUTPUT_LIMIT + 1000}))`);
    const stdout = (output as { stdout: string }).stdout;
    assert.equal(stdout.indexOf('\n'), OUTPUT_LIMIT);
    assert.match(stdout.slice(OUTPUT_LIMIT), /^\n\[output truncated: 1000 more characters were not kept\]\n$/);
  });

  describe('on abort', () => {
    /**
     * A program that starts a grandchild which would outlive it, then writes `started`. Both
     * carry `marker` in their arguments: in the sandbox their pids are not the host's, so
     * the test finds them by it.
     */
    function writeTree(root: string, ignoreTerm: boolean): string {
      const script = join(root, 'tree.js');
      const ignore = ignoreTerm ? "process.on('SIGTERM', () => {});" : '';
      writeFileSync(
        script,
        `const { spawn } = require('node:child_process');
         ${ignore}
         const grandchild = spawn(process.execPath, ['-e', ${JSON.stringify(`${ignore} setInterval(() => {}, 1000)`)}, process.argv[2]], { stdio: 'ignore' });
         grandchild.on('spawn', () => require('node:fs').writeFileSync('started', ''));
         setInterval(() => {}, 1000);`,
      );
      return script;
    }

    /** The tree's processes seen from outside: the program, its grandchild (and the sandbox's own). */
    const treeOf = (marker: string) => processesWith(marker);

    for (const ignoreTerm of [false, true]) {
      it(ignoreTerm ? 'SIGKILLs a tree that ignores SIGTERM after the grace period' : 'stops the whole process tree, grandchildren included', async () => {
        const rig = nodeRig(NODE_ONLY);
        writeTree(rig.root, ignoreTerm);
        const marker = `symphony-tree-${randomUUID()}`;
        const running = shellNode.run({ command: 'node', args: ['tree.js', marker] }, rig.ctx);
        await waitFor('the grandchild', () => existsSync(join(rig.root, 'started')));
        assert.ok(treeOf(marker).length >= 2, 'the program and its grandchild run before the abort');

        const started = Date.now();
        rig.controller.abort(new Error('timeout'));
        const e = await rejection(running);
        assert.ok(e instanceof NodeError);
        assert.equal(e.message, 'node was stopped (timeout)');
        assert.deepEqual(treeOf(marker), [], 'no process of the tree survives');
        if (ignoreTerm) assert.ok(Date.now() - started >= 1900, 'SIGKILL came only after the grace period');
      });
    }

    it('ends what a program left running when it exits: nothing it started outlives its node', async () => {
      const rig = nodeRig(NODE_ONLY);
      const marker = `symphony-left-${randomUUID()}`;
      const script = `require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', process.argv[1]], { stdio: 'inherit' }).on('spawn', () => process.exit(0))`;
      const { output } = await runNode(rig, script, { args: [marker] });
      assert.equal((output as { exitCode: number }).exitCode, 0);
      await waitFor('the left-behind process to end', () => treeOf(marker).length === 0);
    });

    it('does not start a program when the signal is already aborted', async () => {
      const rig = nodeRig(NODE_ONLY);
      rig.controller.abort();
      const e = await rejection(runNode(rig, "require('node:fs').writeFileSync('ran', '')"));
      assert.match(e.message, /was stopped/);
      assert.equal(existsSync(join(rig.root, 'ran')), false);
    });
  });
});
