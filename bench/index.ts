// `npm run bench`: runs every bench/*.bench.ts (or those named on the command line) and
// prints their figures. Speed is measured here, never asserted in tests: these machines
// are noisy, so read figures as orders of magnitude and compare runs on one machine.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** One measured figure. */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** How to read it, e.g. "ideal 1.0" or "lower is better". */
  readonly note?: string;
}

/** What each bench file exports. */
export interface Bench {
  readonly title: string;
  run(): Promise<Figure[]>;
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const files = readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
    .sort();
  if (files.length === 0) throw new Error(`no benchmarks match ${only.join(', ')}`);
  for (const file of files) {
    const { bench } = (await import(join(__dirname, file))) as { bench: Bench };
    console.log(`\n## ${bench.title} (${file})`);
    const started = Date.now();
    for (const f of await bench.run()) {
      const value = Number.isInteger(f.value) ? String(f.value) : f.value.toFixed(f.value < 10 ? 3 : 1);
      console.log(`  ${f.name.padEnd(58)} ${value.padStart(12)} ${f.unit}${f.note ? `  (${f.note})` : ''}`);
    }
    console.log(`  [${((Date.now() - started) / 1000).toFixed(1)} s]`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
