// The deviation marker scan over a generated tree of 20,000 files, against plain ripgrep
// over the same tree with the same rules: the ratio is what streaming rg's JSON and
// parsing the matching files in Node costs on top of rg itself. Also the pure-Node walk
// (the CLI without rg) and the per-keystroke re-scan of one open document.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanText } from '../src/core/deviations/markers';
import { ripgrepArgs, scanMarkers } from '../src/core/deviations/scan';
import type { Bench, Figure } from './index';

const FILES = 20_000;
const PER_DIR = 100;
/** One file in this many holds a marker. */
const MARKER_EVERY = 100;
const RUNS = 5;

/** A TypeScript-looking file of about 2 KB; some hold a marker, some mention one in a string. */
function source(i: number): string {
  const lines = [`// file ${i}`, `import { helper } from './helper';`, ''];
  for (let f = 0; f < 12; f++) lines.push(`export function f${i}_${f}(x: number): number {`, `  const url = "http://example.com/${f}";`, `  return helper(x) + ${f}; // plain comment`, '}', '');
  if (i % MARKER_EVERY === 0) lines.splice(5, 0, `  // ARCHITECTURAL_MISMATCH: file ${i} needs a list, not a map`);
  if (i % 37 === 0) lines.push(`const example = "// DEVIATION_MINOR: only in a string";`);
  return lines.join('\n') + '\n';
}

