import { dirname, isAbsolute, resolve } from 'node:path';
import { RunRequestError, type RunResult } from '../../core/engine/engine';
import { levels } from '../../core/engine/graph';
import { InputError, resolveInputs } from '../../core/engine/inputs';
import { nodeFileSystem } from '../../core/load/fs';
import { findWorkspaceRoot } from '../../core/load/workspace';
import { needsOf, type Melody } from '../../core/model/melody';
import { setOwn } from '../../core/model/names';
import { prepareForPrograms, type ProgramHost } from '../../core/programs/host';
import { cliEngine, cliPrograms, type RunOptions } from '../host';
import type { CliEnvironment } from '../options';
import { paint } from '../print';
import { RunPrinter, runJson } from '../runPrinter';

/** Options of `symphony run`. */
export interface RunCommandOptions extends RunOptions {
  readonly input?: string[];
  readonly json?: boolean;
  readonly dryRun?: boolean;
  readonly verbose?: boolean;
  /** false with `--no-cache`: every node runs, none is taken from the node cache. */
  readonly cache?: boolean;
}

/** `--input k=v` pairs as a map; a pair without `=` is a usage error. */
export function parseInputs(pairs: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new InputError(`--input expects name=value, not "${pair}"`);
    setOwn(out, pair.slice(0, eq), pair.slice(eq + 1));
  }
  return out;
}

/**
 * Runs the engine while printing progress (or nothing, with --json), cancelling cleanly on
 * the first Ctrl+C. Resolves to the exit code: 0 for success, 1 otherwise.
 */
async function drive(
  env: CliEnvironment,
  root: string,
  options: RunCommandOptions,
  start: (engine: ReturnType<typeof cliEngine>, signal: AbortSignal, programs: ProgramHost) => Promise<RunResult>,
): Promise<number> {
  const printer = options.json ? undefined : new RunPrinter(env, { verbose: options.verbose });
  const controller = new AbortController();
  const stop = env.onInterrupt(() => {
    if (controller.signal.aborted) return;
    env.stderr(paint(env.color, 'yellow', '\ncancelling… (running nodes are being stopped)') + '\n');
    controller.abort();
  });
  try {
    const programs = cliPrograms(env);
    const engine = cliEngine(env, root, { ...options, programs, onEvent: (e) => printer?.onEvent(e) });
    const result = await start(engine, controller.signal, programs);
    if (options.json) env.stdout(JSON.stringify(runJson(result), null, 2) + '\n');
    // A run that could not be audited did not go as it should, whatever its nodes did (the
    // reason was said when it happened).
    return result.state === 'success' && result.auditError === undefined ? 0 : 1;
  } catch (e) {
    if (e instanceof RunRequestError || e instanceof InputError) {
      env.stderr(`symphony: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    stop();
    printer?.close();
  }
}

/** `symphony run <melody> [--input k=v]... [--json] [--dry-run] [--yes]` */
export async function runCommand(env: CliEnvironment, melodyPath: string, options: RunCommandOptions): Promise<number> {
  const file = isAbsolute(melodyPath) ? melodyPath : resolve(env.cwd, melodyPath);
  const root = await findWorkspaceRoot(nodeFileSystem, dirname(file));
  let inputs: Record<string, string>;
  try {
    inputs = parseInputs(options.input);
  } catch (e) {
    env.stderr(`symphony: ${(e as Error).message}\n`);
    return 2;
  }
  if (options.dryRun) return dryRun(env, root, file, inputs, options);
  return drive(env, root, options, async (engine, signal, programs) => {
    const { melody, text } = await engine.loadMelodyFile(file);
    // The helper and the sandbox get ready while the run is set up, not when its first node
    // starts — unless the node cache may serve every node, and then only once one is not.
    const prepare = () => prepareForPrograms(programs, melody);
    return engine.run({ melody, file, text, inputs, signal, trigger: { kind: 'manual', detail: 'symphony run' }, noCache: options.cache === false, prepare });
  });
}

/** `--dry-run`: checks the melody and inputs and prints the plan; runs nothing. */
async function dryRun(env: CliEnvironment, root: string, file: string, given: Record<string, string>, options: RunCommandOptions): Promise<number> {
  const engine = cliEngine(env, root, options);
  let melody: Melody;
  let inputs: Record<string, unknown>;
  try {
    melody = (await engine.loadMelodyFile(file)).melody;
    inputs = resolveInputs(melody, given);
  } catch (e) {
    env.stderr(`symphony: ${(e as Error).message}\n`);
    return 1;
  }
  const compensate = melody['on-failure']?.compensate;
  const graph = new Map(Object.entries(melody.nodes).filter(([id]) => id !== compensate).map(([id, n]) => [id, needsOf(n)]));
  const plan = levels(graph);
  if (options.json) {
    const nodes = Object.fromEntries(Object.entries(melody.nodes).map(([id, n]) => [id, { uses: n.uses, needs: needsOf(n), if: n.if ?? null, instrument: n.instrument ?? null }]));
    env.stdout(JSON.stringify({ melody: melody.name, inputs, levels: plan, compensate: compensate ?? null, nodes }, null, 2) + '\n');
    return 0;
  }
  env.stdout(`${paint(env.color, 'bold', `${melody.name}`)} — dry run, nothing executes\n`);
  env.stdout(`inputs: ${JSON.stringify(inputs)}\n`);
  plan.forEach((level, i) => {
    const parts = level.map((id) => {
      const n = melody.nodes[id]!;
      return `${id} (${n.uses}${n.instrument ? ` · ${n.instrument}` : ''}${n.if !== undefined ? ` · if ${String(n.if)}` : ''})`;
    });
    env.stdout(`  step ${i + 1}: ${parts.join(', ')}\n`);
  });
  if (compensate) env.stdout(`  on failure: ${compensate}\n`);
  return 0;
}

/**
 * `symphony resume <runId>` — from the current directory's workspace. A conduct run that
 * ended (its budget, a moved branch, a conflict stopped it) is continued by the Conductor.
 */
export async function resumeCommand(env: CliEnvironment, runId: string, options: RunCommandOptions): Promise<number> {
  const root = await findWorkspaceRoot(nodeFileSystem, env.cwd);
  // The Conductor's code (git, chambers, its tools) is loaded only for a conduct run: `run`
  // and the resume of a melody's run never evaluate it.
  const { endedConductRun } = await import('../../core/conductor/resume');
  if (await endedConductRun(root, runId)) return (await import('./conduct')).resumeConductCommand(env, root, runId, options);
  return drive(env, root, options, (engine, signal) => engine.resume(runId, { signal }));
}

/** `symphony replay <runId> --from <node>` */
export async function replayCommand(env: CliEnvironment, runId: string, from: string, options: RunCommandOptions): Promise<number> {
  const root = await findWorkspaceRoot(nodeFileSystem, env.cwd);
  return drive(env, root, options, (engine, signal) => engine.replay(runId, from, { signal }));
}
