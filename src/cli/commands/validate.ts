import { nodeFileSystem } from '../../core/load/fs';
import { validatePaths } from '../../core/load/workspace';
import type { Diagnostic } from '../../core/model/diagnostic';
import type { CliEnvironment } from '../options';
import { cliModelSetup } from '../modelSetup';
import { displayPath, paint, plural, printDiagnostic } from '../print';

/** One entry of `validate --json`, per DESIGN.md §6. */
export interface ValidateJsonError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** The stable `--json` shape: `{ ok, errors }`, plus the warnings alongside. */
export interface ValidateJson {
  readonly ok: boolean;
  readonly errors: ValidateJsonError[];
  readonly warnings: ValidateJsonError[];
}

/**
 * `symphony validate <file|dir>... [--json]` — exit 0 when valid, 1 when not. Nodes whose
 * models are not set up in this environment (no key, no GGUF file, vscode-lm) are warnings.
 */
export async function validateCommand(env: CliEnvironment, paths: readonly string[], opts: { json?: boolean }): Promise<number> {
  const report = await validatePaths(nodeFileSystem, paths.map((p) => (p.startsWith('/') ? p : `${env.cwd}/${p}`)), cliModelSetup(env));
  const errors = report.diagnostics.filter((d) => d.severity === 'error');
  const warnings = report.diagnostics.filter((d) => d.severity !== 'error');
  const ok = errors.length === 0;

  if (opts.json) {
    const toJson = (d: Diagnostic): ValidateJsonError => ({
      file: displayPath(env.cwd, d.file),
      line: d.range.start.line,
      column: d.range.start.column,
      message: d.message,
    });
    const out: ValidateJson = { ok, errors: errors.map(toJson), warnings: warnings.map(toJson) };
    env.stdout(JSON.stringify(out, null, 2) + '\n');
    return ok ? 0 : 1;
  }

  for (const d of report.diagnostics) env.stdout(printDiagnostic(d, env.cwd, env.color) + '\n');
  const files = report.files.length;
  if (ok) {
    const note = warnings.length ? ` (${plural(warnings.length, 'warning')})` : '';
    env.stderr(paint(env.color, 'green', `✓ ${plural(files, 'file')} valid${note}`) + '\n');
  } else {
    const bad = new Set(errors.map((d) => d.file)).size;
    env.stderr(paint(env.color, 'red', `✗ ${plural(errors.length, 'error')} in ${bad} of ${plural(Math.max(files, bad), 'file')}`) + '\n');
  }
  return ok ? 0 : 1;
}
