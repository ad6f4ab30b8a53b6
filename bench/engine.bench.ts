// Engine throughput and scheduling quality, over the real file-backed journal and store.
//
// The engine measured is the code users run: its modules bundled by esbuild as the CLI's
// build bundles them (esbuild.mjs: ESM, node20, minified, no keepNames), imported from
// dist/bench/. Run from src through tsx instead, every function gets tsx's keepNames
// `__name` wrapper (a defineProperty per closure created), which the shipped bundle does
// not have; the first row is measured that way too, for comparison.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { stringify } from 'yaml';
import * as fromSource from '../src/core/engine/engine';
import * as melodyFromSource from '../src/core/load/melody';
import * as nodesFromSource from '../src/core/nodes';
import type { NodeImplementation, NodeRegistry } from '../src/core/nodes/types';
import * as artifactsFromSource from '../src/core/store/artifacts';
import * as auditFromSource from '../src/core/store/audit';
import * as runsFromSource from '../src/core/store/runs';
import type { Bench, Figure } from './index';

const execFileAsync = promisify(execFile);
const RUNS = 3;
/** Runs before the warm figure: enough for V8 to have optimized the engine's hot path. */
const WARMUP_RUNS = 5;
/** Dependents of the one node of the fan-out row. */
const FAN_OUT = 10_000;
const REPO = resolve(__dirname, '..');

/** What the bench needs of the engine's modules. */
type EngineModules = typeof fromSource &
  typeof melodyFromSource &
  typeof nodesFromSource &
  typeof artifactsFromSource &
  typeof auditFromSource &
  typeof runsFromSource;

const SOURCE: EngineModules = { ...fromSource, ...melodyFromSource, ...nodesFromSource, ...artifactsFromSource, ...auditFromSource, ...runsFromSource };

/**
 * The same modules bundled with the CLI's esbuild settings, into dist/bench/ (beside
 * dist/celWorker.js, where the bundled engine looks for its expression worker).
 */
async function bundled(): Promise<EngineModules> {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
  const outfile = join(REPO, 'dist', 'bench', 'engine.mjs');
  await esbuild.build({
    stdin: {
      contents: ['engine/engine', 'load/melody', 'nodes', 'store/artifacts', 'store/audit', 'store/runs'].map((m) => `export * from './src/core/${m}';`).join('\n'),
      resolveDir: REPO,
      loader: 'ts',
      sourcefile: 'bench-engine.ts',
    },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    external: ['node-llama-cpp'],
    define: { SYMPHONY_VERSION: JSON.stringify(pkg.version) },
    banner: {
      js: [
        "import { createRequire as __symphonyRequire } from 'node:module';",
        "import { fileURLToPath as __symphonyPath } from 'node:url';",
        'const require = __symphonyRequire(import.meta.url);',
        'const __filename = __symphonyPath(import.meta.url);',
        "const __dirname = __symphonyPath(new URL('.', import.meta.url));",
      ].join('\n'),
    },
  });
  return (await import(pathToFileURL(outfile).href)) as EngineModules;
}

async function medianOf(measure: () => Promise<number>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) xs.push(await measure());
  return xs.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
}

function engineIn(m: EngineModules, root: string, nodes: NodeRegistry, maxParallel: number): fromSource.Engine {
  return new m.Engine({
    workspaceRoot: root,
    storage: new m.FileRunStorage(root),
    artifacts: new m.FileArtifactStore(root),
    audit: new m.FileAuditLog(root),
    host: { name: 'test', approve: async () => true, notify: () => undefined },
    nodes,
    maxParallel,
  });
}

/**
 * Runs `doc` (loaded first, outside the timing) and resolves with the milliseconds from the
 * run's start to its end, and to its first node's start.
 */
async function timedRun(m: EngineModules, engine: fromSource.Engine, root: string, doc: object): Promise<{ total: number; firstStart: number }> {
  const text = stringify(doc);
  const file = join(root, 'bench.melody.yaml');
  const loaded = m.loadMelody(text, file);
  if (!loaded.ok) throw new Error(loaded.error.map((d) => d.message).join('\n'));
  let first: number | undefined;
  const started = performance.now();
  const r = await engine.run({ melody: loaded.value.melody, file, text, onEvent: (e) => void (e.type === 'node-started' && (first ??= performance.now())) });
  if (r.state !== 'success' || first === undefined) throw new Error(`bench run ended ${r.state}`);
  return { total: performance.now() - started, firstStart: first - started };
}

async function runMelody(m: EngineModules, engine: fromSource.Engine, root: string, doc: object): Promise<number> {
  return (await timedRun(m, engine, root, doc)).total;
}

/**
 * One run of the bundled engine in a new Node process, timed as runMelody times it (the
 * melody loaded first, outside the timing): what a single `symphony run` gets of the engine.
 */
