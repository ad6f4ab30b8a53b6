import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Document } from 'yaml';
import { z } from 'zod';
import type { Engine, RunResult } from '../engine/engine';
import { newRunId, RunRequestError } from '../engine/engine';
import { PermissionGuard } from '../engine/permissions';
import { Redactor } from '../engine/redact';
import { processEnv } from '../engine/workspaceEngine';
import { programHost } from '../programs/host';
import { formatDiagnostic, type Diagnostic } from '../model/diagnostic';
import { plannerAnswerSchema, type Assignment, type ConductorConfig, type PlannerAnswer } from '../model/conductor';
import { readConductInputs, testCommandOf, type ConductInputs } from './inputs';
import { modelLabel, type Instrument } from '../model/instrument';
import type { RunEvent, TokenUsage } from '../model/run';
import type { WorkspaceModel } from '../load/workspace';
import { callModel, openModel, type CallContext } from '../providers/call';
import { priceOf } from '../providers/prices';
import type { ModelProvider } from '../providers/types';
import { writeFileAtomic } from '../store/files';
import { currentBranch, type AssignmentOutput } from './assignment';
import { planTasks, type Plan } from './plan';
import type { SheetTask } from './sheet';

/**
 * `symphony conduct` and *Symphony: Conduct*: read the sheet, production goals and
 * settings; plan an assignment per open task; write the plan as a melody under
 * `.symphony/plans/` (and `.symphony/plan.melody.yaml`, the newest); run it on the engine
 * — journal, resume, budgets and audit included — and report per assignment.
 */

export { CONDUCTOR_FILE, readConductInputs, testCommandOf, type ConductInputs } from './inputs';
export const PLANS_DIR = '.symphony/plans';
export const NEWEST_PLAN = '.symphony/plan.melody.yaml';

/** A problem with the Conductor's inputs as `--json` prints it (as `symphony validate` does). */
export interface InputProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export const inputProblem = (d: Diagnostic): InputProblem => ({ file: d.file, line: d.range.start.line, column: d.range.start.column, message: d.message });

/** What the planner call may use. */
export interface PlannerDeps {
  readonly root: string;
  readonly models: ModelProvider;
  readonly signal: AbortSignal;
  readonly log?: (text: string) => void;
}

/** Usage of the planning call, reported with the run's. */
export interface PlanningUsage {
  tokens: TokenUsage;
  costUsd: number;
}

/**
 * The planner instrument as a `Planner`: the open tasks and the instruments go in, a plan
 * validated with zod comes out — an answer that does not validate is sent back once with
 * what is wrong; a second bad answer fails planning with a clear message.
 */
export function modelPlanner(planner: Instrument, deps: PlannerDeps, usage: PlanningUsage, budget?: ConductorConfig['budget']) {
  return async (tasks: readonly SheetTask[], instruments: readonly Instrument[]): Promise<PlannerAnswer> => {
    const redactor = new Redactor();
    const ctx: CallContext = {
      signal: deps.signal,
      workspaceRoot: deps.root,
      models: deps.models,
      log: (_stream, text) => deps.log?.(text),
      usage: (call) => {
        usage.tokens = { input: usage.tokens.input + call.tokens.input, output: usage.tokens.output + call.tokens.output };
        usage.costUsd += call.costUsd;
      },
      budgetLeft: () => ({
        tokens: budget?.tokens === undefined ? undefined : budget.tokens - usage.tokens.input - usage.tokens.output,
        usd: budget?.usd === undefined ? undefined : budget.usd - usage.costUsd,
      }),
      priceOf: (instrument, answeredBy) => (instrument.model ? priceOf(instrument.model, answeredBy) : undefined),
      addSecret: (v) => redactor.add(v),
      redact: (t) => redactor.redactText(t),
      permissions: new PermissionGuard(deps.root, {}),
      env: {},
      programs: programHost(processEnv()),
      // Planning runs no program of its own to record.
      programStarted: () => undefined,
    };
    const model = await openModel(ctx, planner);
    const prompt = [
      'Route each task of the sheet to one instrument of the workspace, and say what it must do and which files it touches.',
      `Instruments:\n${instruments.map((i) => `- ${i.ref} (${i.nickname}, ${i.kind}${i.model ? ` ${modelLabel(i.model)}` : ''}): ${i.role ?? 'no role given'}${i.handles?.length ? `; handles ${i.handles.join(', ')}` : ''}`).join('\n')}`,
      `Tasks:\n${tasks.map((t) => `${t.number}. ${t.objective}${t.details ? `\n   ${t.details}` : ''}`).join('\n')}`,
      'Answer with JSON only: { "assignments": [{ "task": <number>, "instrument": "<ensemble/instrument>", "objective": "<what to do>", "files": ["<path or glob>"] }] }.',
    ].join('\n\n');
    const schema = z.toJSONSchema(plannerAnswerSchema) as Record<string, unknown>;
    const messages: { role: 'user' | 'assistant'; text: string }[] = [{ role: 'user', text: prompt }];
    for (let attempt = 1; ; attempt++) {
      const answer = await callModel(ctx, planner, model, { system: planner.role, messages: [...messages], json: { schema }, temperature: 0 }, { onText: () => undefined });
      let json: unknown;
      let problem: string;
      try {
        json = JSON.parse(/```(?:json)?\s*([\s\S]*?)```/.exec(answer.text)?.[1] ?? answer.text);
        const parsed = plannerAnswerSchema.safeParse(json);
        if (parsed.success) return parsed.data;
        problem = parsed.error.issues.map((i) => `${i.path.join('.') || '(answer)'}: ${i.message}`).join('; ');
      } catch (e) {
        problem = `not JSON (${(e as Error).message})`;
      }
      if (attempt === 2) throw new PlanningError(`the planner ${planner.ref} answered twice with something that is not a plan (${problem}); the tasks were not routed — mention an instrument in each task (@ensemble/instrument) or give instruments \`handles:\` globs`);
      messages.push({ role: 'assistant', text: answer.text }, { role: 'user', text: `That is not a valid plan: ${problem}. Answer with JSON only, in the shape asked.` });
    }
  };
}

