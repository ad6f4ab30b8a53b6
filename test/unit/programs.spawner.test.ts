import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHelpersEarly } from '../../src/cli/commands/runEarly';
import { runProgram, type ProgramRequest } from '../../src/core/nodes/shell';
import type { NodeError } from '../../src/core/nodes/types';
import { prepareForPrograms, programHost, type ProgramHost } from '../../src/core/programs/host';
import { Spawner } from '../../src/core/programs/spawner';
import { groupAlive } from '../../src/core/store/processes';
import { waitFor } from './helpers';

const LINUX = process.platform === 'linux';

/** The parent of a process, from /proc (Linux). */
const parentOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);

function request(spawner: Spawner | 'direct', script: string, extra: Partial<ProgramRequest> = {}): ProgramRequest {
  return { command: process.execPath, name: 'node', args: ['-e', script], cwd: process.cwd(), env: { PATH: process.env.PATH ?? '' }, signal: new AbortController().signal, via: spawner, ...extra };
}

(process.platform === 'win32' ? describe.skip : describe)('programs: the helper that spawns them', () => {
  let spawner: Spawner;
  beforeEach(() => (spawner = new Spawner()));
  afterEach(() => {
    for (const pid of spawner.helperPids) process.kill(pid, 'SIGKILL');
  });

  it('starts programs from the helper, not from this process, with the same result as a direct spawn', async () => {
    let spawned: number | undefined;
    const script = "process.stdin.pipe(process.stdout); process.stderr.write('é'.repeat(3)); process.on('exit', () => (process.exitCode = 3))";
    const through = await runProgram(request(spawner, script, { stdin: 'hello\n', onSpawn: (pid) => (spawned = pid) }));
    const direct = await runProgram(request('direct', script, { stdin: 'hello\n' }));
    assert.deepEqual(through, direct);
    assert.deepEqual(through, { stdout: 'hello\n', stderr: 'ééé', exitCode: 3, exitSignal: null, stderrTail: ['ééé'] });
    assert.ok(spawned && spawner.helperPid && spawned !== spawner.helperPid);
    if (LINUX) {
      // Told the pid while the program runs: its parent is the helper, and it leads its own group.
      let pid: number | undefined;
      const running = runProgram(request(spawner, 'setTimeout(() => {}, 30000)', { onSpawn: (p) => (pid = p) }));
      await waitFor('the pid', () => pid !== undefined);
      assert.equal(parentOf(pid!), spawner.helperPid, 'the helper is its parent');
      assert.equal(await groupAlive(pid!), true, 'its pid is its process group');
      process.kill(-pid!, 'SIGKILL');
      assert.equal((await running).exitSignal, 'SIGKILL');
    }
  });

  (LINUX ? it : it.skip)('starts programs side by side from several helpers; a helper that dies fails only what it started', async () => {
    const pool = new Spawner(undefined, 2);
    try {
      const pids: number[] = [];
      const long = (n: number) => runProgram(request(pool, 'setTimeout(() => {}, 30000)', { onSpawn: (p) => (pids[n] = p) }));
      // Asked at the same moment: the second goes to the helper that is not busy starting the first.
      const first = long(0);
      const second = long(1);
      await waitFor('both pids', () => pids[0] !== undefined && pids[1] !== undefined);
      const parents = pids.map(parentOf);
      assert.deepEqual([...parents].sort(), [...pool.helperPids].sort(), 'one program in each helper');
      assert.equal(pool.helperPids.length, 2);
      process.kill(parents[0]!, 'SIGKILL');
      await assert.rejects(first, (e: NodeError) => /node was stopped: the helper that starts programs ended unexpectedly/.test(e.message) && e.retryable);
      for (let i = 0; (await groupAlive(pids[0]!)) && i < 300; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(await groupAlive(pids[0]!), false, 'the program the dead helper started was stopped');
      assert.equal(await groupAlive(pids[1]!), true, 'the other helper’s program runs on');
      process.kill(-pids[1]!, 'SIGKILL');
      assert.equal((await second).exitSignal, 'SIGKILL', 'and still reports how it ended');
      // The dead helper's place is taken by a new one for the next program.
      const next = await runProgram(request(pool, "process.stdout.write('again')"));
      assert.equal(next.stdout, 'again');
      assert.equal(pool.helperPids.length, 2);
      assert.ok(!pool.helperPids.includes(parents[0]!));
    } finally {
      for (const pid of pool.helperPids) process.kill(pid, 'SIGKILL');
    }
  });

  it('starts each of many programs asked for at once with its own input, output and exit code', async () => {
    // Many requests in one turn, through one helper, their replies interleaved: each is still its own program.
    const one = new Spawner(undefined, 1);
    try {
      const script = 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => { process.stdout.write(s.toUpperCase()); process.exitCode = s.length; })';
      const inputs = Array.from({ length: 12 }, (_, i) => `program ${i} ${'x'.repeat(i)}`);
      const results = await Promise.all(inputs.map((stdin) => runProgram(request(one, script, { stdin }))));
      assert.deepEqual(
        results.map((r) => [r.stdout, r.exitCode]),
        inputs.map((i) => [i.toUpperCase(), i.length]),
      );
      assert.equal(one.helperPids.length, 1, 'all through the one helper');
    } finally {
      for (const pid of one.helperPids) process.kill(pid, 'SIGKILL');
    }
  });

  it('reports a program that cannot start as the direct spawn does', async () => {
    const missing = request(spawner, '', { command: '/nonexistent/program', name: 'program' });
    await assert.rejects(runProgram(missing), /program program was not found/);
    await assert.rejects(runProgram({ ...missing, via: 'direct' }), /program program was not found/);
    await assert.rejects(runProgram(request(spawner, 'x', { args: ['a\0b'] })), /could not start/);
  });

  it('stops a program that is still starting when the signal aborts, its whole group', async () => {
    const controller = new AbortController();
    let pid: number | undefined;
    const running = runProgram(request(spawner, "require('child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' }); setTimeout(() => {}, 30000)", { signal: controller.signal, onSpawn: (p) => (pid = p) }));
    controller.abort(new Error('stop'));
    await assert.rejects(running, /was stopped \(stop\)/);
    if (pid !== undefined) assert.equal(await groupAlive(pid), false, 'nothing of its group is left');
  });

  it('when the helper dies, fails what it was running, stops those programs, and starts a new helper for the next', async () => {
    let pid: number | undefined;
    const running = runProgram(request(spawner, 'setTimeout(() => {}, 30000)', { onSpawn: (p) => (pid = p) }));
    await waitFor('the pid', () => pid !== undefined);
    const first = spawner.helperPid!;
    process.kill(first, 'SIGKILL');
    await assert.rejects(running, (e: NodeError) => /node was stopped: the helper that starts programs ended unexpectedly/.test(e.message) && e.retryable);
    for (let i = 0; (await groupAlive(pid!)) && i < 300; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await groupAlive(pid!), false, 'the program it had started was stopped');
    const next = await runProgram(request(spawner, "process.stdout.write('again')"));
    assert.equal(next.stdout, 'again');
    assert.notEqual(spawner.helperPid, first);
  });

  it('gets ready for a melody that runs programs before its first node: the helper, and the sandbox unless it is off', async () => {
    let detections = 0;
    const base = programHost({ PATH: process.env.PATH ?? '' });
    const host: ProgramHost = { ...base, sandbox: () => (detections++, base.sandbox()) };
    prepareForPrograms(host, { permissions: {} }, spawner);
    prepareForPrograms(host, { permissions: { commands: [] } }, spawner);
    assert.deepEqual([spawner.helperPid, detections], [undefined, 0], 'a melody that runs no program gets nothing');
    prepareForPrograms(host, { permissions: { commands: ['node'], sandbox: 'off' } }, spawner);
    const helper = spawner.helperPid;
    assert.deepEqual([helper !== undefined, detections], [true, 0], 'unsandboxed: the helper only');
    prepareForPrograms(host, { permissions: { commands: ['node'] } }, spawner);
    assert.deepEqual([spawner.helperPid, detections], [helper, 1], 'the same helper, and the sandbox detected');
    // The helper it started runs the first program (alive long enough to be looked at).
    let parent: number | undefined;
    await runProgram(request(spawner, 'setTimeout(() => {}, 1000)', { onSpawn: (pid) => LINUX && (parent = parentOf(pid)) }));
    assert.equal(spawner.helperPid, helper);
    if (LINUX) assert.equal(parent, helper);
  });

  it('is started by `symphony run` from the melody text when it lists commands, unless the node cache may serve it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'symphony-early-'));
    try {
      const started = async (text: string | undefined) => {
        const file = join(dir, 'm.melody.yaml');
        rmSync(file, { force: true });
        if (text !== undefined) writeFileSync(file, text);
        const own = new Spawner(undefined, 1);
        await startHelpersEarly(file, own);
        const pid = own.helperPid;
        for (const p of own.helperPids) process.kill(p, 'SIGKILL');
        return pid !== undefined;
      };
      const nodes = 'nodes:\n  a:\n    uses: shell\n    with: { command: node }\n';
      assert.equal(await started(`name: m\npermissions:\n  commands: [node]\n${nodes}`), process.platform !== 'win32');
      assert.equal(await started(`name: m\n${nodes}`), false, 'no commands: no helper');
      assert.equal(await started(`name: m\ncache: true\npermissions:\n  commands: [node]\n${nodes}`), false, 'left to the engine once a node is not cached');
      assert.equal(await started(undefined), false, 'no file: nothing (the run says why)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not keep the process that uses it running once its programs have ended', () => {
    // A process that ran a program through the helper and then has nothing left to do exits.
    const script = `
      const { runProgram } = require(${JSON.stringify(require.resolve('../../src/core/nodes/shell'))});
      runProgram({ command: process.execPath, args: ['-e', ''], cwd: process.cwd(), env: {}, signal: new AbortController().signal }).then((r) => console.log('ran', r.exitCode));
    `;
    // Nor does a helper started ahead of a program that never came.
    const idle = `
      const { sharedSpawner } = require(${JSON.stringify(require.resolve('../../src/core/programs/spawner'))});
      sharedSpawner().prestart();
      console.log('started', sharedSpawner().helperPid !== undefined);
    `;
    const early = spawnSync(process.execPath, ['--import', 'tsx', '-e', idle], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(early.error, undefined, 'it exited by itself');
    assert.equal(early.stdout.trim(), 'started true', early.stderr);
    const result = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.error, undefined, 'it exited by itself');
    assert.equal(result.stdout.trim(), 'ran 0', result.stderr);
  });
});
