import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mock } from 'node:test';
import { loadMelody } from '../../src/core/load/melody';
import type { TriggerInfo } from '../../src/core/model/run';
import { MAX_CHAIN, TriggerDispatcher } from '../../src/core/triggers/dispatcher';
import { chainFirings, commitFirings, saveFirings, webhookRoutes, type SaveReason, type TriggerTarget } from '../../src/core/triggers/match';
import { signatureMatches, symphonySignature } from '../../src/core/triggers/webhook';
import { REPO, tempDir, waitFor, yaml } from './helpers';

function target(text: string, file = '/ws/m.melody.yaml'): TriggerTarget {
  const r = loadMelody(text, file);
  if (!r.ok) throw new Error(r.error.map((d) => d.message).join('\n'));
  return { file, melody: r.value.melody };
}

const LINT = target(yaml`
  name: lint
  triggers:
    - on: save
      paths: ["src/**/*.ts"]
      debounce: 20ms
    - on: commit
      branches: [main, "release/*"]
      paths: ["src/**"]
  nodes:
    a: { uses: notify, with: { message: hi } }
`, '/ws/lint.melody.yaml');
const ANYSAVE = target('name: any\ntriggers: [{ on: save, debounce: 20ms }]\nnodes:\n  a: { uses: notify, with: { message: hi } }\n', '/ws/any.melody.yaml');
const AFTER = target('name: notes\ntriggers: [{ on: melody, melody: build }]\nnodes:\n  a: { uses: notify, with: { message: hi } }\n', '/ws/notes.melody.yaml');
const ONFAIL = target('name: alarm\ntriggers: [{ on: melody, melody: build, when: failure }]\nnodes:\n  a: { uses: notify, with: { message: hi } }\n', '/ws/alarm.melody.yaml');
const HOOK = target('name: deploy\ntriggers: [{ on: webhook }, { on: webhook, path: /signed, secret: HOOK_SECRET }]\nnodes:\n  a: { uses: notify, with: { message: hi } }\n', '/ws/deploy.melody.yaml');