/** Planning could not be done; the message says why and what to do (and where, when a file is wrong). */
export class PlanningError extends Error {
  constructor(
    message: string,
    /** The problems in sheetMusic.md, production.md or conductor.yaml that stopped planning (and the warnings beside them). */
    readonly diagnostics: readonly Diagnostic[] = [],
  ) {
    super(message);
    this.name = 'PlanningError';
  }
}

/** The node that merges the chambers back, in a plan with chambers. */
export const MERGE_NODE = 'merge';

/**
 * The melody of a plan: a node per assignment, with the permissions the plan needs. With
 * `chambers`, assignments that may run in parallel (they need no other) each work in a
 * chamber of their own, a `merge` node merges them back once all have passed, and the
 * assignments that needed one of them run after the merge.
 */
export function planMelody(plan: Plan, inputs: ConductInputs, runId: string, options: { chambers?: boolean; instruments?: readonly Instrument[]; branch?: string } = {}): string {
  const testCommand = testCommandOf(inputs);
  // Script instruments run their program: the plan allows the programs of those it assigns.
  const scripts = plan.assignments.flatMap((a) => options.instruments?.find((i) => i.ref === a.instrument)?.script?.command ?? []);
  const parallel = plan.assignments.filter((a) => a.needs.length === 0);
  const chambered = new Set(options.chambers && parallel.length > 1 ? parallel.map((a) => a.id) : []);
  const commit = inputs.config.commit !== false || chambered.size > 0;
  const write = [...new Set(plan.assignments.flatMap((a) => a.outputs.scope))];
  const commands = [...new Set([...(plan.assignments.some((a) => a.parameters.tests) && testCommand ? [testCommand[0]!] : []), ...scripts, ...(commit ? ['git'] : [])])];
  const nodes: Record<string, unknown> = {};
  for (const a of plan.assignments) {
    const node = assignmentNode(a, inputs, testCommand, commit);
    if (options.branch) (node.with as Record<string, unknown>).branch = options.branch;
    if (chambered.has(a.id)) (node.with as Record<string, unknown>).chamber = chamberId(runId, a);
    if (a.needs.some((n) => chambered.has(n))) node.needs = [...new Set([MERGE_NODE, ...a.needs.filter((n) => !chambered.has(n))])];
    nodes[a.id] = node;
  }
  if (chambered.size) {
    const merged = plan.assignments.filter((a) => chambered.has(a.id));
    nodes[MERGE_NODE] = {
      uses: 'merge-chambers',
      needs: merged.map((a) => a.id),
      with: { chambers: merged.map((a) => chamberId(runId, a)), tasks: merged.map((a) => ({ chamber: chamberId(runId, a), task: a.task, text: a.text })), ...(options.branch ? { branch: options.branch } : {}) },
    };
  }
  const doc = new Document({
    name: `plan-${runId}`,
    description: plan.goal ? `Conductor's plan: ${plan.goal}` : "Conductor's plan of sheetMusic.md",
    ...(inputs.config.budget ? { budget: inputs.config.budget } : {}),
    permissions: { fs: { write: write.length ? write : ['**'] }, ...(commands.length ? { commands } : {}) },
    nodes,
  });
  doc.commentBefore = [
    ` The Conductor's plan of sheetMusic.md, written by \`symphony conduct\` for run ${runId}.`,
    ' A node per open task; tasks that touch the same files run one after another.',
    ' Edit it and run it like any melody, or run `symphony conduct` again to plan anew.',
  ].join('\n');
  return doc.toString({ lineWidth: 0 });
}

