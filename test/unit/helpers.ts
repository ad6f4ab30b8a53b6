import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main';
import type { CliEnvironment } from '../../src/cli/options';
import type { Diagnostic } from '../../src/core/model/diagnostic';
export { processesWith } from '../processes';

/** The repository root, for tests that read shipped files (templates, package.json, demo). */
export const REPO = join(__dirname, '..', '..');

/** A fresh temporary folder, removed after the current test file. */
export function tempDir(prefix = 'symphony-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // Retries: a process a test started (and stopped) may still be writing its last file here.
  after(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}

/**
 * Polls until `probe` returns something other than undefined/false and returns it, or fails
 * naming what it waited for. Tests wait for states, never for fixed times; the deadline
 * only catches a hang, so it is generous: CI machines are loaded, and a state reached in
 * 50 ms on a quiet machine may take seconds there.
 */
export async function waitFor<T>(what: string | (() => string), probe: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `line:col code message` per diagnostic — compact and exact, for deep-equal assertions. */
export function brief(ds: readonly Diagnostic[]): string[] {
  return ds.map((d) => `${d.range.start.line}:${d.range.start.column} ${d.code} ${d.message}`);
}

/** Strips the shared leading indentation so YAML fixtures can be indented in source. */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ''), '');
  const lines = text.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

/** Runs the CLI in-process in `cwd`, with captured output and a controllable environment. */
export async function cli(cwd: string, argv: readonly string[], env: Partial<CliEnvironment> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    cwd,
    color: false,
    templatesRoot: join(REPO, 'templates'),
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    interactive: false,
    ask: async () => '',
    env: {},
    onInterrupt: () => () => undefined,
    ...env,
  });
  return { code, stdout, stderr };
}

