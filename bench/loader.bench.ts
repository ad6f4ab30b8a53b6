// How long loading a melody takes as it grows: linear is the goal (the 40k/10k ratio ≈ 4).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMelody } from '../src/core/load/melody';
import type { Bench, Figure } from './index';
import { chainMelody } from '../test/unit/support/bigMelody';


/** The least wall and CPU time of `runs` loads (40,000 nodes is past the limit: lifted here). */
function timeLoad(n: number, runs: number): { wallMs: number; cpuMs: number } {
  const text = chainMelody(n);
  let wallMs = Infinity;
  let cpuMs = Infinity;
  for (let i = 0; i < runs; i++) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    const r = loadMelody(text, 'big.melody.yaml', {}, { maxNodes: Infinity });
    wallMs = Math.min(wallMs, performance.now() - started);
    const used = process.cpuUsage(cpu);
    cpuMs = Math.min(cpuMs, (used.user + used.system) / 1000);
    if (!r.ok) throw new Error(r.error[0]?.message);
  }
  return { wallMs, cpuMs };
}

/** `node dist/cli.js <args>` in `cwd`, in ms (the least of `runs`). */
function timeCli(cwd: string, args: readonly string[], runs: number): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const r = spawnSync(process.execPath, [join(__dirname, '..', 'dist', 'cli.js'), ...args], { cwd, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`symphony ${args.join(' ')} failed:\n${r.stdout}${r.stderr}`);
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

export const bench: Bench = {
  title: 'loader',
  async run(): Promise<Figure[]> {
    const figures: Figure[] = [];
    timeLoad(1000, 2); // warm the JIT
    const times = new Map<number, { wallMs: number; cpuMs: number }>();
    for (const n of [1000, 10_000, 20_000, 40_000]) {
      const t = timeLoad(n, n >= 20_000 ? 2 : 3);
      times.set(n, t);
      figures.push({ name: `load and validate ${n.toLocaleString('en-US')} nodes (${(chainMelody(n).length / 1e6).toFixed(1)} MB)`, value: t.wallMs, unit: 'ms', note: `${t.cpuMs.toFixed(0)} ms CPU` });
    }
    const ratio = times.get(40_000)!.cpuMs / times.get(10_000)!.cpuMs;
    figures.push({ name: '40,000 / 10,000 nodes (CPU time)', value: ratio, unit: '×', note: 'ideal 4.0: linear' });

    // The CLI end to end, less what Node and the bundle take to start.
    if (existsSync(join(__dirname, '..', 'dist', 'cli.js'))) {
      const root = mkdtempSync(join(tmpdir(), 'symphony-bench-loader-'));
      try {
        writeFileSync(join(root, 'sheetMusic.md'), '# bench\n');
        writeFileSync(join(root, 'big.melody.yaml'), chainMelody(10_000));
        const startup = timeCli(root, ['--version'], 3);
        const validate = timeCli(root, ['validate', 'big.melody.yaml'], 3);
        figures.push({ name: 'symphony validate of 10,000 nodes, less Node startup', value: validate - startup, unit: 'ms', note: `${validate.toFixed(0)} ms in all; startup ${startup.toFixed(0)} ms` });
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    }
    return figures;
  },
};
