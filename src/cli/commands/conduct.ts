import { conduct, inputProblem, makePlan, planMelody, PlanningError, testCommandOf, type ConductReport } from '../../core/conductor/conduct';
import { formatDiagnostic } from '../../core/model/diagnostic';
import type { Plan } from '../../core/conductor/plan';
import { newRunId, RunRequestError, type Engine } from '../../core/engine/engine';
import { continueConduct } from '../../core/conductor/resume';
import { nodeFileSystem } from '../../core/load/fs';
import { findWorkspaceRoot, loadWorkspaceModel } from '../../core/load/workspace';
import { cliEngine, cliModels } from '../host';
import type { CliEnvironment } from '../options';
import { paint, plural } from '../print';
import { RunPrinter } from '../runPrinter';

/** Options of `symphony conduct`. */
export interface ConductOptions {
  readonly dryRun?: boolean;
  readonly json?: boolean;
  readonly yes?: boolean;
  readonly task?: number;
  readonly verbose?: boolean;
  readonly chambers?: boolean;
}

/** The plan in words: who does what, in which order, allowed to touch what. */
function printPlan(env: CliEnvironment, plan: Plan, permissions: string): void {
  env.stdout(`${paint(env.color, 'bold', 'Plan')}${plan.goal ? ` — ${plan.goal}` : ''}\n`);
  for (const a of plan.assignments) {
    env.stdout(`  ${a.id}  ${a.objective}\n      → ${a.instrument} (by ${a.routedBy})${a.needs.length ? `, after ${a.needs.join(', ')}` : ''}${a.parameters.tests ? ', with tests' : ''}; may write ${a.outputs.scope.join(', ')}\n`);
  }
  for (const u of plan.unroutable) env.stdout(`  ${paint(env.color, 'yellow', `task ${u.task}`)}  ${u.text}\n      ✗ not routed: ${u.reason}\n`);
  env.stdout(`${paint(env.color, 'dim', permissions)}\n`);
}

/**
 * `symphony conduct [--dry-run] [--json] [--yes] [--task N]` — plans an assignment per open
 * task of sheetMusic.md, writes the plan as a melody and runs it. Exit 0 when every
 * assignment passed (and every task could be routed), 1 otherwise.
 */
export async function conductCommand(env: CliEnvironment, options: ConductOptions): Promise<number> {
  const root = await findWorkspaceRoot(nodeFileSystem, env.cwd);
  const workspace = await loadWorkspaceModel(nodeFileSystem, root);
  const models = cliModels(env);
  const { controller, stop } = cancelOnInterrupt(env);
  try {
    const planning = { tokens: { input: 0, output: 0 }, costUsd: 0 };
    const { plan, inputs } = await makePlan(root, { models, workspace, signal: controller.signal, only: options.task, log: (t) => options.verbose && env.stderr(t) }, planning);
    if (!options.json) for (const w of inputs.warnings) env.stderr(`${paint(env.color, 'yellow', formatDiagnostic(w))}\n`);
    const melodyText = planMelody(plan, inputs, newRunId(), { chambers: options.chambers, instruments: workspace.ensembles.ensembles.flatMap((e) => e.instruments) });
    const permissions = `permissions: ${/permissions:[\s\S]*?\n(?=nodes:)/.exec(melodyText)?.[0].replace(/^permissions:\s*/, '').replace(/\s+/g, ' ').trim() ?? 'none'}${testCommandOf(inputs) ? ` · tests: ${testCommandOf(inputs)!.join(' ')}` : ''}`;
    if (options.dryRun) {
      if (options.json) env.stdout(JSON.stringify({ plan: { assignments: plan.assignments }, unroutable: plan.unroutable.map((u) => ({ task: u.task, reason: u.reason })), warnings: inputs.warnings.map(inputProblem) }, null, 2) + '\n');
      else printPlan(env, plan, permissions);
      return plan.unroutable.length ? 1 : 0;
    }
    if (!options.json) printPlan(env, plan, permissions);
    if (!plan.assignments.length) {
      env.stderr(plan.unroutable.length ? 'symphony: no task could be routed; nothing to run\n' : 'symphony: every task of sheetMusic.md is done; nothing to run\n');
      if (options.json) env.stdout(JSON.stringify({ runId: null, plan: { assignments: [] }, unroutable: plan.unroutable, warnings: inputs.warnings.map(inputProblem), status: plan.unroutable.length ? 'failure' : 'success', assignments: {}, tokens: planning.tokens, costUsd: planning.costUsd }, null, 2) + '\n');
      return plan.unroutable.length ? 1 : 0;
    }
    if (!options.yes) {
      if (!env.interactive) {
        env.stderr('symphony: the plan changes files and commits: run it with --yes, or look at it first with --dry-run\n');
        return 1;
      }
      const answer = await env.ask(`${paint(env.color, 'yellow', '?')} run this plan (${plural(plan.assignments.length, 'assignment')})? [y/N] `);
      if (!/^y(es)?$/i.test(answer.trim())) {
        env.stderr('symphony: not run\n');
        return 1;
      }
    }
    return await runAndReport(env, root, options, (engine) => conduct(root, { engine, models, workspace, signal: controller.signal, only: options.task, chambers: options.chambers }));
  } catch (e) {
    if (e instanceof PlanningError && e.diagnostics.length) {
      // Bad input: where, and what to write instead; nothing was planned, written or run.
      const errors = e.diagnostics.filter((d) => d.severity === 'error');
      if (options.json) env.stdout(JSON.stringify({ status: 'failure', errors: errors.map(inputProblem), warnings: e.diagnostics.filter((d) => d.severity !== 'error').map(inputProblem) }, null, 2) + '\n');
      else for (const d of e.diagnostics) env.stderr(`${formatDiagnostic(d)}\n`);
      env.stderr(`symphony: nothing was planned: fix ${errors.length === 1 ? 'the problem' : `the ${errors.length} problems`} above${options.json ? ' (in "errors")' : ''}, then run \`symphony conduct\` again\n`);
      return 1;
    }
    if (e instanceof PlanningError || e instanceof RunRequestError) {
      return refused(env, options, e.message);
    }
    throw e;
  } finally {
    stop();
  }
}

