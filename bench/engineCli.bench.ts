// The engine as a user runs it: the `symphony` CLI (dist/cli.js, as `npm run bench` builds
// it) on 200 shell nodes of `sleep 0.01` in 20 levels of 10, 8 at a time — next to GNU make
// with -j8 on the same DAG (the bench writes both files), measured in the same run, and a
// bare Node script that runs the same DAG with nothing but spawns: the floor for any engine
// in Node on this machine, sandboxed and not. Then the same melody with `cache: true`, run
// twice: the second run finds every node cached.
// Each timing is the median of RUNS, so one stall of a loaded machine does not decide it.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunRecord } from '../src/core/model/run';
import { PermissionGuard } from '../src/core/engine/permissions';
import { programHost } from '../src/core/programs/host';
import { launch } from '../src/core/programs/launch';
import { resolveProgram } from '../src/core/programs/resolve';
import type { Bench, Figure } from './index';

const CLI = join(__dirname, '..', 'dist', 'cli.js');
const LEVELS = 20;
const WIDTH = 10;
const PARALLEL = 8;
const RUNS = 3;

const id = (level: number, n: number) => `l${level}n${n}`;
const needsOf = (level: number) => (level ? Array.from({ length: WIDTH }, (_, k) => id(level - 1, k)) : []);

/** The melody: every node of a level needs every node of the level before. */
function melody(options: { sandbox: boolean; cache?: boolean }): string {
  const lines = ['name: dag', 'permissions:', '  commands: [sleep]'];
  if (!options.sandbox) lines.push('  sandbox: "off"');
  if (options.cache) lines.push('cache: true');
  lines.push('nodes:');
  for (let l = 0; l < LEVELS; l++) {
    for (let n = 0; n < WIDTH; n++) {
      lines.push(`  ${id(l, n)}:`, '    uses: shell', '    with: { command: sleep, args: ["0.01"] }');
      // Otherwise every node is the same work under one key, and the first run already
      // takes all but the first level from the cache.
      if (options.cache) lines.push(`    env: { NODE: ${id(l, n)} }`);
      if (l) lines.push(`    needs: [${needsOf(l).join(', ')}]`);
    }
  }
  return lines.join('\n') + '\n';
}

/** The same DAG for make: one phony target per node, its needs as prerequisites. */
function makefile(): string {
  const targets: string[] = [];
  const rules: string[] = [];
  for (let l = 0; l < LEVELS; l++) {
    for (let n = 0; n < WIDTH; n++) {
      targets.push(id(l, n));
      rules.push(`${id(l, n)}:${l ? ` ${needsOf(l).join(' ')}` : ''}\n\t@sleep 0.01`);
    }
  }
  const last = Array.from({ length: WIDTH }, (_, k) => id(LEVELS - 1, k));
  return `.PHONY: all ${targets.join(' ')}\nall: ${last.join(' ')}\n${rules.join('\n')}\n`;
}