/** The tree: src/dNNN/fNNNNN.ts, plus ignored folders that must not be read. */
function generate(root: string): void {
  for (let i = 0; i < FILES; i++) {
    const dir = join(root, 'src', `d${String(Math.floor(i / PER_DIR)).padStart(3, '0')}`);
    if (i % PER_DIR === 0) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${String(i).padStart(5, '0')}.ts`), source(i));
  }
  writeFileSync(join(root, '.gitignore'), 'node_modules/\ndist/\n');
  for (const ignored of ['node_modules/dep', 'dist']) {
    mkdirSync(join(root, ignored), { recursive: true });
    for (let i = 0; i < 500; i++) writeFileSync(join(root, ignored, `x${i}.js`), '// FUNDAMENTAL_BREAK: ignored\n');
  }
}

/** Plain ripgrep with the scan's own arguments; its JSON output is read and dropped. */
async function plainRg(rg: string, root: string): Promise<number> {
  const started = performance.now();
  const child = spawn(rg, ripgrepArgs(), { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
  child.stdout.resume();
  await once(child, 'close');
  return performance.now() - started;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

const middle = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Runs `a` and `b` in turn `RUNS` times (after one round to warm the file cache), so both
 * meet the same machine load; the medians of each and of their ratio per round.
 */
async function paired(a: () => Promise<number>, b: () => Promise<number>): Promise<{ a: number; b: number; ratio: number }> {
  await a();
  await b();
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    as.push(await a());
    bs.push(await b());
  }
  return { a: middle(as), b: middle(bs), ratio: middle(bs.map((x, i) => x / as[i]!)) };
}

/** Milliseconds of one clock tick in /proc/self/stat. */
const TICK_MS = 1000 / (Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100);

/**
 * CPU time used so far by this process and by its children that have exited (ripgrep), in
 * ms; children undefined where /proc is not there. The children's count goes by clock ticks
 * (10 ms), so it is read over all rounds, not per run.
 */
function cpuNow(): { self: number; children: number | undefined } {
  const { user, system } = process.cpuUsage();
  let children: number | undefined;
  try {
    // stat(5): cutime and cstime are fields 16 and 17; the split drops fields 1 and 2.
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    children = (Number(fields[13]) + Number(fields[14])) * TICK_MS;
  } catch {
    children = undefined;
  }
  return { self: (user + system) / 1000, children };
}

/** CPU time over all rounds of one function: this process's, and its children's. */
interface Cpu {
  self: number;
  children: number | undefined;
}

/**
 * Each of `fns` in turn `RUNS` times (after one round to warm the file cache): the median of
 * each, and of each pair's ratio (second / first) per round; and each one's CPU time summed
 * over the rounds, which a busy machine disturbs less than wall time.
 */
async function rounds(fns: readonly (() => Promise<number>)[]): Promise<{ medians: number[]; ratios: number[]; cpu: Cpu[] }> {
  for (const fn of fns) await fn();
  const times = fns.map(() => [] as number[]);
  const cpu: Cpu[] = fns.map(() => ({ self: 0, children: 0 }));
  for (let i = 0; i < RUNS; i++) {
    for (const [j, fn] of fns.entries()) {
      const before = cpuNow();
      times[j]!.push(await fn());
      const after = cpuNow();
      cpu[j]!.self += after.self - before.self;
      cpu[j]!.children = after.children === undefined || before.children === undefined ? undefined : cpu[j]!.children! + after.children - before.children;
    }
  }
  const ratios: number[] = [];
  for (let j = 0; j + 1 < fns.length; j += 2) ratios.push(middle(times[j + 1]!.map((x, i) => x / times[j]![i]!)));
  return { medians: times.map(middle), ratios, cpu };
}

/** Whether two programs are the same bytes (a bare name is looked up on PATH). */
function sameFile(a: string, b: string): boolean {
  const path = (p: string) => (p.includes('/') ? p : spawnSync('which', [p], { encoding: 'utf8' }).stdout.trim());
  try {
    return readFileSync(path(a)).equals(readFileSync(path(b)));
  } catch {
    return false;
  }
}

/** VS Code's own rg, as the extension uses it, when code-server is installed here. */
function vscodeRg(): string | undefined {
  const dir = process.env.SYMPHONY_CODE_SERVER_DIR ?? join(homedir(), '.cache', 'symphony', 'code-server-4.100.3');
  const rg = join(dir, 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg');
  return existsSync(rg) ? rg : undefined;
}

export const bench: Bench = {
  title: `Deviation marker scan, ${FILES.toLocaleString('en')} files`,
  async run(): Promise<Figure[]> {
    const root = mkdtempSync(join(tmpdir(), 'symphony-scan-bench-'));
    try {
      generate(root);
      const figures: Figure[] = [];
      // Both ripgreps in the same rounds, so each meets the same machine load: measured one
      // after the other, the second pair ran on a busier or quieter machine than the first.
      const vscode = vscodeRg();
      const rgs: [label: string, rg: string][] = [['system rg', 'rg'], ...(vscode ? [["VS Code's rg", vscode] as [string, string]] : [])];
      const counts = new Map<string, number>();
      const pairs = rgs.flatMap(([label, rg]) => [
        () => plainRg(rg, root),
        () =>
          timed(async () => {
            const r = await scanMarkers(root, { rg });
            if (r.engine !== 'ripgrep') throw new Error(`${rg} did not run`);
            counts.set(label, r.markers.length);
          }),
      ]);
      const m = await rounds(pairs);
      rgs.forEach(([label, rg], i) => {
        const found = counts.get(label);
        if (found !== FILES / MARKER_EVERY) throw new Error(`expected ${FILES / MARKER_EVERY} markers, found ${found}`);
        const same = i > 0 && sameFile(rg, rgs[0]![1]) ? ', the same program as the system rg' : '';
        figures.push(
          { name: `plain rg --json over the tree (${label})`, value: m.medians[2 * i]!, unit: 'ms', note: `median of ${RUNS}${same}` },
          { name: `scanMarkers with ripgrep (${label})`, value: m.medians[2 * i + 1]!, unit: 'ms', note: `${found} markers` },
          { name: `ratio scan / plain rg (${label})`, value: m.ratios[i]!, unit: '×', note: 'median per round; ideal 1.0, target ≤ 1.15' },
          { name: `Node CPU of the scan beyond plain rg's (${label})`, value: (m.cpu[2 * i + 1]!.self - m.cpu[2 * i]!.self) / RUNS, unit: 'ms', note: `per scan, mean of ${RUNS}` },
        );
        const [plain, scan] = [m.cpu[2 * i]!, m.cpu[2 * i + 1]!];
        if (plain.children !== undefined && scan.children !== undefined) {
          const total = (c: Cpu) => c.self + c.children!;
          figures.push({
            name: `CPU ratio scan / plain rg (${label})`,
            value: total(scan) / total(plain),
            unit: '×',
            note: `rg's and Node's CPU over ${RUNS} rounds: ${total(scan).toFixed(0)} / ${total(plain).toFixed(0)} ms`,
          });
        }
      });
      const node = await paired(() => plainRg('rg', root), () => timed(() => scanMarkers(root)));
      figures.push(
        { name: 'scanMarkers, pure-Node walk (no rg)', value: node.b, unit: 'ms', note: `median of ${RUNS}` },
        { name: 'ratio pure-Node / plain rg', value: node.ratio, unit: '×', note: 'the CLI without rg on PATH' },
      );
      const big = Array.from({ length: 100 }, (_, i) => source(i * MARKER_EVERY)).join('');
      const perScan = async () => {
        const started = performance.now();
        for (let i = 0; i < 100; i++) scanText(big);
        return (performance.now() - started) / 100;
      };
      const keystroke = (await paired(perScan, perScan)).a;
      figures.push({ name: `re-scan of an open ${big.split('\n').length}-line document`, value: keystroke * 1000, unit: 'µs', note: 'per keystroke, after the typing delay' });
      return figures;
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
};