/** A chamber's id: the task and the plan's run, so chambers of different conduct runs never collide. */
function chamberId(runId: string, a: Assignment): string {
  return `conduct-${runId.slice(-6)}-${a.id}`;
}

function assignmentNode(a: Assignment, inputs: ConductInputs, testCommand: string[] | undefined, commit: boolean): Record<string, unknown> {
  return {
    uses: 'assignment',
    instrument: a.instrument,
    ...(a.needs.length ? { needs: [...a.needs] } : {}),
    with: {
      task: a.task,
      text: a.text,
      objective: a.objective,
      ...(a.inputs.details ? { details: a.inputs.details } : {}),
      ...(inputs.sheet.goal ? { goal: inputs.sheet.goal } : {}),
      ...(a.inputs.files.length ? { files: [...a.inputs.files] } : {}),
      scope: [...a.outputs.scope],
      ...(a.conditions.length ? { conditions: [...a.conditions] } : {}),
      tools: [...a.parameters.tools],
      maxSteps: a.parameters.maxSteps,
      tests: a.parameters.tests,
      ...(a.parameters.tests && testCommand ? { testCommand } : {}),
      ...(inputs.config.reviewer ? { reviewer: inputs.config.reviewer } : {}),
      commit,
    },
  };
}

/**
 * Writes the plan melody under `.symphony/plans/` and as the newest plan, with the plan as
 * data beside it (`<runId>.plan.json`: what `resume` reports on); returns the paths
 * (workspace-relative).
 */
export async function writePlan(root: string, runId: string, text: string, plan: Plan): Promise<{ file: string; newest: string }> {
  const file = `${PLANS_DIR}/${runId}.melody.yaml`;
  await fsp.mkdir(join(root, PLANS_DIR), { recursive: true });
  await writeFileAtomic(join(root, planDataFile(file)), `${JSON.stringify({ goal: plan.goal, assignments: plan.assignments, unroutable: plan.unroutable }, null, 2)}\n`, { durable: true });
  await writeFileAtomic(join(root, file), text, { durable: true });
  await writeFileAtomic(join(root, NEWEST_PLAN), `# The newest plan: ${file}\n${text}`, { durable: true });
  return { file, newest: NEWEST_PLAN };
}

const planDataFile = (melodyFile: string) => melodyFile.replace(/\.melody\.yaml$/, '.plan.json');

/** The plan written beside a plan melody; RunRequestError when it is not there. */
export async function readPlanData(root: string, melodyFile: string): Promise<Plan> {
  const file = planDataFile(melodyFile);
  try {
    const data = JSON.parse(await fsp.readFile(join(root, file), 'utf8')) as Partial<Plan>;
    if (!Array.isArray(data.assignments)) throw new Error('it holds no assignments');
    return { goal: data.goal ?? '', assignments: data.assignments, unroutable: data.unroutable ?? [] };
  } catch (e) {
    throw new RunRequestError(`cannot read the plan ${file} (${(e as Error).message}): run \`symphony conduct\` to plan the open tasks anew`);
  }
}

/** One assignment in the report. */
export interface AssignmentReport {
  readonly status: 'passed' | 'failed' | 'skipped' | 'cancelled';
  readonly instrument: string;
  readonly nickname?: string;
  readonly model?: string;
  readonly files: readonly string[];
  readonly commit?: string;
  readonly commitNote?: string;
  readonly gate?: AssignmentOutput['gate'];
  readonly tests?: AssignmentOutput['tests'];
  readonly reason?: string;
  readonly tokens: TokenUsage;
  readonly costUsd: number;
}