async function firstRunInProcess(root: string, doc: object): Promise<number> {
  const file = join(root, 'bench.melody.yaml');
  writeFileSync(file, stringify(doc));
  const script = [
    `const m = await import(${JSON.stringify(pathToFileURL(join(REPO, 'dist', 'bench', 'engine.mjs')).href)});`,
    `const text = (await import('node:fs')).readFileSync(${JSON.stringify(file)}, 'utf8');`,
    `const loaded = m.loadMelody(text, ${JSON.stringify(file)});`,
    `const engine = new m.Engine({ workspaceRoot: ${JSON.stringify(root)}, storage: new m.FileRunStorage(${JSON.stringify(root)}), artifacts: new m.FileArtifactStore(${JSON.stringify(root)}), audit: new m.FileAuditLog(${JSON.stringify(root)}), host: { name: 'test', approve: async () => true, notify: () => undefined }, nodes: m.builtinNodes, maxParallel: 8 });`,
    'const started = performance.now();',
    `const r = await engine.run({ melody: loaded.value.melody, file: ${JSON.stringify(file)}, text });`,
    "if (r.state !== 'success') throw new Error(`bench run ended ${r.state}`);",
    'process.stdout.write(String(performance.now() - started));',
  ].join('\n');
  const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script], { cwd: root });
  return Number(stdout);
}

/**
 * One `symphony run` of `doc` (dist/cli.js, as `npm run bench` builds it), timed by the
 * run's own record: from its start to its `run-finished` (the audit trail written), the
 * melody's load outside it as in the rows above; the flush of that last journal line is
 * not counted (a few milliseconds the rows above include). The CLI's code cache holds the
 * `run` command's bytecode (made by a run before, as for anyone who has run a melody
 * once): V8 compiles none of it as it runs.
 */
