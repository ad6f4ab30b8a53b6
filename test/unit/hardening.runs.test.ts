import * as assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Redactor } from '../../src/core/engine/redact';
import { renderString, renderValue, toCel } from '../../src/core/expr/evaluate';
import { REPO, tempDir, yaml } from './helpers';

/**
 * Issue 9, points 7, 11 and 12, tried as an attacker (or a crash) would: real `symphony`
 * processes, killed with SIGKILL where the attack killed them, real HTTP against `symphony
 * serve`. One `describe` per point of the issue.
 */

const CLI = join(REPO, 'dist', 'cli.js');

/** A workspace with the given files; returns its root. */
function workspace(files: Record<string, string>): string {
  const root = tempDir('symphony-attack-');
  writeFileSync(join(root, 'sheetMusic.md'), '# attack\n');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `symphony <args>` as a real process; `done` resolves when it exits. */
function start(cwd: string, args: readonly string[], env: Record<string, string> = {}, killAfterMs?: number): { child: ChildProcess; done: Promise<Finished>; output: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  // A command that should have refused but serves instead must not hang the suite.
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Finished>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, done, output: () => stdout + stderr };
}

async function until(what: string, condition: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  return Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }));
}

interface JournalEvent {
  type: string;
  nodeId?: string;
  attempt?: number;
  status?: string;
  pgid?: number;
  stopped?: { nodeId: string; attempt: number }[];
  auditHead?: { seq: number; hash: string };
}

/** The complete lines of a run's journal. */
function journal(root: string, runId: string): JournalEvent[] {
  const text = readFileSync(join(root, '.symphony', 'runs', runId, 'journal.jsonl'), 'utf8');
  return text
    .split('\n')
    .slice(0, -1)
    .map((l) => JSON.parse(l) as JournalEvent);
}

function onlyRun(root: string): string {
  const runs = readdirSync(join(root, '.symphony', 'runs'));
  assert.equal(runs.length, 1, `expected one run, found ${runs.join(', ')}`);
  return runs[0]!;
}

const lines = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : []);

describe('hardening: runs, webhooks and the audit log', function () {
  this.timeout(180_000);

  before(() => {
    if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` first (npm test does)');
  });

  describe('12. the audit log: no planted wait, no silent loss, no unnoticed trimming', () => {
    const MELODY = 'name: audited\nnodes:\n  a: { uses: transform, with: { value: 1 } }\n  b: { uses: transform, needs: [a], with: { value: 2 } }\n';
    const auditFile = (root: string) => join(root, '.symphony', 'audit.jsonl');

    it('takes over a planted lock of pid 1 at once instead of waiting 30 s', async () => {
      const root = workspace({ 'a.melody.yaml': MELODY });
      mkdirSync(join(root, '.symphony'), { recursive: true });
      writeFileSync(join(root, '.symphony', 'audit.jsonl.lock'), JSON.stringify({ pid: 1, host: hostname(), nonce: 'planted', at: new Date().toISOString() }));
      const began = Date.now();
      const r = await start(root, ['run', 'a.melody.yaml']).done;
      const took = Date.now() - began;
      assert.equal(r.code, 0, r.stderr);
      // A loaded machine starts the CLI in seconds; the lock used to add 30 more.
      assert.ok(took < 20_000, `the run took ${took} ms`);
      assert.equal(lines(auditFile(root)).length, 4, 'run-started, two node-finished, run-finished');
      assert.equal((await start(root, ['audit', 'verify']).done).code, 0);
    });

    it('fails fast and clearly on a lock it cannot check (another host)', async () => {
      const root = workspace({ 'a.melody.yaml': MELODY });
      mkdirSync(join(root, '.symphony'), { recursive: true });
      writeFileSync(join(root, '.symphony', 'audit.jsonl.lock'), JSON.stringify({ pid: 4242, host: 'build-server-7', nonce: 'elsewhere', at: new Date().toISOString() }));
      const began = Date.now();
      const r = await start(root, ['run', 'a.melody.yaml']).done;
      assert.ok(Date.now() - began < 20_000, `the run took ${Date.now() - began} ms`);
      assert.equal(r.code, 1, 'a run that could not be audited does not exit 0');
      assert.match(r.stderr, /audit\.jsonl\.lock is held by pid 4242 on host build-server-7/);
      assert.match(r.stderr, /delete it/);
    });

    it('stops auditing loudly at a record cut mid-line, instead of dropping it', async () => {
      const root = workspace({ 'a.melody.yaml': MELODY });
      assert.equal((await start(root, ['run', 'a.melody.yaml']).done).code, 0);
      const size = readFileSync(auditFile(root)).length;
      truncateSync(auditFile(root), size - 20);
      const cut = readFileSync(auditFile(root));
      const r = await start(root, ['run', 'a.melody.yaml']).done;
      assert.equal(r.code, 1);
      assert.match(r.stderr, /the audit log \.symphony\/audit\.jsonl is damaged: its last line \(4\) is cut off.*symphony audit verify/s);
      assert.deepEqual(readFileSync(auditFile(root)), cut, 'the damaged log is left as it was found');
      const verify = await start(root, ['audit', 'verify']).done;
      assert.equal(verify.code, 1);
      assert.match(verify.stdout, /audit\.jsonl:4: incomplete last line/);
    });

    it('stops auditing loudly at a garbage last line', async () => {
      const root = workspace({ 'a.melody.yaml': MELODY });
      assert.equal((await start(root, ['run', 'a.melody.yaml']).done).code, 0);
      writeFileSync(auditFile(root), readFileSync(auditFile(root), 'utf8') + 'garbage\n');
      const r = await start(root, ['run', 'a.melody.yaml']).done;
      assert.equal(r.code, 1);
      assert.match(r.stderr, /the audit log \.symphony\/audit\.jsonl is damaged: its last line \(5\) is not a record.*symphony audit verify/s);
      const verify = await start(root, ['audit', 'verify']).done;
      assert.equal(verify.code, 1);
      assert.match(verify.stdout, /audit\.jsonl:5: not valid JSON/);
    });

    it('anchors each run in run.json, so whole lines cut off the end fail verify', async () => {
      const root = workspace({ 'a.melody.yaml': MELODY });
      assert.equal((await start(root, ['run', 'a.melody.yaml']).done).code, 0);
      assert.equal((await start(root, ['run', 'a.melody.yaml']).done).code, 0);
      const all = lines(auditFile(root));
      assert.equal(all.length, 8);
      const runs = readdirSync(join(root, '.symphony', 'runs')).sort();
      const record = JSON.parse(readFileSync(join(root, '.symphony', 'runs', runs[1]!, 'run.json'), 'utf8')) as { auditHead?: { seq: number; hash: string } };
      assert.deepEqual(record.auditHead, { seq: 8, hash: (JSON.parse(all[7]!) as { hash: string }).hash });
      assert.deepEqual(journal(root, runs[1]!).at(-1)!.auditHead, record.auditHead, 'the anchor is in the journal too');

      writeFileSync(auditFile(root), all.slice(0, 6).join('\n') + '\n');
      const verify = await start(root, ['audit', 'verify']).done;
      assert.equal(verify.code, 1);
      assert.match(verify.stdout, new RegExp(`audit\\.jsonl ends at record 6, before record 8 that run ${runs[1]} anchored`));
    });
  });
});