/** Wall time of a process, from spawn to exit; rejects on a non-zero exit. */
async function timedProcess(command: string, args: string[], cwd: string): Promise<number> {
  const started = performance.now();
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr}`);
  return ms;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function newestRun(root: string): RunRecord {
  const runs = JSON.parse(execFileSync(process.execPath, [CLI, 'runs', '--json'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })) as { runId: string }[];
  const runId = runs[0]!.runId;
  return JSON.parse(readFileSync(join(root, '.symphony', 'runs', runId, 'run.json'), 'utf8')) as RunRecord;
}

/** A workspace holding the melody, the Makefile and the floor script. */
function workspace(options: { sandbox: boolean; cache?: boolean }): string {
  const root = mkdtempSync(join(tmpdir(), 'symphony-bench-dag-'));
  writeFileSync(join(root, 'sheetMusic.md'), '# bench\n');
  writeFileSync(join(root, 'dag.melody.yaml'), melody(options));
  writeFileSync(join(root, 'Makefile'), makefile());
  writeFileSync(join(root, 'floor.cjs'), FLOOR);
  return root;
}

/**
 * The floor for any engine written in Node: a bare Node script that runs the same DAG the
 * same way — each node's command line (its first argument, as JSON) with an argument
 * array, in a process group of its own with its output piped and read, 8 at a time, each
 * the moment its last need ends — and nothing else (no journal, guard or log). It prints
 * each program's time from getting its slot to its close.
 */
const FLOOR = `
const { spawn } = require('node:child_process');
const [LEVELS, WIDTH, PARALLEL] = [${LEVELS}, ${WIDTH}, ${PARALLEL}];
const [COMMAND, ...ARGS] = JSON.parse(process.argv[2]);
const pending = Array.from({ length: LEVELS }, (_, l) => Array(WIDTH).fill(l ? WIDTH : 0));
const ready = [];
for (let n = 0; n < WIDTH; n++) ready.push([0, n]);
const durations = [];
let running = 0;
// A node's time starts when it gets its slot, as a node's duration does in Symphony: the
// nodes given slots together then wait for each other's spawns, as they wait for the
// spawner's there.
function pump() {
  const slotted = performance.now();
  while (running < PARALLEL && ready.length) start(...ready.shift(), slotted);
}
function start(l, n, started) {
  running++;
  const child = spawn(COMMAND, ARGS, { shell: false, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end();
  child.stdout.on('data', () => {});
  child.stderr.on('data', () => {});
  child.on('close', (code) => {
    if (code !== 0) throw new Error(COMMAND + ' exited with ' + code);
    durations.push(performance.now() - started);
    running--;
    if (l + 1 < LEVELS) for (let k = 0; k < WIDTH; k++) if (--pending[l + 1][k] === 0) ready.push([l + 1, k]);
    pump();
  });
}
pump();
process.on('exit', () => {
  durations.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({ nodes: durations.length, medianMs: durations[durations.length >> 1] }));
});
`;

/**
 * Each node's command line in the floor: `sleep 0.01`, or — sandboxed — the very command
 * line Symphony spawns for that node (`launch`, with the melody's permissions): bubblewrap
 * with the same namespaces and mounts around the same `sleep`.
 */
async function floorCommand(root: string, sandbox: boolean): Promise<string[]> {
  const programs = programHost(process.env as Record<string, string>);
  const sleep = await resolveProgram('sleep', root, { path: process.env.PATH, platform: process.platform });
  if (!sleep) throw new Error('sleep is not on PATH');
  const permissions = new PermissionGuard(root, { commands: ['sleep'], ...(sandbox ? {} : { sandbox: 'off' as const }) });
  const launched = await launch({ permissions, workspaceRoot: root, programs, log: () => undefined }, { executable: sleep, name: 'sleep', args: ['0.01'], env: {}, cwd: root });
  await launched.finish();
  return [launched.command, ...launched.args];
}

/** The floor script's run (written beside the melody by `workspace`): its whole process time and its programs' median. */
async function floorRun(root: string, command: readonly string[]): Promise<{ ms: number; medianMs: number }> {
  const file = join(root, 'floor.cjs');
  const started = performance.now();
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [file, JSON.stringify(command)], { cwd: root }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
  );
  const ms = performance.now() - started;
  const result = JSON.parse(out) as { nodes: number; medianMs: number };
  if (result.nodes !== LEVELS * WIDTH) throw new Error(`the floor ran ${result.nodes} of ${LEVELS * WIDTH} programs`);
  return { ms, medianMs: result.medianMs };
}

/** One `sleep 0.01` spawned from Node and waited for: what a node's program costs at least. */
async function bareSleep(): Promise<number> {
  const started = performance.now();
  const child = spawn('sleep', ['0.01'], { stdio: 'ignore' });
  await once(child, 'exit');
  return performance.now() - started;
}

function which(program: string): Promise<boolean> {
  return new Promise((resolve) => execFile(program, ['--version'], (error) => resolve(!error)));
}

export const bench: Bench = {
  title: 'engine through the CLI, against make',
  async run(): Promise<Figure[]> {
    if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: `npm run bench` builds it first');
    if (!(await which('make'))) throw new Error('GNU make is missing: apt-get install make');
    const figures: Figure[] = [];
    const roots: string[] = [];
    try {
      const nodes = LEVELS * WIDTH;
      const peerMs: number[] = [];
      for (const sandbox of [true, false]) {
        const root = workspace({ sandbox });
        roots.push(root);
        const ours: number[] = [];
        const nodeMedians: number[] = [];
        const floors: { ms: number; medianMs: number }[] = [];
        const command = await floorCommand(root, sandbox);
        for (let i = 0; i < RUNS; i++) {
          // Alternated, so all see the same moments of a busy machine.
          peerMs.push(await timedProcess('make', ['-s', `-j${PARALLEL}`], root));
          ours.push(await timedProcess(process.execPath, [CLI, 'run', 'dag.melody.yaml'], root));
          const record = newestRun(root);
          nodeMedians.push(median(Object.values(record.nodes).map((n) => n.durationMs ?? 0)));
          floors.push(await floorRun(root, command));
        }
        const make = median(peerMs);
        const sym = median(ours);
        const how = sandbox ? 'sandboxed (bubblewrap)' : 'sandbox: off';
        figures.push({
          name: `${nodes} shell nodes, whole CLI run / make -j${PARALLEL}, ${how}`,
          value: sym / make,
          unit: '×',
          note: `symphony ${(sym / 1000).toFixed(2)} s, make ${(make / 1000).toFixed(2)} s; target ≤ 1.2`,
        });
        const floor = median(floors.map((f) => f.ms));
        figures.push({
          name: `  a bare Node script running the same DAG / make -j${PARALLEL}`,
          value: floor / make,
          unit: '×',
          note: `${(floor / 1000).toFixed(2)} s: the floor for an engine in Node on this machine (${sandbox ? 'each sleep in bubblewrap as Symphony wraps it; ' : ''}spawns, pipes, 8 at a time, nothing else); symphony / this floor ${(sym / floor).toFixed(2)} ×`,
        });
        const spawnMs: number[] = [];
        for (let i = 0; i < 20; i++) spawnMs.push(await bareSleep());
        figures.push({
          name: `one sleep 0.01 node's duration (median), ${how}`,
          value: median(nodeMedians),
          unit: 'ms',
          note: `a bare spawn of sleep 0.01 from Node: ${median(spawnMs).toFixed(1)} ms, one at a time; ${median(floors.map((f) => f.medianMs)).toFixed(1)} ms in the bare Node script's DAG${sandbox ? ', in bubblewrap' : ''}; target ≤ 20 ms`,
        });
      }


      // The same melody with `cache: true`: a first run fills the cache, the second finds it.
      const root = workspace({ sandbox: true, cache: true });
      roots.push(root);
      const firstMs = await timedProcess(process.execPath, [CLI, 'run', 'dag.melody.yaml'], root);
      const first = newestRun(root);
      const againMs = await timedProcess(process.execPath, [CLI, 'run', 'dag.melody.yaml'], root);
      const second = newestRun(root);
      const cached = Object.values(second.nodes).filter((n) => n.cached).length;
      figures.push({
        name: `re-run of the unchanged ${nodes}-node melody / first run`,
        value: (100 * second.durationMs!) / first.durationMs!,
        unit: '%',
        note: `run ${second.durationMs} ms vs ${first.durationMs} ms; whole CLI ${(againMs / 1000).toFixed(2)} s vs ${(firstMs / 1000).toFixed(2)} s; ${cached} of ${nodes} nodes cached; target ≤ 5 %`,
      });
    } finally {
      for (const root of roots) rmSync(root, { recursive: true, force: true });
    }
    return figures;
  },
};