/** What a conduct run did, as `--json` prints it. */
export interface ConductReport {
  readonly runId: string;
  readonly plan: { readonly file: string; readonly assignments: readonly Assignment[] };
  readonly unroutable: Plan['unroutable'];
  /** What the Conductor noticed in its inputs and went on anyway (an empty production.md…). */
  readonly warnings: readonly InputProblem[];
  readonly status: 'success' | 'failure' | 'cancelled';
  readonly assignments: Readonly<Record<string, AssignmentReport>>;
  /** Set by `symphony resume`: the conduct run this one continues. */
  readonly continues?: string;
  /** Set by `symphony resume`: the nodes that passed there and kept their output here, without running. */
  readonly carried?: readonly string[];
  /** With chambers: whether their work was merged back, and why not. */
  readonly merge?: { readonly status: 'merged' | 'failed' | 'skipped' | 'cancelled'; readonly reason?: string; readonly commits?: readonly string[] };
  readonly tokens: TokenUsage;
  readonly costUsd: number;
}

/** The report of a finished plan run. */
export function conductReport(plan: Plan, file: string, result: RunResult, planning: PlanningUsage, warnings: readonly Diagnostic[] = []): ConductReport {
  const assignments: Record<string, AssignmentReport> = {};
  for (const a of plan.assignments) {
    const node = result.nodes[a.id];
    const out = node?.output as Partial<AssignmentOutput> | undefined;
    const status = node?.state === 'success' ? 'passed' : node?.state === 'failure' ? 'failed' : node?.state === 'cancelled' ? 'cancelled' : 'skipped';
    assignments[a.id] = {
      status,
      instrument: out?.instrument ?? a.instrument,
      nickname: out?.nickname,
      model: out?.model,
      files: out?.files ?? [],
      ...(out?.commit ? { commit: out.commit } : {}),
      ...(out?.commitNote ? { commitNote: out.commitNote } : {}),
      ...(out?.gate ? { gate: out.gate } : {}),
      ...(out?.tests ? { tests: out.tests } : {}),
      ...(status !== 'passed' ? { reason: out?.reason ?? node?.error ?? node?.reason } : {}),
      tokens: node?.tokens ?? { input: 0, output: 0 },
      costUsd: node?.costUsd ?? 0,
    };
  }
  const mergeNode = result.nodes[MERGE_NODE];
  const merge = mergeNode
    ? {
        status: mergeNode.state === 'success' ? ('merged' as const) : mergeNode.state === 'failure' ? ('failed' as const) : mergeNode.state === 'cancelled' ? ('cancelled' as const) : ('skipped' as const),
        ...(mergeNode.state !== 'success' ? { reason: mergeNode.error ?? mergeNode.reason } : {}),
        ...(mergeNode.state === 'success' ? { commits: ((mergeNode.output as { items?: { commit?: string }[] } | undefined)?.items ?? []).flatMap((i) => (i.commit ? [i.commit] : [])) } : {}),
      }
    : undefined;
  return {
    runId: result.runId,
    plan: { file, assignments: plan.assignments },
    unroutable: plan.unroutable,
    warnings: warnings.map(inputProblem),
    status: result.state,
    assignments,
    ...(merge ? { merge } : {}),
    tokens: { input: result.tokens.input + planning.tokens.input, output: result.tokens.output + planning.tokens.output },
    costUsd: result.costUsd + planning.costUsd,
  };
}

/** What `conduct` needs from its surface. */
export interface ConductRun {
  readonly engine: Engine;
  readonly models: ModelProvider;
  readonly workspace: WorkspaceModel;
  readonly signal: AbortSignal;
  readonly only?: number;
  /** Parallel assignments work in chambers (git worktrees) and are merged back when all have passed. */
  readonly chambers?: boolean;
  readonly onEvent?: (e: RunEvent) => void;
  readonly log?: (text: string) => void;
}