/** The first Ctrl+C cancels the assignments (saying so); `stop` stops listening. */
function cancelOnInterrupt(env: CliEnvironment): { controller: AbortController; stop: () => void } {
  const controller = new AbortController();
  const stop = env.onInterrupt(() => {
    if (controller.signal.aborted) return;
    env.stderr(paint(env.color, 'yellow', '\ncancelling… (the assignments are being stopped)') + '\n');
    controller.abort();
  });
  return { controller, stop };
}

/** A conduct that could not start: said on stderr, and as `{ status, errors }` with --json; exit 1. */
function refused(env: CliEnvironment, options: Pick<ConductOptions, 'json'>, message: string): number {
  if (options.json) env.stdout(JSON.stringify({ status: 'failure', errors: [{ message }] }, null, 2) + '\n');
  env.stderr(`symphony: ${message}\n`);
  return 1;
}

/** Runs a plan on the CLI's engine, printing its progress (or nothing, with --json) and then its report; the exit code. */
async function runAndReport(env: CliEnvironment, root: string, options: ConductOptions, start: (engine: Engine) => Promise<ConductReport>): Promise<number> {
  const printer = options.json ? undefined : new RunPrinter(env, { verbose: options.verbose });
  try {
    const report = await start(cliEngine(env, root, { yes: options.yes, onEvent: (e) => printer?.onEvent(e) }));
    if (options.json) env.stdout(JSON.stringify(report, null, 2) + '\n');
    else printReport(env, report);
    const passed = Object.values(report.assignments).every((a) => a.status === 'passed');
    return passed && report.unroutable.length === 0 && report.status === 'success' ? 0 : 1;
  } finally {
    printer?.close();
  }
}

/**
 * `symphony resume <runId>` of a conduct run that ended: continues it (see
 * core/conductor/resume.ts) and reports like `conduct`.
 */
export async function resumeConductCommand(env: CliEnvironment, root: string, runId: string, options: Pick<ConductOptions, 'json' | 'yes' | 'verbose'>): Promise<number> {
  const workspace = await loadWorkspaceModel(nodeFileSystem, root);
  const { controller, stop } = cancelOnInterrupt(env);
  try {
    return await runAndReport(env, root, options, (engine) => continueConduct(root, runId, { engine, workspace, signal: controller.signal }));
  } catch (e) {
    if (e instanceof RunRequestError) {
      return refused(env, options, e.message);
    }
    throw e;
  } finally {
    stop();
  }
}

function printReport(env: CliEnvironment, report: ConductReport): void {
  if (report.continues) env.stdout(`\n${paint(env.color, 'dim', `continues conduct run ${report.continues}${report.carried?.length ? `; kept from it: ${report.carried.join(', ')}` : ''}`)}\n`);
  env.stdout(`\n${paint(env.color, 'bold', 'Assignments')} (plan ${report.plan.file})\n`);
  for (const [id, a] of Object.entries(report.assignments)) {
    const mark = a.status === 'passed' ? paint(env.color, 'green', '✓') : paint(env.color, 'red', '✗');
    env.stdout(`  ${mark} ${id} ${a.nickname ?? a.instrument}: ${a.status}${a.files.length ? ` · ${a.files.join(', ')}` : ''}${a.commit ? ` · commit ${a.commit.slice(0, 7)}` : a.commitNote ? ` · ${a.commitNote}` : ''}\n`);
    if (a.tests && a.tests.ran === false && a.status === 'passed') env.stdout(`      ${paint(env.color, 'dim', a.tests.output)}\n`);
    if (a.reason) env.stdout(`      ${paint(env.color, 'red', a.reason)}\n`);
  }
  const total = report.tokens.input + report.tokens.output;
  env.stderr(`${report.status === 'success' ? paint(env.color, 'green', '✓') : paint(env.color, 'red', '✗')} ${report.status}${total ? ` · ${total.toLocaleString('en-US')} tokens` : ''}${report.costUsd ? ` · $${report.costUsd.toFixed(4)}` : ''}\n`);
}
