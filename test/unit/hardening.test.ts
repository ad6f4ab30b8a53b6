import * as assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, workspace, type RunJson } from './attack';
import { cli, tempDir } from './helpers';

/**
 * Issue 9, tried as an attacker would: each test reproduces an attack against the CLI and
 * shows it fails. One `describe` per numbered point of the issue.
 */

/** A `node -e` program that leaves evidence that it ran. */
const EVIDENCE = "require('fs').writeFileSync('pwned', 'yes')";

describe('hardening: permissions are a ceiling, never a door', () => {
  describe('1. a sub-melody runs with the intersection of its own permissions and its caller’s', () => {
    it('refuses writing a melody that grants more, so it cannot be run as a sub-melody (or by its triggers)', async () => {
      const root = workspace({
        'attack.melody.yaml': [
          'name: attack',
          'permissions: { fs: { write: ["src/**"] } }',
          'nodes:',
          '  plant:',
          '    uses: write-file',
          '    with:',
          '      path: src/evil.melody.yaml',
          `      content: "name: evil\\npermissions: { commands: [node] }\\nnodes:\\n  go: { uses: shell, with: { command: node, args: [-e, \\"${EVIDENCE.replace(/'/g, "'")}\\"] } }\\n"`,
          '  call: { uses: melody, needs: [plant], with: { melody: src/evil.melody.yaml } }',
          '',
        ].join('\n'),
      });
      const r = await run(root, 'attack.melody.yaml');
      assert.equal(r.status, 'failure');
      assert.match(r.nodes.plant!.error!, /^writing src\/evil\.melody\.yaml is never allowed: Symphony would later run it with permissions the writer does not have/);
      assert.equal(existsSync(join(root, 'src', 'evil.melody.yaml')), false);
      assert.equal(existsSync(join(root, 'pwned')), false);
    });

    it('narrows an existing sub-melody’s commands, files and secrets to its caller’s', async () => {
      const root = workspace({
        'child.melody.yaml': [
          'name: child',
          'permissions: { commands: [node], fs: { write: ["**"] } }',
          'nodes:',
          `  exec: { uses: shell, with: { command: node, args: ["-e", "${EVIDENCE}"] } }`,
          '  write: { uses: write-file, with: { path: src/planted.txt, content: x } }',
          '  token: { uses: transform, with: { value: "${{ secrets.DEPLOY_TOKEN }}" } }',
          '',
        ].join('\n'),
        'parent.melody.yaml': ['name: parent', 'permissions: { fs: { write: ["out/**"] } }', 'nodes:', '  call: { uses: melody, with: { melody: child.melody.yaml } }', ''].join('\n'),
      });
      const r = await run(root, 'parent.melody.yaml', { DEPLOY_TOKEN: 'tok-123456' });
      assert.equal(r.status, 'failure');
      const child = { runId: /\(run ([\w-]+)\)/.exec(r.nodes.call!.error!)![1]! };
      assert.match(r.nodes.call!.error!, /^sub-melody child\.melody\.yaml ended failure/);
      const runs = (await cli(root, ['runs', '--json'])).stdout;
      const childRun = (JSON.parse(runs) as { runId: string; nodes: Record<string, string> }[]).find((x) => x.runId === child.runId)!;
      assert.deepEqual(childRun.nodes, { exec: 'failure', write: 'failure', token: 'failure' });
      assert.equal(existsSync(join(root, 'pwned')), false, 'the child could not run node');
      assert.equal(existsSync(join(root, 'src', 'planted.txt')), false, 'the child could not write outside out/**');
      const show = JSON.parse((await cli(root, ['run', 'child.melody.yaml', '--json'], { env: { PATH: process.env.PATH } })).stdout) as RunJson;
      assert.equal(show.nodes.exec!.status, 'success', 'run on its own, the child may run node: the caller narrowed it');
      const journal = (await import('node:fs')).readFileSync(join(root, '.symphony', 'runs', child.runId, 'journal.jsonl'), 'utf8');
      assert.match(journal, /this melody does not allow running programs: add \\"node\\" to permissions\.commands — in the melody that started this sub-melody: a sub-melody never gets more than its caller/);
      assert.match(journal, /permissions\.fs\.write does not allow writing src\/planted\.txt \(allowed: out\/\*\*\) — in the melody that started this sub-melody/);
      assert.match(journal, /secret DEPLOY_TOKEN is not available to this sub-melody: the melody that started it does not use it/);
    });

    it('loads sub-melodies only from inside the workspace, quoting nothing of a file outside', async () => {
      const outside = join(tempDir('symphony-outside-'), 'loot.melody.yaml');
      writeFileSync(outside, 'name: loot\nsecret_key: AKIA-OUTSIDE-SECRET\nnodes: {}\n');
      const root = workspace({
        'parent.melody.yaml': [
          'name: parent',
          'nodes:',
          `  abs: { uses: melody, continue-on-error: true, with: { melody: ${JSON.stringify(outside)} } }`,
          `  up: { uses: melody, continue-on-error: true, with: { melody: "../../../../../../..${outside}" } }`,
          `  tmp: { uses: melody, continue-on-error: true, with: { melody: ${JSON.stringify(join(tmpdir(), 'nope.melody.yaml'))} } }`,
          '',
        ].join('\n'),
      });
      const r = await run(root, 'parent.melody.yaml');
      for (const id of ['abs', 'up', 'tmp']) {
        assert.equal(r.nodes[id]!.status, 'failure', id);
        assert.match(r.nodes[id]!.error!, /is outside the workspace|cannot read/, id);
        assert.doesNotMatch(r.nodes[id]!.error!, /AKIA|secret_key/, id);
      }
    });
  });

  describe('2. git internals, Symphony’s records, melodies and editor configuration are never writable', () => {
    it('refuses each path whatever the scopes say, naming the rule', async () => {
      const targets = [
        'vendor/lib/.git/hooks/pre-commit',
        '.git/config',
        '.symphony/chambers/auth-impl/.git',
        '.symphony/audit.jsonl.lock',
        '.symphony/audit.jsonl',
        '.symphony/runs/x/run.json',
        '.symphony/DEVIATIONS.json.lock',
        '.vscode/tasks.json',
        'team.code-workspace',
        'melodies/new.melody.yaml',
        'ensembles/core/evil.yaml',
        '.symphony/conductor.yaml',
        '.symphony/prices.yaml',
      ];
      const root = workspace({ 'vendor/lib/.git/HEAD': 'ref: refs/heads/main\n' });
      const lines = ['name: plant', 'permissions: { fs: { write: ["**"] } }', 'nodes:'];
      targets.forEach((t, i) => lines.push(`  w${i}: { uses: write-file, continue-on-error: true, with: { path: ${JSON.stringify(t)}, content: "x" } }`));
      lines.push('  ok: { uses: write-file, with: { path: src/fine.txt, content: "fine" } }', '');
      writeFileSync(join(root, 'plant.melody.yaml'), lines.join('\n'));
      const r = await run(root, 'plant.melody.yaml');
      targets.forEach((t, i) => {
        assert.equal(r.nodes[`w${i}`]!.status, 'failure', t);
        assert.match(r.nodes[`w${i}`]!.error!, /is never allowed: /, t);
        assert.equal(existsSync(join(root, t)) && t !== '.symphony/audit.jsonl', false, `${t} was written`);
      });
      assert.match(r.nodes.w0!.error!, /belongs to git/);
      assert.match(r.nodes.w7!.error!, /VS Code would run what it says/);
      assert.equal(r.nodes.ok!.status, 'success', 'an ordinary file is still writable');
    });
  });
});