async function cliRun(root: string, doc: object): Promise<number> {
  if (!existsSync(join(REPO, 'dist', 'cli.js'))) throw new Error('dist/cli.js is missing: `npm run bench` builds it first');
  writeFileSync(join(root, 'sheetMusic.md'), '# bench\n');
  writeFileSync(join(root, 'noop.melody.yaml'), stringify(doc));
  const { stdout } = await execFileAsync(process.execPath, [join(REPO, 'dist', 'cli.js'), 'run', 'noop.melody.yaml', '--json'], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  const { runId, status } = JSON.parse(stdout) as { runId: string; status: string };
  if (status !== 'success') throw new Error(`bench run ended ${status}`);
  const record = JSON.parse(readFileSync(join(root, '.symphony', 'runs', runId, 'run.json'), 'utf8')) as { startedAt: string; endedAt: string };
  return Date.parse(record.endedAt) - Date.parse(record.startedAt);
}

/** `width` transform nodes that all need one root node. */
function fanOut(width: number): object {
  const nodes: Record<string, object> = { root: { uses: 'transform', with: { value: 0 } } };
  for (let i = 0; i < width; i++) nodes[`n${i}`] = { uses: 'transform', with: { value: i }, needs: 'root' };
  return { name: 'fan-out', nodes };
}

/** 1,000 transform nodes, each needing up to two random earlier nodes (seeded). */
function noopDag(n: number): object {
  let seed = 7;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const nodes: Record<string, object> = {};
  for (let i = 0; i < n; i++) {
    const needs = i === 0 ? [] : [...new Set([Math.floor(rnd() * i), Math.floor(rnd() * i)])].map((j) => `n${j}`);
    nodes[`n${i}`] = { uses: 'transform', with: { value: i }, ...(needs.length ? { needs } : {}) };
  }
  return { name: 'noop', nodes };
}

/** `levels` levels of `width` nodes; each node needs every node of the level before. */
function layered(levels: number, width: number): object {
  const nodes: Record<string, object> = {};
  for (let l = 0; l < levels; l++) {
    for (let w = 0; w < width; w++) {
      nodes[`l${l}n${w}`] = { uses: 'transform', with: { value: 1 }, ...(l ? { needs: Array.from({ length: width }, (_, k) => `l${l - 1}n${k}`) } : {}) };
    }
  }
  return { name: 'layered', nodes };
}

export const bench: Bench = {
  title: 'engine',
  async run(): Promise<Figure[]> {
    const figures: Figure[] = [];
    const root = mkdtempSync(join(tmpdir(), 'symphony-bench-'));
    try {
      const built = await bundled();
      const n = 1000;
      const levels = 20;
      const width = 10;
      const critical = levels * 10;
      // The peer of the makespan: the same sleeps level by level without the engine — what
      // this machine's timers alone make of 20 × 10 ms (a loaded machine fires them late).
      const timersOnly = await medianOf(async () => {
        const started = performance.now();
        for (let l = 0; l < levels; l++) await Promise.all(Array.from({ length: width }, () => sleep(10)));
        return performance.now() - started;
      });
      for (const [m, how] of [
        [built, 'bundled as the CLI ships'],
        [SOURCE, 'src through tsx'],
      ] as const) {
        const primary = m === built;
        // 1. Raw throughput: no-op nodes, every event journaled and fsynced.
        // Each figure is the median of RUNS runs (a fresh engine each): one stall of a loaded
        // machine, or the first run's compiling, does not decide it.
        const ms = await medianOf(() => runMelody(m, engineIn(m, root, m.builtinNodes, 8), root, noopDag(n)));
        figures.push({ name: `no-op DAG of ${n} nodes: nodes per second`, value: (n * 1000) / ms, unit: 'nodes/s', note: primary ? `target ≥ 10,000; ${how}` : how });
        if (primary) {
          figures.push({ name: `no-op DAG of ${n} nodes: wall time`, value: ms, unit: 'ms', note: how });
          // The same run at both ends of V8's warm-up, which the three runs above sit between:
          // once compiled and optimized (an extension host that has run melodies before),
          // and as the only run of a fresh process (one `symphony run`).
          for (let i = 0; i < WARMUP_RUNS; i++) await runMelody(m, engineIn(m, root, m.builtinNodes, 8), root, noopDag(n));
          const warm = await medianOf(() => runMelody(m, engineIn(m, root, m.builtinNodes, 8), root, noopDag(n)));
          figures.push({ name: `no-op DAG of ${n} nodes, warm (after ${WARMUP_RUNS + RUNS} runs in the process)`, value: (n * 1000) / warm, unit: 'nodes/s', note: `${warm.toFixed(0)} ms; ${how}` });
          const cold = await medianOf(() => firstRunInProcess(root, noopDag(n)));
          figures.push({ name: `no-op DAG of ${n} nodes, a fresh process's only run`, value: (n * 1000) / cold, unit: 'nodes/s', note: `${cold.toFixed(0)} ms, the engine's module already loaded, compiled as it runs; ${how}` });
          await cliRun(root, noopDag(n)); // makes the CLI's code cache for `run`, if it had none
          const cli = await medianOf(() => cliRun(root, noopDag(n)));
          figures.push({ name: `no-op DAG of ${n} nodes, one \`symphony run\``, value: (n * 1000) / cli, unit: 'nodes/s', note: `${cli.toFixed(0)} ms from its start to its run-finished; dist/cli.js with its code cache` });

          // A wide fan-out: one node that 10,000 others need. Setting up the schedule must stay
          // linear in the edges (it was quadratic in one node's dependents).
          const fan = await medianOf(async () => (await timedRun(m, engineIn(m, root, m.builtinNodes, 8), root, fanOut(FAN_OUT))).firstStart);
          figures.push({ name: `fan-out: one node needed by ${FAN_OUT.toLocaleString('en-US')}, until it starts`, value: fan, unit: 'ms', note: `${how}; the whole run's setup before its first node` });
        }

        // 2. Scheduling quality: 200 nodes of 10 ms on 20 levels; the critical path is 20 × 10 ms.
        const sleeper: NodeImplementation<'transform'> = {
          kind: 'transform',
          run: async () => {
            await sleep(10);
            return { output: null };
          },
        };
        const makespan = await medianOf(() => runMelody(m, engineIn(m, root, { ...m.builtinNodes, transform: sleeper }, width), root, layered(levels, width)));
        figures.push({
          name: `makespan / critical path, ${levels * width} × 10 ms sleeps on ${levels} levels`,
          value: makespan / critical,
          unit: '',
          note: `${primary ? 'target ≤ 1.05; ' : ''}${how}; ${makespan.toFixed(0)} ms vs ${critical} ms, parallel limit ${width}; the timers alone: ${(timersOnly / critical).toFixed(3)}`,
        });
        if (primary) figures.push({ name: 'makespan / the same sleeps without the engine', value: makespan / timersOnly, unit: '', note: `${how}; ${makespan.toFixed(0)} ms vs ${timersOnly.toFixed(0)} ms` });
      }

      // 3. Journal appends: awaited one by one (one fdatasync each), and many at once (group commit).
      const storage = new built.FileRunStorage(root);
      const event = (i: number) => ({ type: 'node-log' as const, runId: 'bench', at: new Date().toISOString(), nodeId: 'x', stream: 'stdout' as const, text: `line ${i}` });
      let journal = await storage.create('20260101-000000-bench1');
      let count = 500;
      let t = performance.now();
      for (let i = 0; i < count; i++) await journal.append(event(i));
      figures.push({ name: 'journal appends, each awaited (fdatasync per append)', value: (count * 1000) / (performance.now() - t), unit: 'appends/s' });
      await journal.close();
      journal = await storage.create('20260101-000000-bench2');
      count = 20_000;
      t = performance.now();
      await Promise.all(Array.from({ length: count }, (_, i) => journal.append(event(i))));
      figures.push({ name: 'journal appends, issued together (group commit)', value: (count * 1000) / (performance.now() - t), unit: 'appends/s' });
      await journal.close();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    return figures;
  },
};
