import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cli, processesWith, REPO, tempDir, waitFor, yaml } from './helpers';

function workspace(melodies: Record<string, string>): string {
  const root = tempDir('symphony-cli-run-');
  writeFileSync(join(root, 'sheetMusic.md'), '# test\n');
  for (const [name, text] of Object.entries(melodies)) writeFileSync(join(root, name), text);
  return root;
}

const PIPELINE = yaml`
  name: pipeline
  inputs:
    who: { type: string, default: world }
    times: { type: number, default: 1 }
  permissions:
    commands: [node]
    fs: { write: ["out/**"] }
  nodes:
    greet:
      uses: shell
      with: { command: node, args: ["-e", "console.log('hello ' + process.argv[1])", "\${{ inputs.who }}"] }
    save:
      uses: write-file
      needs: [greet]
      with: { path: out/greeting.txt, content: "\${{ nodes.greet.output.stdout }}" }
`;

describe('symphony run and the run records', () => {
  it('runs a melody and prints the JSON shape of DESIGN.md §6', async () => {
    const root = workspace({ 'p.melody.yaml': PIPELINE });
    const r = await cli(root, ['run', 'p.melody.yaml', '--input', 'who=Ada', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(out), ['runId', 'melody', 'status', 'nodes', 'tokens', 'costUsd']);
    assert.equal(out.status, 'success');
    assert.equal(out.nodes.greet.output.stdout, 'hello Ada\n');
    assert.deepEqual(out.nodes.save.output, { path: 'out/greeting.txt', bytes: 10 });
    assert.equal(out.nodes.greet.attempts, 1);
    assert.ok(Date.parse(out.nodes.greet.startedAt) <= Date.parse(out.nodes.greet.endedAt));
    assert.deepEqual(out.tokens, { input: 0, output: 0 });
    assert.equal(readFileSync(join(root, 'out', 'greeting.txt'), 'utf8'), 'hello Ada\n');
  });

  it('takes unchanged cache: true nodes from the cache, says so, and runs them all with --no-cache', async () => {
    const root = workspace({
      'c.melody.yaml': yaml`
        name: cached
        cache: true
        permissions: { commands: [node] }
        nodes:
          stamp: { uses: shell, with: { command: node, args: ["-e", "console.log(process.hrtime.bigint())"] } }
      `,
    });
    const first = await cli(root, ['run', 'c.melody.yaml', '--json']);
    assert.equal(first.code, 0, first.stderr);
    const again = await cli(root, ['run', 'c.melody.yaml']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /✓ stamp cached/);
    const json = JSON.parse((await cli(root, ['run', 'c.melody.yaml', '--json'])).stdout);
    assert.equal(json.nodes.stamp.cached, true);
    assert.equal(json.nodes.stamp.output.stdout, JSON.parse(first.stdout).nodes.stamp.output.stdout, 'the stored output, not a new one');
    const forced = JSON.parse((await cli(root, ['run', 'c.melody.yaml', '--json', '--no-cache'])).stdout);
    assert.equal(forced.nodes.stamp.cached, undefined);
    assert.notEqual(forced.nodes.stamp.output.stdout, json.nodes.stamp.output.stdout, 'the node ran again');
  });

  it('prints progress lines without --json and exits 1 when the run fails', async () => {
    const root = workspace({
      'f.melody.yaml': yaml`
        name: failing
        permissions: { commands: [node] }
        nodes:
          boom: { uses: shell, with: { command: node, args: ["-e", "console.error('kaputt'); process.exit(3)"] } }
          after: { uses: transform, needs: [boom], with: { value: 1 } }
      `,
    });
    const r = await cli(root, ['run', 'f.melody.yaml']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^▶ failing run \d{8}-\d{6}-[0-9a-f]{6}$/m);
    assert.match(r.stdout, /^ {2}✗ boom \d+ms node exited with code 3:\nkaputt$/m);
    assert.match(r.stdout, /^ {2}○ after skipped: the run is stopping: boom failed$/m);
    assert.match(r.stdout, /^✗ failure in \d+ms — boom failed$/m);
  });

  it('--dry-run prints the plan and runs nothing', async () => {
    const root = workspace({ 'p.melody.yaml': PIPELINE });
    const r = await cli(root, ['run', 'p.melody.yaml', '--dry-run', '--json']);
    assert.equal(r.code, 0);
    const plan = JSON.parse(r.stdout);
    assert.deepEqual(plan.levels, [['greet'], ['save']]);
    assert.deepEqual(plan.inputs, { who: 'world', times: 1 });
    assert.equal(existsSync(join(root, '.symphony', 'runs')), false, 'a dry run records nothing');
    assert.equal(existsSync(join(root, 'out')), false);
  });

  it('refuses bad inputs and invalid melodies before starting', async () => {
    const root = workspace({ 'p.melody.yaml': PIPELINE, 'bad.melody.yaml': 'name: bad\nnodes:\n  a: { uses: shel }\n' });
    let r = await cli(root, ['run', 'p.melody.yaml', '--input', 'times=many']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /input times must be a number, not "many"/);
    r = await cli(root, ['run', 'p.melody.yaml', '--input', 'colour=red']);
    assert.match(r.stderr, /has no input "colour" \(its inputs: who, times\)/);
    r = await cli(root, ['run', 'p.melody.yaml', '--input', 'novalue']);
    assert.equal(r.code, 2);
    r = await cli(root, ['run', 'bad.melody.yaml']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.melody\.yaml is not a valid melody:\nbad\.melody\.yaml:3:14: unknown node kind `shel`; did you mean `shell`\?/);
  });

  it('needs --yes (or a terminal) for approval nodes', async () => {
    const root = workspace({ 'a.melody.yaml': 'name: gate\nnodes:\n  ok: { uses: approval, with: { message: Deploy to production } }\n' });
    let r = await cli(root, ['run', 'a.melody.yaml', '--json']);
    assert.equal(r.code, 1);
    assert.match(JSON.parse(r.stdout).nodes.ok.error, /"Deploy to production" needs approval: run again with --yes/);
    r = await cli(root, ['run', 'a.melody.yaml', '--json', '--yes']);
    assert.equal(r.code, 0);
    r = await cli(root, ['run', 'a.melody.yaml', '--json'], { interactive: true, ask: async () => 'n' });
    assert.match(JSON.parse(r.stdout).nodes.ok.error, /declined/);
  });

  it('reads secrets from the environment and keeps them out of the records', async () => {
    const root = workspace({
      's.melody.yaml': yaml`
        name: secretive
        permissions: { commands: [node] }
        nodes:
          use: { uses: shell, with: { command: node, args: ["-e", "console.log('got ' + process.argv[1])", "\${{ secrets.DEPLOY_TOKEN }}"] } }
      `,
    });
    const r = await cli(root, ['run', 's.melody.yaml', '--json'], { env: { DEPLOY_TOKEN: 'tok-3141592653' } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).nodes.use.output.stdout, 'got ***\n');
    const runDir = join(root, '.symphony', 'runs', readdirSync(join(root, '.symphony', 'runs'))[0]!);
    for (const f of ['journal.jsonl', 'run.json']) assert.ok(!readFileSync(join(runDir, f), 'utf8').includes('tok-3141592653'), f);
  });

  it('says "not a Symphony workspace" for runs outside one, with what to do', async () => {
    const outside = tempDir('symphony-cli-outside-');
    const r = await cli(outside, ['runs']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /is not a Symphony workspace .*`symphony init`/);
    assert.doesNotMatch(r.stderr, /no runs yet/);
    // Inside one that has not run anything yet, it is the empty list it was.
    const empty = await cli(workspace({}), ['runs']);
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(empty.stdout, /^no runs yet/);
  });

  it('lists runs, replays from a node, reports metrics, verifies and detects audit tampering, collects garbage', async () => {
    const root = workspace({ 'p.melody.yaml': PIPELINE });
    const first = JSON.parse((await cli(root, ['run', 'p.melody.yaml', '--json'])).stdout);
    const replay = await cli(root, ['replay', first.runId, '--from', 'save', '--json']);
    assert.equal(replay.code, 0, replay.stderr);
    const again = JSON.parse(replay.stdout);
    assert.equal(again.nodes.greet.reason, `taken from run ${first.runId}`);
    assert.equal(again.nodes.save.status, 'success');

    const runs = JSON.parse((await cli(root, ['runs', '--json'])).stdout) as { runId: string; status: string }[];
    assert.deepEqual(runs.map((r) => r.runId), [again.runId, first.runId]);
    assert.match((await cli(root, ['runs'])).stdout, new RegExp(`^${first.runId} {2}success {3}pipeline`, 'm'));

    const metrics = (await cli(root, ['metrics'])).stdout;
    assert.match(metrics, /^symphony_runs_total\{melody="pipeline",status="success"\} 2$/m);
    assert.match(metrics, /^# TYPE symphony_node_duration_seconds histogram$/m);

    let audit = await cli(root, ['audit', 'verify']);
    assert.equal(audit.code, 0);
    assert.match(audit.stdout, /audit log intact: \d+ records/);
    const log = join(root, '.symphony', 'audit.jsonl');
    const lines = readFileSync(log, 'utf8').split('\n');
    lines[2] = lines[2]!.replace('"success"', '"failure"');
    writeFileSync(log, lines.join('\n'));
    audit = await cli(root, ['audit', 'verify']);
    assert.equal(audit.code, 1);
    assert.match(audit.stdout, /^✗ \.symphony\/audit\.jsonl:3: /m);

    const gc = await cli(root, ['gc', '--keep-last', '1']);
    assert.match(gc.stdout, /^removed 1 run, \d+ cache (entry|entries) and \d+ artifacts?, freed/);
    assert.deepEqual(JSON.parse((await cli(root, ['runs', '--json'])).stdout).map((r: { runId: string }) => r.runId), [again.runId]);
  });

  it('appends to handoff.md', async () => {
    const root = workspace({});
    const r = await cli(root, ['handoff', 'append', '--instrument', 'Tuba', '--model', 'llama3.1', '--summary', 'Moved the schema to v2.']);
    assert.equal(r.code, 0);
    const text = readFileSync(join(root, 'handoff.md'), 'utf8');
    assert.match(text, /### .+ — Tuba/);
    assert.match(text, /Moved the schema to v2\./);
  });

  it('cancels on Ctrl+C: the child process stops and the run ends cancelled (real process)', async () => {
    // In the sandbox a program's pid is not the host's: it is found by a marker in its arguments.
    const marker = `symphony-ctrl-c-${Date.now()}`;
    const root = workspace({
      'slow.melody.yaml': yaml`
        name: slow
        permissions: { commands: [node] }
        nodes:
          wait: { uses: shell, with: { command: node, args: ["-e", "require('fs').writeFileSync('pid', ''); setTimeout(() => {}, 60000)", "${marker}"] } }
      `,
    });
    const bin = join(REPO, 'dist', 'cli.js');
    if (!existsSync(bin)) throw new Error('dist/cli.js is missing: run `npm run build` first (npm test does)');
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [bin, 'run', 'slow.melody.yaml', '--json'], { cwd: root });
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    let stopped = false;
    try {
      await waitFor('the node to start', () => existsSync(join(root, 'pid')));
      assert.ok(processesWith(marker).length > 0, 'the node’s process runs');
      child.kill('SIGINT');
      assert.equal(await exited, 1);
      assert.equal(JSON.parse(out).status, 'cancelled');
      assert.deepEqual(processesWith(marker), [], 'the node’s process was stopped with the run');
      stopped = true;
    } finally {
      // A failed test must not leave the CLI, or the minute-long node it started, behind.
      if (!stopped) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        for (const pid of processesWith(marker)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
    }
  });
});

describe('symphony run on the demo workspace (real process)', () => {
  it('runs the demo build melody end to end', async function () {
    this.timeout(60_000);
    const bin = join(REPO, 'dist', 'cli.js');
    const root = tempDir('symphony-demo-');
    cpSync(join(REPO, 'examples', 'demo'), root, { recursive: true });
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'run', 'melodies/build.melody.yaml', '--json'], { cwd: root });
    const out = JSON.parse(stdout);
    assert.equal(out.status, 'success');
    assert.match(out.nodes.test.output.stdout, /# pass 1/);
  });
});
