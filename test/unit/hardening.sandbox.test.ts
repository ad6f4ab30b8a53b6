import * as assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, workspace } from './attack';
import { cli } from './helpers';

/**
 * Issue 9, points 3 and 4, tried as an attacker would: each test runs a real melody
 * through the CLI, with real processes, and shows the attack fails.
 */

/** A `node -e` program that prints its environment as JSON. */
const PRINT_ENV = 'console.log(JSON.stringify(process.env))';

/** A fake `node` in `<root>/bin`: a shell script that leaves evidence it ran. */
function plantNode(root: string): string {
  const bin = join(root, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'node'), `#!/bin/sh\necho planted > "${join(root, 'pwned')}"\necho planted\n`);
  chmodSync(join(bin, 'node'), 0o755);
  return bin;
}

describe('hardening: what programs inherit and where they run', () => {
  describe('3. a node’s env: cannot change which program runs, and programs get a minimal environment', () => {
    it('refuses PATH, LD_PRELOAD, NODE_OPTIONS… in env: at load time, at file:line:col, unless permissions.env lists them', async () => {
      const root = workspace({});
      const bin = plantNode(root);
      writeFileSync(
        join(root, 'attack.melody.yaml'),
        [
          'name: attack',
          'permissions: { commands: [node] }',
          'nodes:',
          '  go:',
          '    uses: shell',
          `    env: { PATH: ${JSON.stringify(bin)} }`,
          '    with:',
          '      command: node',
          '      args: ["-e", "1"]',
          '      env: { LD_PRELOAD: /tmp/evil.so, NODE_OPTIONS: "--require ./evil.js", DYLD_INSERT_LIBRARIES: x }',
          '',
        ].join('\n'),
      );
      const validate = await cli(root, ['validate', 'attack.melody.yaml']);
      assert.equal(validate.code, 1);
      const lines = validate.stdout.split('\n').filter((l) => l.startsWith('attack.melody.yaml:'));
      assert.deepEqual(
        lines.map((l) => l.replace(/: node `go` .*/, '')),
        ['attack.melody.yaml:6:12', 'attack.melody.yaml:10:14', 'attack.melody.yaml:10:40', 'attack.melody.yaml:10:77'],
      );
      assert.match(lines[0]!, /node `go` sets PATH in env:, which decides which program runs or what it loads; list it in `permissions.env` to allow it/);
      const r = await cli(root, ['run', 'attack.melody.yaml', '--json'], { env: { PATH: process.env.PATH } });
      assert.notEqual(r.code, 0);
      assert.equal(existsSync(join(root, 'pwned')), false, 'the planted node never ran');
    });

    it('runs the program Symphony’s own PATH names, even when permissions.env lets the node set PATH', async () => {
      const root = workspace({});
      const bin = plantNode(root);
      writeFileSync(
        join(root, 'attack.melody.yaml'),
        [
          'name: attack',
          'permissions: { commands: [node], env: [PATH] }',
          'nodes:',
          '  go:',
          '    uses: shell',
          `    env: { PATH: ${JSON.stringify(bin)} }`,
          `    with: { command: node, args: ["-e", "console.log('real node', process.env.PATH)"] }`,
          '',
        ].join('\n'),
      );
      const r = await run(root, 'attack.melody.yaml');
      assert.equal(r.status, 'success', JSON.stringify(r.nodes));
      assert.equal((r.nodes.go!.output as { stdout: string }).stdout, `real node ${bin}\n`, 'the real node ran, and it sees the PATH the melody set');
      assert.equal(existsSync(join(root, 'pwned')), false, 'the planted node never ran');
    });

    it('gives programs PATH, HOME, LANG… and what the node names — not the secrets of the environment Symphony started in', async () => {
      const root = workspace({
        'env.melody.yaml': [
          'name: env',
          'permissions: { commands: [node] }',
          'nodes:',
          `  plain: { uses: shell, with: { command: node, args: ["-e", ${JSON.stringify(PRINT_ENV)}] } }`,
          '  named:',
          '    uses: shell',
          '    env: { TOKEN: "${{ secrets.DEPLOY_TOKEN }}" }',
          `    with: { command: node, args: ["-e", ${JSON.stringify(PRINT_ENV)}], env: { GREETING: hi } }`,
          '',
        ].join('\n'),
      });
      const r = await run(root, 'env.melody.yaml', {
        HOME: root,
        LANG: 'C.UTF-8',
        LC_ALL: 'C.UTF-8',
        AWS_SECRET_ACCESS_KEY: 'aws-secret-0123456789',
        DEPLOY_TOKEN: 'tok-0123456789',
        GITHUB_TOKEN: 'ghp-0123456789',
      });
      assert.equal(r.status, 'success', JSON.stringify(r.nodes));
      const plain = JSON.parse((r.nodes.plain!.output as { stdout: string }).stdout) as Record<string, string>;
      assert.equal(plain.PATH, process.env.PATH);
      assert.equal(plain.HOME, root);
      assert.equal(plain.LANG, 'C.UTF-8');
      assert.equal(plain.LC_ALL, 'C.UTF-8');
      for (const secret of ['AWS_SECRET_ACCESS_KEY', 'DEPLOY_TOKEN', 'GITHUB_TOKEN', 'TOKEN']) assert.equal(plain[secret], undefined, `${secret} reached a program that did not name it`);
      // The journal redacts secrets in outputs; what the program saw is that TOKEN was set.
      const named = JSON.parse((r.nodes.named!.output as { stdout: string }).stdout) as Record<string, string>;
      assert.ok(named.TOKEN, 'a secret the node passes explicitly reaches its program');
      assert.equal(named.GREETING, 'hi');
      assert.equal(named.DEPLOY_TOKEN, undefined);
    });
  });
});
