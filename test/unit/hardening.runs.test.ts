import * as assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Redactor } from '../../src/core/engine/redact';
import { celVariables, renderString, renderValue } from '../../src/core/expr/evaluate';
import { REPO, tempDir, yaml } from './helpers';
import { workspace } from './attack';

/**
 * Issue 9, points 7, 11 and 12, tried as an attacker (or a crash) would: real `symphony`
 * processes, killed with SIGKILL where the attack killed them, real HTTP against `symphony
 * serve`. One `describe` per point of the issue.
 */

const CLI = join(REPO, 'dist', 'cli.js');

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

  describe('7. one run has one owner, and a killed node’s programs die with it', () => {
    /** 20 nodes, each noting its id in ledger.txt and then working 300 ms. */
    const TWENTY = [
      'name: twenty',
      'permissions: { commands: [node] }',
      'nodes:',
      ...Array.from({ length: 20 }, (_, i) => `  n${i + 1}: { uses: shell, with: { command: node, args: ["-e", "require('fs').appendFileSync('ledger.txt', process.argv[1] + '\\\\n'); setTimeout(() => {}, 300)", "n${i + 1}"] } }`),
      '',
    ].join('\n');

    it('lets only one of two `resume`s started at once run the killed run; the other names the holder', async () => {
      for (let trial = 0; trial < 3; trial++) {
        const root = workspace({ 'twenty.melody.yaml': TWENTY });
        const run = start(root, ['run', 'twenty.melody.yaml']);
        await until('the first node to start', () => lines(join(root, 'ledger.txt')).length > 0);
        run.child.kill('SIGKILL');
        await run.done;
        const runId = onlyRun(root);

        const [a, b] = await Promise.all([start(root, ['resume', runId]).done, start(root, ['resume', runId]).done]);
        const codes = [a.code, b.code].sort();
        assert.deepEqual(codes, [0, 1], `trial ${trial}: exit codes ${a.code} and ${b.code}\n${a.stderr}\n${b.stderr}`);
        const loser = a.code === 1 ? a : b;
        assert.match(loser.stderr, new RegExp(`run ${runId} is being resumed by pid \\d+ \\(host ${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\) since \\d{4}-\\d\\d-\\d\\dT`));

        const events = journal(root, runId);
        assert.equal(events.filter((e) => e.type === 'run-resumed').length, 1, `trial ${trial}: resumed twice`);
        assert.equal(events.filter((e) => e.type === 'run-finished').length, 1);
        for (let i = 1; i <= 20; i++) {
          assert.equal(events.filter((e) => e.type === 'node-finished' && e.nodeId === `n${i}`).length, 1, `trial ${trial}: n${i} finished more than once`);
        }
      }
    });

    it('ends the programs of a killed node — in its group or setsid’d away — before running the node again', async function () {
      // Descendants that left the group are found through /proc, so this is Linux's promise.
      if (process.platform !== 'linux') this.skip();
      // The program notes its start, leaves two grandchildren that write side.txt after a
      // delay (one in its process group, one in a session of its own), and works on. Run
      // again, it finds the ledger and is quick.
      const work = [
        "const fs = require('fs');",
        "const { spawn } = require('child_process');",
        "const again = fs.existsSync('ledger.txt');",
        "fs.appendFileSync('ledger.txt', `start ${process.pid}\\n`);",
        'const later = (tag) => `setTimeout(() => require("fs").appendFileSync("side.txt", "${tag}\\\\n"), ${again ? 200 : 10000})`;',
        "spawn(process.execPath, ['-e', later(`group ${process.pid}`)], { stdio: 'ignore' });",
        "spawn('setsid', [process.execPath, '-e', later(`session ${process.pid}`)], { stdio: 'ignore' });",
        'setTimeout(() => {}, again ? 1000 : 60000);',
        '',
      ].join('\n');
      const root = workspace({
        'work.js': work,
        'side.melody.yaml': yaml`
          name: side
          permissions: { commands: [node] }
          nodes:
            work: { uses: shell, with: { command: node, args: [work.js] } }
        `,
      });
      const run = start(root, ['run', 'side.melody.yaml']);
      await until('the program to start', () => lines(join(root, 'ledger.txt')).length > 0);
      const firstStart = Date.now();
      const firstPid = lines(join(root, 'ledger.txt'))[0]!.split(' ')[1]!;
      await sleep(300);
      run.child.kill('SIGKILL');
      await run.done;
      const runId = onlyRun(root);

      const resumed = await start(root, ['resume', runId]).done;
      assert.equal(resumed.code, 0, resumed.stderr);
      const ledger = lines(join(root, 'ledger.txt'));
      assert.equal(ledger.length, 2, ledger.join('\n'));
      const secondPid = ledger[1]!.split(' ')[1]!;
      // Past the moment the killed attempt's grandchildren would have written.
      await sleep(Math.max(0, firstStart + 11_000 - Date.now()));
      assert.deepEqual(lines(join(root, 'side.txt')).sort(), [`group ${secondPid}`, `session ${secondPid}`], `the killed attempt (pid ${firstPid}) still had its side effect`);

      const events = journal(root, runId);
      const processes = events.filter((e) => e.type === 'node-process');
      assert.deepEqual(processes.map((e) => [e.nodeId, e.attempt]), [['work', 1], ['work', 2]]);
      // The recorded group is the one Symphony started: in the sandbox, the sandbox's (the
      // program's own pid there is the namespace's, not the host's).
      assert.ok(Number.isInteger(processes[0]!.pgid) && (processes[0]!.pgid ?? 0) > 1);
      const resumedEvent = events.find((e) => e.type === 'run-resumed')!;
      assert.deepEqual(resumedEvent.stopped?.map((s) => [s.nodeId, s.attempt]), [['work', 1]]);
      assert.match(resumed.stdout, /stopped the programs left running by work \(attempt 1\)/);
    });

    it('cleans lock drafts and temp files left by killed writers, in the next run and in gc', async () => {
      const root = workspace({ 'ok.melody.yaml': 'name: ok\nnodes:\n  a: { uses: transform, with: { value: 1 } }\n' });
      const dead = deadPid();
      const old = new Date(Date.now() - 60_000);
      const shard = join(root, '.symphony', 'artifacts', 'sha256', 'ab');
      mkdirSync(shard, { recursive: true });
      const plant = () => {
        const files = {
          deadDraft: join(root, '.symphony', `audit.jsonl.lock.${dead}-0a1b2c3d4e5f6a7b.draft`),
          deadRunDraft: join(root, '.symphony', 'runs', 'owner-test', `owner.json.lock.${dead}-1a1b2c3d4e5f6a7b.draft`),
          deadHandoffDraft: join(root, '.symphony', `handoff.md.lock.${dead}-2a1b2c3d4e5f6a7b.draft`),
          deadStale: join(root, '.symphony', `DEVIATIONS.json.lock.stale-${dead}-0a1b2c3d4e5f`),
          deadTmp: join(shard, `${'ab'.padEnd(64, '0')}.${dead}-0badc0de.tmp`),
          liveDraft: join(root, '.symphony', `audit.jsonl.lock.${process.pid}-3a1b2c3d4e5f6a7b.draft`),
          liveTmp: join(shard, `${'ab'.padEnd(64, '1')}.${process.pid}-0badc0de.tmp`),
          youngTmp: join(shard, `${'ab'.padEnd(64, '2')}.${dead}-0badc0de.tmp`),
        };
        mkdirSync(join(root, '.symphony', 'runs', 'owner-test'), { recursive: true });
        for (const [name, path] of Object.entries(files)) {
          writeFileSync(path, JSON.stringify({ pid: dead }));
          if (name !== 'youngTmp') utimesSync(path, old, old);
        }
        return files;
      };
      const check = (files: ReturnType<typeof plant>, after: 'the next run' | 'gc') => {
        for (const [name, path] of Object.entries(files)) {
          // A new run does not walk every run folder; gc does.
          const kept = name.startsWith('live') || name.startsWith('young') || (name === 'deadRunDraft' && after === 'the next run');
          assert.equal(existsSync(path), kept, `${name} after ${after}`);
        }
      };
      let files = plant();
      const run = await start(root, ['run', 'ok.melody.yaml']).done;
      assert.equal(run.code, 0, run.stderr);
      check(files, 'the next run');

      files = plant();
      const gc = await start(root, ['gc']).done;
      assert.equal(gc.code, 0, gc.stderr);
      check(files, 'gc');
    });
  });

  describe('11. webhooks: signed once, used once, from nowhere but the bound address', () => {
    const SECRET = 's3cr3t-hook-value';
    let root: string;
    let serve: ReturnType<typeof start>;
    let base: URL;

    /** POST (or any method) with full control of the headers, Host and Origin included. */
    const send = (path: string, body: string, headers: Record<string, string> = {}, method = 'POST') =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: base.hostname, port: base.port, path, method, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body: text }));
        });
        req.on('error', reject);
        req.end(body);
      });

    const signed = (body: string, ts = Math.floor(Date.now() / 1000)) => ({
      'x-symphony-timestamp': String(ts),
      'x-symphony-signature-256': `sha256=${createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex')}`,
    });
    const runsOf = (melody: string) =>
      existsSync(join(root, '.symphony', 'runs'))
        ? readdirSync(join(root, '.symphony', 'runs')).filter((id) => journal(root, id)[0] && (journal(root, id)[0] as { melody?: string }).melody === melody).length
        : 0;

    const hook = (name: string, trigger: string, content = name) => yaml`
      name: ${name}
      triggers: [${trigger}]
      permissions: { fs: { write: ["out/**"] } }
      nodes:
        note: { uses: write-file, with: { path: out/${name}.txt, content: "${content}" } }
    `;

    before(async () => {
      root = workspace({
        'signed.melody.yaml': hook('signed', '{ on: webhook, path: /signed, secret: HOOK_SECRET }'),
        'gh.melody.yaml': hook('gh', '{ on: webhook, path: /gh, secret: HOOK_SECRET }'),
        'burst.melody.yaml': hook('burst', '{ on: webhook, path: /burst, secret: HOOK_SECRET }'),
        'open.melody.yaml': hook('open', '{ on: webhook, path: /open }', '${{ trigger.payload.constructor }}|${{ trigger.payload.__proto__.polluted }}|${{ trigger.payload.toString }}'),
      });
      serve = start(root, ['serve', '--port', '0'], { HOOK_SECRET: SECRET });
      await until('serve to listen', () => /webhooks: http:\/\/127\.0\.0\.1:\d+/.test(serve.output()));
      base = new URL(/webhooks: (http:\/\/127\.0\.0\.1:\d+)/.exec(serve.output())![1]!);
    });

    after(async () => {
      serve?.child.kill('SIGINT');
      await serve?.done;
    });

    it('accepts a signed request once: its replays are refused with 409', async () => {
      const body = '{"ref":"v1"}';
      const headers = signed(body);
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push((await send('/signed', body, headers)).status);
      assert.deepEqual(answers, [202, 409, 409]);
      await until('the run', () => existsSync(join(root, 'out', 'signed.txt')));
      assert.equal(runsOf('signed'), 1);
    });

    it('refuses the body-only signature, a stale or future timestamp, and a wrong signature (401)', async () => {
      const body = '{"ref":"v2"}';
      const bodyOnly = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
      assert.equal((await send('/signed', body, { 'x-symphony-signature-256': bodyOnly })).status, 401);
      const now = Math.floor(Date.now() / 1000);
      assert.equal((await send('/signed', body, signed(body, now - 360))).status, 401);
      assert.equal((await send('/signed', body, signed(body, now + 360))).status, 401);
      const res = await send('/signed', body, { ...signed(body), 'x-symphony-signature-256': `sha256=${'0'.repeat(64)}` });
      assert.equal(res.status, 401);
      assert.match(res.body, /X-Symphony-Timestamp/);
    });

    it('accepts GitHub’s X-Hub-Signature-256 once per delivery (409 for a repeat, even under another delivery id)', async () => {
      const body = '{"action":"opened"}';
      const sig = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
      const gh = (id: string) => ({ 'x-hub-signature-256': sig, 'x-github-delivery': id, 'x-github-event': 'pull_request' });
      assert.equal((await send('/gh', body, gh('72d3162e-cc78-11e3-81ab-4c9367dc0958'))).status, 202);
      assert.equal((await send('/gh', body, gh('72d3162e-cc78-11e3-81ab-4c9367dc0958'))).status, 409);
      assert.equal((await send('/gh', body, gh('00000000-0000-0000-0000-000000000000'))).status, 409);
      assert.equal((await send('/gh', body, { 'x-hub-signature-256': sig })).status, 401, 'a GitHub signature without its delivery id');
    });

    it('refuses browser origins and foreign Host headers (403), and non-JSON bodies (415)', async () => {
      assert.equal((await send('/open', '{}', { origin: 'http://evil.example' })).status, 403);
      assert.equal((await send('/open', '{}', { origin: 'null' })).status, 403);
      assert.equal((await send('/open', '{}', { host: `rebound.evil.example:${base.port}` })).status, 403);
      assert.equal((await send('/open', '{}', { host: `127.0.0.1:${Number(base.port) + 1}` })).status, 403);
      assert.equal((await send('/open', 'ref=v1', { 'content-type': 'application/x-www-form-urlencoded' })).status, 415);
      assert.equal((await send('/open', '{"a":1}', { 'content-type': 'text/plain' })).status, 415);
      assert.equal((await send('/open', 'not json', { 'content-type': 'application/json' })).status, 400);
      assert.equal(runsOf('open'), 0);
      assert.equal((await send('/open', '{}', { host: `localhost:${base.port}`, 'content-type': 'application/vnd.api+json' })).status, 202);
    });

    it('answers a burst past the route’s rate limit with 429', async () => {
      const statuses = await Promise.all(Array.from({ length: 100 }, () => send('/burst', '{}')));
      const counts = new Map<number, number>();
      for (const s of statuses) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
      assert.ok((counts.get(429) ?? 0) >= 30, `statuses: ${JSON.stringify([...counts])}`);
      assert.equal((counts.get(401) ?? 0) + (counts.get(429) ?? 0), 100);
      // Another route has its own bucket.
      assert.equal((await send('/signed', '{}', {})).status, 401);
    });

    it('keeps payload keys such as constructor and __proto__ as data', async () => {
      const res = await send('/open', '{"constructor":"c","__proto__":{"polluted":"yes"},"toString":"t"}', { host: `localhost:${base.port}` });
      assert.equal(res.status, 202, res.body);
      await until('the run', () => runsOf('open') === 2 && existsSync(join(root, 'out', 'open.txt')) && readFileSync(join(root, 'out', 'open.txt'), 'utf8').startsWith('c'));
      assert.equal(readFileSync(join(root, 'out', 'open.txt'), 'utf8'), 'c|yes|t');
    });

    it('keeps such keys as data through expressions, rendering and redaction (in process)', async () => {
      const payload = JSON.parse('{"constructor":{"name":"n"},"__proto__":{"polluted":"yes"},"nested":{"constructor":1,"hasOwnProperty":"h"}}') as Record<string, unknown>;
      const ctx = celVariables({ trigger: { payload } });
      assert.equal(await renderString('${{ trigger.payload.constructor.name }}', ctx), 'n');
      assert.equal(await renderString('${{ trigger.payload.__proto__.polluted }}', ctx), 'yes');
      assert.equal(await renderString('${{ trigger.payload.nested.constructor + 1 }}', ctx), 2);
      assert.deepEqual(JSON.parse((await renderString('${{ toJson(trigger.payload) }}', ctx)) as string), payload);
      const copied = (await renderValue(payload, ctx)) as Record<string, unknown>;
      assert.ok(Object.hasOwn(copied, '__proto__') && Object.getPrototypeOf(copied) === Object.prototype);
      const redacted = new Redactor(['secret-value']).redact(payload);
      assert.equal(JSON.stringify(redacted), JSON.stringify(payload));
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });

    it('binds beyond loopback only with --allow-remote and a secret on every webhook, and says so', async () => {
      const refused = await start(root, ['serve', '--port', '0', '--host', '0.0.0.0'], {}, 30_000).done;
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /--host 0\.0\.0\.0 is not a loopback address.*--allow-remote/s);
      const unsigned = await start(root, ['serve', '--port', '0', '--host', '0.0.0.0', '--allow-remote'], { HOOK_SECRET: SECRET }, 30_000).done;
      assert.equal(unsigned.code, 1);
      assert.match(unsigned.stderr, /open\.melody\.yaml.*\/open.*has no secret/s);
    });
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
