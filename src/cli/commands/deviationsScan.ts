import { resolve } from 'node:path';
import { markerDiagnostic } from '../../core/deviations/markers';
import { scanMarkers, type FoundMarker } from '../../core/deviations/scan';
import type { CliEnvironment } from '../options';
import { paint, plural, printDiagnostic } from '../print';

/** One entry of `deviations scan --json`, per DESIGN.md §6. */
export interface ScanJsonEntry {
  /** Relative to the scanned folder, `/`-separated. */
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly severity: FoundMarker['severity'];
  readonly marker: string;
  readonly text: string;
}

/**
 * `symphony deviations scan [path] [--json]` — lists the deviation markers under a folder
 * (default: the current one), with ripgrep when it is on PATH and a pure-Node scan
 * otherwise. Exit 0 when the scan ran, whatever it found; 1 when it could not.
 */
export async function deviationsScanCommand(env: CliEnvironment, path: string | undefined, opts: { json?: boolean }): Promise<number> {
  const target = resolve(env.cwd, path ?? '.');
  const started = performance.now();
  let result;
  try {
    result = await scanMarkers(target, { rg: 'rg' });
  } catch (e) {
    env.stderr(`symphony: cannot scan ${path ?? '.'}: ${(e as Error).message}\n`);
    return 1;
  }
  const ms = performance.now() - started;
  for (const w of result.warnings) env.stderr(`${paint(env.color, 'yellow', 'warning:')} ${w}\n`);
  if (opts.json) {
    const out: ScanJsonEntry[] = result.markers.map((m) => ({ file: m.file, line: m.line, column: m.column, severity: m.severity, marker: m.marker, text: m.text }));
    env.stdout(JSON.stringify(out, null, 2) + '\n');
    return 0;
  }
  for (const m of result.markers) env.stdout(printDiagnostic(markerDiagnostic(resolve(result.root, m.file), m), env.cwd, env.color, { labelErrors: true }) + '\n');
  const count = (s: FoundMarker['severity']) => result.markers.filter((m) => m.severity === s).length;
  const files = new Set(result.markers.map((m) => m.file)).size;
  const how = `${result.engine === 'ripgrep' ? 'ripgrep' : 'the built-in scanner (no rg on PATH)'}, ${ms.toFixed(0)} ms`;
  env.stderr(
    result.markers.length
      ? `${plural(result.markers.length, 'marker')} in ${plural(files, 'file')}: ${count('fundamental')} fundamental, ${count('major')} major, ${count('minor')} minor (${how})\n`
      : `no deviation markers (${how})\n`,
  );
  return 0;
}
