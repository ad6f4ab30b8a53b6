// Engine throughput and scheduling quality, over the real file-backed journal and store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { Engine } from '../src/core/engine/engine';
import { loadMelody } from '../src/core/load/melody';
import { builtinNodes } from '../src/core/nodes';
import type { NodeImplementation, NodeRegistry } from '../src/core/nodes/types';
import { FileArtifactStore } from '../src/core/store/artifacts';
import { FileAuditLog } from '../src/core/store/audit';
import { FileRunStorage } from '../src/core/store/runs';
import type { Bench, Figure } from './index';

const RUNS = 3;

async function medianOf(measure: () => Promise<number>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) xs.push(await measure());
  return xs.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
}

function engineIn(root: string, nodes: NodeRegistry, maxParallel: number): Engine {
  return new Engine({
    workspaceRoot: root,
    storage: new FileRunStorage(root),
    artifacts: new FileArtifactStore(root),
    audit: new FileAuditLog(root),
    host: { name: 'test', approve: async () => true, notify: () => undefined },
    nodes,
    maxParallel,
  });
}

async function runMelody(engine: Engine, root: string, doc: object): Promise<number> {
  const text = stringify(doc);
  const file = join(root, 'bench.melody.yaml');
  const loaded = loadMelody(text, file);
  if (!loaded.ok) throw new Error(loaded.error.map((d) => d.message).join('\n'));
  const started = performance.now();
  const r = await engine.run({ melody: loaded.value.melody, file, text });
  if (r.state !== 'success') throw new Error(`bench run ended ${r.state}`);
  return performance.now() - started;
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
      // 1. Raw throughput: no-op nodes, every event journaled and fsynced.
      // Each figure is the median of RUNS runs (a fresh engine each): one stall of a loaded
      // machine, or the first run's compiling, does not decide it.
      const n = 1000;
      const ms = await medianOf(() => runMelody(engineIn(root, builtinNodes, 8), root, noopDag(n)));
      figures.push({ name: `no-op DAG of ${n} nodes: nodes per second`, value: (n * 1000) / ms, unit: 'nodes/s', note: 'target ≥ 10,000' });
      figures.push({ name: `no-op DAG of ${n} nodes: wall time`, value: ms, unit: 'ms' });

      // 2. Scheduling quality: 200 nodes of 10 ms on 20 levels; the critical path is 20 × 10 ms.
      const sleeper: NodeImplementation<'transform'> = {
        kind: 'transform',
        run: async () => {
          await sleep(10);
          return { output: null };
        },
      };
      const levels = 20;
      const width = 10;
      const makespan = await medianOf(() => runMelody(engineIn(root, { ...builtinNodes, transform: sleeper }, width), root, layered(levels, width)));
      const critical = levels * 10;
      // The peer: the same sleeps level by level without the engine — what this machine's
      // timers alone make of 20 × 10 ms (a loaded machine fires them late).
      const timersOnly = await medianOf(async () => {
        const started = performance.now();
        for (let l = 0; l < levels; l++) await Promise.all(Array.from({ length: width }, () => sleep(10)));
        return performance.now() - started;
      });
      figures.push({
        name: `makespan / critical path, ${levels * width} × 10 ms sleeps on ${levels} levels`,
        value: makespan / critical,
        unit: '',
        note: `target ≤ 1.05; ${makespan.toFixed(0)} ms vs ${critical} ms, parallel limit ${width}; the timers alone: ${(timersOnly / critical).toFixed(3)}`,
      });
      figures.push({ name: 'makespan / the same sleeps without the engine', value: makespan / timersOnly, unit: '', note: `${makespan.toFixed(0)} ms vs ${timersOnly.toFixed(0)} ms` });

      // 3. Journal appends: awaited one by one (one fdatasync each), and many at once (group commit).
      const storage = new FileRunStorage(root);
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
