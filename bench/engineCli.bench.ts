// The engine as a user runs it: the `symphony` CLI (dist/cli.js, as `npm run bench` builds
// it) on 200 shell nodes of `sleep 0.01` in 20 levels of 10, 8 at a time — next to GNU make
// with -j8 on the same DAG (the bench writes both files), measured in the same run. Then
// the same melody with `cache: true`, run twice: the second run finds every node cached.
// Each timing is the median of RUNS, so one stall of a loaded machine does not decide it.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunRecord } from '../src/core/model/run';
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

/** A workspace holding the melody and the Makefile. */
function workspace(options: { sandbox: boolean; cache?: boolean }): string {
  const root = mkdtempSync(join(tmpdir(), 'symphony-bench-dag-'));
  writeFileSync(join(root, 'sheetMusic.md'), '# bench\n');
  writeFileSync(join(root, 'dag.melody.yaml'), melody(options));
  writeFileSync(join(root, 'Makefile'), makefile());
  return root;
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
        for (let i = 0; i < RUNS; i++) {
          // Alternated, so both see the same moments of a busy machine.
          peerMs.push(await timedProcess('make', ['-s', `-j${PARALLEL}`], root));
          ours.push(await timedProcess(process.execPath, [CLI, 'run', 'dag.melody.yaml'], root));
          const record = newestRun(root);
          nodeMedians.push(median(Object.values(record.nodes).map((n) => n.durationMs ?? 0)));
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
        const spawnMs: number[] = [];
        for (let i = 0; i < 20; i++) spawnMs.push(await bareSleep());
        figures.push({
          name: `one sleep 0.01 node's duration (median), ${how}`,
          value: median(nodeMedians),
          unit: 'ms',
          note: `a bare spawn of sleep 0.01 from Node: ${median(spawnMs).toFixed(1)} ms; target ≤ 20 ms`,
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
