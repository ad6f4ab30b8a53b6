import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScanJsonEntry } from '../../src/cli/commands/deviationsScan';
import { runCli } from '../../src/cli/main';
import { processEnvironment } from '../../src/cli/options';
import { chamberPath } from '../../src/core/chambers/registry';
import type { DeviationRecord } from '../../src/core/model/deviation';
import { commitAll, git, workspaceRepo, write } from './gitFixtures';
import { tempDir } from './helpers';

/** Runs the CLI in-process in `cwd`, capturing its output. */
async function cli(cwd: string, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { ...processEnvironment(), cwd, color: false, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

const RECORD = ['--agent', 'Tuba', '--module', 'auth', '--severity', 'major', '--expected', 'REST', '--discovered', 'SOAP only', '--action', 'adapter', '--reasoning', 'no choice', '--impact', 'one more layer'];

describe('symphony CLI: deviations and chambers', () => {
  describe('deviations scan', () => {
    function sample(): string {
      const dir = tempDir();
      write(dir, {
        'sub/a.ts': 'f(); // ARCHITECTURAL_MISMATCH: f takes a list\n',
        'sub/deep/b.md': '<!-- FUNDAMENTAL_BREAK: no tables -->\n',
        'sub/c.js': 'const s = "// DEVIATION_MINOR: not in a string";\n',
        'other.py': '# DEVIATION_MINOR: outside the scanned folder\n',
      });
      return dir;
    }

    it('prints --json as DESIGN.md §6 says, files relative to the scanned root', async () => {
      const r = await cli(sample(), 'deviations', 'scan', 'sub', '--json');
      assert.equal(r.code, 0, r.stderr);
      const expected: ScanJsonEntry[] = [
        { file: 'a.ts', line: 1, column: 9, severity: 'major', marker: 'ARCHITECTURAL_MISMATCH', text: 'f takes a list' },
        { file: 'deep/b.md', line: 1, column: 6, severity: 'fundamental', marker: 'FUNDAMENTAL_BREAK', text: 'no tables' },
      ];
      assert.deepEqual(JSON.parse(r.stdout), expected);
    });

    it('prints file:line:col lines relative to the current folder and a summary', async () => {
      const dir = sample();
      const r = await cli(dir, 'deviations', 'scan');
      assert.equal(r.code, 0);
      assert.deepEqual(r.stdout.trimEnd().split('\n'), [
        'other.py:1:3: info: DEVIATION_MINOR: outside the scanned folder',
        'sub/a.ts:1:9: warning: ARCHITECTURAL_MISMATCH: f takes a list',
        'sub/deep/b.md:1:6: error: FUNDAMENTAL_BREAK: no tables',
      ]);
      assert.match(r.stderr, /^3 markers in 3 files: 1 fundamental, 1 major, 1 minor \(ripgrep, \d+ ms\)$/m);
    });

    it('fails with exit 1 on a path that does not exist', async () => {
      const r = await cli(tempDir(), 'deviations', 'scan', 'nope');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /cannot scan nope: ENOENT/);
    });
  });

  describe('record-deviation and get-deviations', () => {
    it('records all eight fields and lists them, as text and as JSON', async () => {
      const dir = tempDir();
      write(dir, { 'sheetMusic.md': '#\n', 'src/x.ts': '' });
      const made = await cli(join(dir, 'src'), 'record-deviation', ...RECORD);
      assert.equal(made.code, 0, made.stderr);
      const id = /^recorded (dev-[0-9a-f]{8}) \(major, module auth\) in \.\.\/\.symphony\/DEVIATIONS\.json$/.exec(made.stdout.trim())?.[1];
      assert.ok(id, made.stdout);

      const json = await cli(dir, 'get-deviations', '--json');
      assert.equal(json.code, 0);
      const [record] = JSON.parse(json.stdout) as DeviationRecord[];
      assert.deepEqual(
        { ...record, createdAt: 'T', updatedAt: 'T' },
        { id, agent: 'Tuba', module: 'auth', severity: 'major', expected: 'REST', discovered: 'SOAP only', action: 'adapter', reasoning: 'no choice', impact: 'one more layer', status: 'open', createdAt: 'T', updatedAt: 'T', markers: [] },
      );
      const text = await cli(dir, 'get-deviations');
      assert.match(text.stdout, new RegExp(`^major \\(1\\)\\n  ${id}  open      auth · Tuba\\n      discovered: SOAP only`));
      assert.match(text.stderr, /1 deviation, 1 open/);
    });

    it('is a usage error (exit 2) when a field is missing or the severity is unknown', async () => {
      const dir = tempDir();
      const missing = await cli(dir, 'record-deviation', ...RECORD.slice(0, -2));
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /required option '--impact <text>' not specified/);
      const severity = await cli(dir, 'record-deviation', ...RECORD.map((a) => (a === 'major' ? 'huge' : a)));
      assert.equal(severity.code, 2);
      assert.match(severity.stderr, /Allowed choices are minor, major, fundamental/);
      const empty = await cli(dir, 'record-deviation', ...RECORD.map((a) => (a === 'Tuba' ? '' : a)));
      assert.equal(empty.code, 2);
    });

    it('reports a corrupt DEVIATIONS.json as file:line:col, exits 1, and leaves it untouched', async () => {
      const dir = tempDir();
      const broken = '{ "version": 1, "deviations": [ { "id": 1 } ] }\n';
      write(dir, { '.symphony/DEVIATIONS.json': broken });
      const r = await cli(dir, 'record-deviation', ...RECORD);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^symphony: \.symphony\/DEVIATIONS\.json:1:41: `deviations\[0\]\.id` must be text, not number 1$/m);
      assert.match(r.stderr, /was left as it is; fix it, then try again/);
      assert.equal(readFileSync(join(dir, '.symphony/DEVIATIONS.json'), 'utf8'), broken);
      assert.equal((await cli(dir, 'get-deviations')).code, 1);
    });
  });

  describe('chambers', () => {
    it('sets up, merges and cleans up through the CLI', async () => {
      const root = workspaceRepo();
      const workers = JSON.stringify([{ id: 'auth-impl', module: 'auth', scope: 'src/auth/**' }]);
      const setup = await cli(root, 'setup-chambers', '--workers', workers);
      assert.equal(setup.code, 0, setup.stderr);
      assert.match(setup.stdout, /^created {4}auth-impl {2}\.symphony\/chambers\/auth-impl {2}on symphony\/auth-impl$/m);

      const chamber = chamberPath(root, 'auth-impl');
      write(chamber, { 'src/auth/login.ts': 'export const login = 2;\n' });
      commitAll(chamber, 'Login');
      write(root, { '.symphony/MERGE_PLAN.json': JSON.stringify({ version: 1, modules: { auth: { decision: 'preserve', reason: 'fits' } } }) });
      const merge = await cli(root, 'merge-chambers');
      assert.equal(merge.code, 0, merge.stderr);
      assert.match(merge.stdout, /^merged {5}auth-impl \(module auth\): preserve — fits$/m);
      assert.match(merge.stderr, /report in \.symphony\/MERGE_REPORT\.json/);

      const again = await cli(root, 'setup-chambers', '--workers', workers, '--clean-state');
      assert.equal(again.code, 0);
      assert.match(again.stdout, /^recreated {2}auth-impl/m);

      const cleanup = await cli(root, 'cleanup-task', '--no-archive');
      assert.equal(cleanup.code, 0, cleanup.stderr);
      assert.match(cleanup.stdout, /^removed {3}\.symphony\/MERGE_PLAN\.json$/m);
      assert.match(cleanup.stdout, /^removed {3}chamber auth-impl and its branch \(symphony\/auth-impl was at [0-9a-f]{12}\)$/m);
      assert.equal(git(root, 'branch', '--list', 'symphony/*'), '');
    });

    it('exits 1 on a merge conflict, 2 on bad workers', async () => {
      const root = workspaceRepo();
      assert.equal((await cli(root, 'setup-chambers', '--workers', '[{"id":"a b"}]')).code, 2);
      await cli(root, 'setup-chambers', '--workers', '[{"id":"auth-impl","module":"auth","scope":"src/auth/**"}]');
      const chamber = chamberPath(root, 'auth-impl');
      write(chamber, { 'src/auth/login.ts': 'chamber\n' });
      commitAll(chamber, 'Chamber');
      write(root, { 'src/auth/login.ts': 'main\n', '.symphony/MERGE_PLAN.json': JSON.stringify({ version: 1, modules: { auth: { decision: 'adapt', reason: 'r' } } }) });
      commitAll(root, 'Main');
      const r = await cli(root, 'merge-chambers');
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^conflict {3}auth-impl \(module auth\): adapt — r\n {11}conflicts in src\/auth\/login\.ts; the merge was aborted/m);
      assert.match(r.stderr, /the repository is clean/);
      assert.equal(git(root, 'status', '--porcelain', '--untracked-files=no'), '');
    });
  });
});