/** Plans (no model call unless a planner is needed). Throws PlanningError with what to fix. */
export async function makePlan(root: string, run: Pick<ConductRun, 'models' | 'workspace' | 'signal' | 'only' | 'log'>, planning: PlanningUsage): Promise<{ plan: Plan; inputs: ConductInputs }> {
  const inputs = await readConductInputs(root);
  if (inputs.problems.length) {
    const all = [...inputs.problems, ...inputs.warnings];
    throw new PlanningError(all.map((d) => formatDiagnostic(d)).join('\n'), all);
  }
  if (run.only !== undefined && !inputs.sheet.tasks.some((t) => t.number === run.only)) {
    throw new PlanningError(`sheetMusic.md has no task ${run.only} (it has ${inputs.sheet.tasks.length}: ${inputs.sheet.tasks.map((t) => `${t.number}${t.done ? ' (done)' : ''}`).join(', ')})`);
  }
  const instruments = run.workspace.ensembles.ensembles.flatMap((e) => e.instruments);
  const plannerRef = inputs.config.planner;
  const planner = plannerRef ? instruments.find((i) => i.ref === plannerRef) : undefined;
  const plan = await planTasks({ ...inputs, instruments, only: run.only }, planner ? modelPlanner(planner, { root, models: run.models, signal: run.signal, log: run.log }, planning, inputs.config.budget) : undefined);
  return { plan, inputs };
}

/** Plans, writes the plan melody and runs it. */
export async function conduct(root: string, run: ConductRun): Promise<ConductReport> {
  const planning: PlanningUsage = { tokens: { input: 0, output: 0 }, costUsd: 0 };
  const { plan, inputs } = await makePlan(root, run, planning);
  const runId = newRunId();
  const branch = (await currentBranch(root, run.signal)) ?? undefined;
  const text = planMelody(plan, inputs, runId, { chambers: run.chambers, instruments: run.workspace.ensembles.ensembles.flatMap((e) => e.instruments), branch });
  const { file } = await writePlan(root, runId, text, plan);
  if (!plan.assignments.length) {
    return { runId, plan: { file, assignments: [] }, unroutable: plan.unroutable, warnings: inputs.warnings.map(inputProblem), status: plan.unroutable.length ? 'failure' : 'success', assignments: {}, tokens: planning.tokens, costUsd: planning.costUsd };
  }
  const { melody } = await run.engine.loadMelodyFile(file);
  const result = await run.engine.run({ melody, file: join(root, file), text, runId, signal: run.signal, onEvent: run.onEvent, trigger: { kind: 'manual', detail: 'symphony conduct' } });
  await regenerateConcerto(root, run.workspace).catch(() => undefined);
  return conductReport(plan, file, result, planning, inputs.warnings);
}

const CONCERTO_START = '<!-- symphony:concerto:start — generated by `symphony conduct`; edit outside these markers -->';
const CONCERTO_END = '<!-- symphony:concerto:end -->';

/** concerto.md's generated part: ensembles, instruments and melodies, between markers; the rest is the user's. */
export async function regenerateConcerto(root: string, workspace: WorkspaceModel): Promise<void> {
  const path = join(root, 'concerto.md');
  const current = await fsp.readFile(path, 'utf8').catch(() => '# Concerto\n');
  const lines = ['## Ensembles and instruments (generated)', ''];
  for (const e of workspace.ensembles.ensembles) {
    lines.push(`- **${e.id}**${e.meta?.description ? ` — ${e.meta.description}` : ''}`);
    for (const i of e.instruments) lines.push(`  - ${i.nickname} (\`${i.ref}\`, ${i.kind}${i.model ? ` ${i.model.provider}/${modelLabel(i.model)}` : ''})${i.role ? `: ${i.role}` : ''}${i.handles?.length ? ` — handles ${i.handles.map((h) => `\`${h}\``).join(', ')}` : ''}`);
  }
  lines.push('', '## Melodies (generated)', '');
  for (const m of workspace.melodies) {
    const rel = m.file.startsWith(root) ? m.file.slice(root.length + 1).split('\\').join('/') : m.file;
    if (rel.startsWith('.symphony/')) continue;
    lines.push(`- \`${rel}\`${m.name ? ` — ${m.name}` : ''}${m.description ? `: ${m.description}` : ''}${m.triggers.length ? ` (on ${m.triggers.map((t) => t.on).join(', ')})` : ''}`);
  }
  const block = `${CONCERTO_START}\n${lines.join('\n')}\n${CONCERTO_END}`;
  const start = current.indexOf(CONCERTO_START);
  const end = current.indexOf(CONCERTO_END);
  const next = start >= 0 && end > start ? `${current.slice(0, start)}${block}${current.slice(end + CONCERTO_END.length)}` : `${current.replace(/\s*$/, '')}\n\n${block}\n`;
  if (next !== current) await writeFileAtomic(path, next, { durable: false });
}