describe('triggers', () => {
  describe('matching', () => {
    it('matches saves by path globs; a trigger without paths ignores melody files and Symphony’s own', () => {
      const names = (rel: string) => saveFirings([LINT, ANYSAVE], rel).map((f) => f.target.melody.name);
      assert.deepEqual(names('src/app/main.ts'), ['lint', 'any']);
      assert.deepEqual(names('README.md'), ['any']);
      assert.deepEqual(names('melodies/x.melody.yaml'), []);
      assert.deepEqual(names('.symphony/runs/x/journal.jsonl'), []);
    });

    it('fires on saves the person makes; auto-saves after a delay only with autosave: true', () => {
      const TYPING = target('name: typing\ntriggers: [{ on: save, paths: ["src/**"], autosave: true }]\nnodes:\n  a: { uses: notify, with: { message: hi } }\n', '/ws/typing.melody.yaml');
      const names = (reason: SaveReason) => saveFirings([LINT, ANYSAVE, TYPING], 'src/app/main.ts', reason).map((f) => f.target.melody.name);
      assert.deepEqual(names('explicit'), ['lint', 'any', 'typing']);
      assert.deepEqual(names('focus'), ['lint', 'any', 'typing'], 'auto-save on focus change is the person leaving the file');
      assert.deepEqual(names('delay'), ['typing']);
    });

    it('refuses a non-boolean autosave at its position', () => {
      const r = loadMelody('name: x\ntriggers:\n  - { on: save, autosave: sometimes }\nnodes:\n  a: { uses: notify, with: { message: hi } }\n', '/ws/x.melody.yaml');
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.error[0]!.range.start.line, 3);
      assert.match(r.error[0]!.message, /autosave/);
    });

    it('matches commits by branch and touched paths', () => {
      const hit = (branch: string | undefined, files: string[]) => commitFirings([LINT], { branch, files }).length === 1;
      assert.equal(hit('main', ['src/a.ts']), true);
      assert.equal(hit('release/2.0', ['src/a.ts']), true);
      assert.equal(hit('feature/x', ['src/a.ts']), false);
      assert.equal(hit('main', ['docs/a.md']), false);
      assert.equal(hit(undefined, ['src/a.ts']), false, 'a detached HEAD matches no branch filter');
    });

    it('chains on the upstream status', () => {
      const names = (status: 'success' | 'failure' | 'cancelled') => chainFirings([AFTER, ONFAIL], { melody: 'build', status }).map((f) => f.target.melody.name);
      assert.deepEqual(names('success'), ['notes']);
      assert.deepEqual(names('failure'), ['alarm']);
      assert.deepEqual(names('cancelled'), []);
      assert.deepEqual(chainFirings([AFTER], { melody: 'other', status: 'success' }), []);
    });

    it('routes webhooks to /<melody name> unless a path is given', () => {
      assert.deepEqual(webhookRoutes([HOOK]).map((r) => r.path), ['/deploy', '/signed']);
    });
  });

  describe('the dispatcher', () => {
    function dispatcher(targets: TriggerTarget[]) {
      const started: { melody: string; trigger: TriggerInfo }[] = [];
      let n = 0;
      const d = new TriggerDispatcher({
        root: '/ws',
        targets: () => targets,
        start: async (t, trigger) => {
          started.push({ melody: t.melody.name, trigger });
          return `run-${++n}`;
        },
        secrets: async (name) => (name === 'HOOK_SECRET' ? 's3cr3t-hook' : undefined),
      });
      after(() => d.dispose());
      return { d, started };
    }

    it('debounces saves: a burst of saves starts each melody once, with the last file', () => {
      // Fake timers: "nothing more starts" is then a fact about the pending timers, not a
      // hope that a real wait was long enough on a busy machine.
      mock.timers.enable({ apis: ['setTimeout'] });
      try {
        const { d, started } = dispatcher([LINT]);
        d.fileSaved('/ws/src/a.ts');
        d.fileSaved('/ws/src/b.ts');
        mock.timers.tick(19);
        d.fileSaved('/ws/src/c.ts');
        mock.timers.tick(19);
        assert.deepEqual(started, [], 'each save restarts the 20 ms debounce');
        mock.timers.tick(1);
        assert.deepEqual(started, [{ melody: 'lint', trigger: { kind: 'save', detail: 'src/c.ts', file: 'src/c.ts' } }]);
        mock.timers.tick(60_000);
        assert.equal(started.length, 1, 'nothing else was pending');
        d.fileSaved('/elsewhere/src/a.ts');
        mock.timers.tick(60_000);
        assert.equal(started.length, 1, 'files outside the workspace start nothing');
      } finally {
        mock.timers.reset();
      }
    });

    it('asks hold before a trigger starts a run, and starts nothing it holds back', async () => {
      const started: string[] = [];
      const logged: string[] = [];
      const d = new TriggerDispatcher({
        root: '/ws',
        targets: () => [AFTER, ONFAIL],
        start: async (t) => (started.push(t.melody.name), 'r1'),
        hold: async (t) => (t.melody.name === 'notes' ? 'it needs a model, and none is reachable' : undefined),
        log: (_level, message) => logged.push(message),
      });
      after(() => d.dispose());
      await d.runEnded({ runId: 'b1', melody: 'build', status: 'success' });
      await d.runEnded({ runId: 'b2', melody: 'build', status: 'failure' });
      assert.deepEqual(started, ['alarm']);
      assert.ok(logged.includes('notes: not started by melody: it needs a model, and none is reachable'), logged.join('\n'));
    });

    it('starts chained melodies and stops a chain that loops', async () => {
      const a = target('name: ping\ntriggers: [{ on: melody, melody: pong }]\nnodes:\n  a: { uses: notify, with: { message: hi } }\n', '/ws/ping.melody.yaml');
      const b = target('name: pong\ntriggers: [{ on: melody, melody: ping }]\nnodes:\n  a: { uses: notify, with: { message: hi } }\n', '/ws/pong.melody.yaml');
      const warnings: string[] = [];
      let n = 0;
      const started: string[] = [];
      const d = new TriggerDispatcher({
        root: '/ws',
        targets: () => [a, b],
        start: async (t) => (started.push(t.melody.name), `run-${++n}`),
        log: (level, message) => level === 'warning' && warnings.push(message),
      });
      // Each started run "ends" at once and is reported back, as a host would.
      let ended = { runId: 'run-0', melody: 'ping', status: 'success' as const };
      for (let i = 0; i < MAX_CHAIN + 3; i++) {
        await d.runEnded(ended);
        if (started.length === i) break;
        ended = { runId: `run-${n}`, melody: started[started.length - 1]!, status: 'success' };
      }
      assert.equal(started.length, MAX_CHAIN);
      assert.match(warnings[0]!, /chain stopped after 8 melodies/);
      await d.dispose();
    });

    it('fires schedules and reports when each fires next', async () => {
      const every = target('name: tick\ntriggers: [{ on: schedule, cron: "* * * * * *" }]\nnodes:\n  a: { uses: notify, with: { message: hi } }\n', '/ws/tick.melody.yaml');
      const { d, started } = dispatcher([every]);
      d.refresh();
      const [s] = d.schedules();
      assert.equal(s!.melody, 'tick');
      assert.ok(s!.next instanceof Date && s!.next.getTime() > Date.now() - 1000);
      await waitFor('the schedule to fire', () => started.length > 0);
      assert.deepEqual(started[0], { melody: 'tick', trigger: { kind: 'schedule', detail: '* * * * * *' } });
    });

    it('answers webhooks over real HTTP: payloads, signatures and errors', async () => {
      const { d, started } = dispatcher([HOOK]);
      const base = await d.listen(0);
      const post = (path: string, body: string, headers: Record<string, string> = {}) =>
        fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

      let res = await post('/deploy', '{"ref":"v1.2"}');
      assert.equal(res.status, 202);
      assert.deepEqual(await res.json(), { accepted: ['deploy (run-1)'] });
      assert.deepEqual(started[0]!.trigger, { kind: 'webhook', detail: 'POST /deploy', payload: { ref: 'v1.2' } });

      const body = '{"ok":true}';
      const now = String(Math.floor(Date.now() / 1000));
      res = await post('/signed', body, { 'x-symphony-timestamp': now, 'x-symphony-signature-256': 'sha256=deadbeef' });
      assert.equal(res.status, 401);
      res = await post('/signed', body, { 'x-symphony-timestamp': now, 'x-symphony-signature-256': symphonySignature('s3cr3t-hook', now, body) });
      assert.equal(res.status, 202);
      const github = `sha256=${createHmac('sha256', 's3cr3t-hook').update(body).digest('hex')}`;
      res = await post('/signed', body, { 'x-hub-signature-256': github, 'x-github-delivery': 'd-1' });
      assert.equal(res.status, 202);

      assert.equal((await post('/nowhere', '{}')).status, 404);
      assert.equal((await fetch(`${base}/deploy`)).status, 405);
      assert.equal((await post('/deploy', 'x'.repeat(1024 * 1024 + 1))).status, 413);
      assert.equal(started.length, 3);
    });

    it('signs "<timestamp>.<body>" in Symphony\'s scheme', () => {
      assert.equal(symphonySignature('k', '1700000000', '{"a":1}'), `sha256=${createHmac('sha256', 'k').update('1700000000.{"a":1}').digest('hex')}`);
    });

    it('compares signatures in constant time and only in the sha256= form', () => {
      const body = Buffer.from('x');
      const sig = `sha256=${createHmac('sha256', 'k').update(body).digest('hex')}`;
      assert.equal(signatureMatches(body, 'k', sig), true);
      assert.equal(signatureMatches(body, 'k', sig.slice(0, -1)), false);
      assert.equal(signatureMatches(body, 'k', undefined), false);
      assert.equal(signatureMatches(body, 'k', sig.replace('sha256=', 'sha1=')), false);
    });
  });

  describe('symphony serve (real process)', () => {
    it('runs a melody when its webhook is called, then the melody chained after it', async function () {
      const bin = join(REPO, 'dist', 'cli.js');
      if (!existsSync(bin)) throw new Error('dist/cli.js is missing: run `npm run build` first (npm test does)');
      const root = tempDir('symphony-serve-');
      writeFileSync(join(root, 'sheetMusic.md'), '# serve\n');
      writeFileSync(
        join(root, 'deploy.melody.yaml'),
        yaml`
          name: deploy
          triggers: [{ on: webhook }]
          permissions: { fs: { write: ["out/**"] } }
          nodes:
            save: { uses: write-file, with: { path: out/ref.txt, content: "\${{ trigger.payload.ref }}" } }
        `,
      );
      writeFileSync(join(root, 'announce.melody.yaml'), yaml`
        name: announce
        triggers: [{ on: melody, melody: deploy }]
        permissions: { fs: { write: ["out/**"] } }
        nodes:
          note: { uses: write-file, with: { path: out/announced.txt, content: "after \${{ trigger.upstream.melody }}" } }
      `);
      const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], { cwd: root });
      try {
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        const url = await waitFor(() => `serve to print its webhook; it printed:\n${out}`, () => /POST (http:\/\/127\.0\.0\.1:\d+\/deploy)/.exec(out)?.[1]);
        const res = await fetch(url, { method: 'POST', body: '{"ref":"v2.1"}', headers: { 'content-type': 'application/json' } });
        assert.equal(res.status, 202);
        // Its content, not only the file: write-file creates the file before it writes to it.
        const announced = join(root, 'out', 'announced.txt');
        await waitFor(() => `the chained melody to write its file; serve printed:\n${out}`, () => existsSync(announced) && readFileSync(announced, 'utf8') !== '');
        assert.equal(readFileSync(join(root, 'out', 'ref.txt'), 'utf8'), 'v2.1');
        assert.equal(readFileSync(join(root, 'out', 'announced.txt'), 'utf8'), 'after deploy');
        assert.equal(readdirSync(join(root, '.symphony', 'runs')).length, 2);
      } finally {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGINT');
          await exited;
        }
      }
    });

    it('does not chain a melody that needs a model none is set up for, and says so once', async function () {
      const bin = join(REPO, 'dist', 'cli.js');
      if (!existsSync(bin)) throw new Error('dist/cli.js is missing: run `npm run build` first (npm test does)');
      const root = tempDir('symphony-serve-model-');
      writeFileSync(join(root, 'sheetMusic.md'), '# serve\n');
      mkdirSync(join(root, 'ensembles', 'core'), { recursive: true });
      writeFileSync(join(root, 'ensembles', 'core', 'writer.yaml'), 'nickname: Quill\nkind: model\nrole: Writes.\nmodel: { provider: anthropic, id: claude-sonnet-4-5, apiKeyEnv: SYMPHONY_SERVE_TEST_KEY }\n');
      writeFileSync(join(root, 'deploy.melody.yaml'), yaml`
        name: deploy
        triggers: [{ on: webhook }]
        nodes:
          done: { uses: transform, with: { value: deployed } }
      `);
      writeFileSync(join(root, 'notes.melody.yaml'), yaml`
        name: notes
        triggers: [{ on: melody, melody: deploy }]
        nodes:
          draft: { uses: summarize, instrument: core/writer, with: { text: "a deploy" } }
      `);
      const env = { ...process.env };
      delete env.SYMPHONY_SERVE_TEST_KEY;
      const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], { cwd: root, env });
      try {
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        const url = await waitFor(() => `serve to print its webhook; it printed:\n${out}${err}`, () => /POST (http:\/\/127\.0\.0\.1:\d+\/deploy)/.exec(out)?.[1]);
        for (let n = 1; n <= 2; n++) {
          assert.equal((await fetch(url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status, 202);
          await waitFor(
            () => `notes to be held back after deploy ${n}; serve printed:\n${out}${err}`,
            () => (err.match(/notes: not started by melody: it needs a model/g) ?? []).length === n,
          );
        }
        assert.equal((err.match(/notes needs a model, and none is set up here: draft \(core\/writer: its API key SYMPHONY_SERVE_TEST_KEY is not set/g) ?? []).length, 1, err);
        const melodies = readdirSync(join(root, '.symphony', 'runs')).map((id) => (JSON.parse(readFileSync(join(root, '.symphony', 'runs', id, 'run.json'), 'utf8')) as { melody: string }).melody);
        assert.deepEqual(melodies, ['deploy', 'deploy']);
      } finally {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGINT');
          await exited;
        }
      }
    });
  });
});
