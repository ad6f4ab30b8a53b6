import picomatch from 'picomatch';
import type { ProductionGoals } from '../context/production';
import type { Assignment, ConductorConfig, PlannerAnswer } from '../model/conductor';
import type { Instrument } from '../model/instrument';
import { TOOL_NAMES } from '../model/nodeKinds';
import { closest } from '../load/suggest';
import type { Sheet, SheetTask } from './sheet';

/**
 * Planning: one assignment per open task of the sheet. Routing, in order: an
 * `@ensemble/instrument` mention; else the instrument whose `handles` globs match the most
 * of the task's files; else the planner instrument of `.symphony/conductor.yaml`; with none
 * of these the task is unroutable, and the report says what to add. Tasks that name the
 * same files run one after another (in sheet order); the rest may run in parallel.
 */

/** A task no instrument can take, and what to add so one can. */
export interface Unroutable {
  readonly task: number;
  readonly text: string;
  readonly reason: string;
}

export interface Plan {
  readonly goal: string;
  readonly assignments: readonly Assignment[];
  readonly unroutable: readonly Unroutable[];
}

/** Model calls per attempt of an assignment unless conductor.yaml says otherwise. */
export const DEFAULT_ASSIGNMENT_STEPS = 12;

export interface PlanInput {
  readonly sheet: Sheet;
  readonly production: ProductionGoals;
  readonly config: ConductorConfig;
  readonly instruments: readonly Instrument[];
  /** Only this task (`--task N`). */
  readonly only?: number;
}

/** Asks the planner instrument to route tasks; resolves with its (validated) answer. */
export type Planner = (tasks: readonly SheetTask[], instruments: readonly Instrument[]) => Promise<PlannerAnswer>;

/** Whether a task asks for tests, or production.md makes tests part of "done". */
export function wantsTests(task: SheetTask, production: ProductionGoals): boolean {
  const mentions = (s: string) => /\btests?\b|\btesting\b|\bunit[- ]test/i.test(s);
  return mentions(task.text) || mentions(task.details) || production.checklist.some((c) => mentions(c.text)) || production.testCommand !== undefined;
}

/** The instrument whose `handles` globs match the most of the files, ties to the first; undefined when none matches. */
export function routeByHandles(files: readonly string[], instruments: readonly Instrument[]): Instrument | undefined {
  let best: { instrument: Instrument; hits: number } | undefined;
  for (const instrument of instruments) {
    if (!instrument.handles?.length || !files.length) continue;
    const match = picomatch([...instrument.handles], { dot: true });
    const hits = files.filter((f) => match(f) || instrument.handles!.includes(f)).length;
    if (hits > 0 && (!best || hits > best.hits)) best = { instrument, hits };
  }
  return best?.instrument;
}

/** Whether two assignments may touch the same file: a path of one matches a path or glob of the other. */
function overlaps(a: readonly string[], b: readonly string[]): boolean {
  if (!a.length || !b.length) return false;
  const ma = picomatch([...a], { dot: true });
  const mb = picomatch([...b], { dot: true });
  return a.some((f) => b.includes(f) || mb(f)) || b.some((f) => ma(f));
}

/**
 * The plan of the sheet's open tasks. The planner is asked (once, for all tasks the
 * mentions and globs leave) only when conductor.yaml names one.
 */
export async function planTasks(input: PlanInput, planner?: Planner): Promise<Plan> {
  const { sheet, production, config, instruments } = input;
  const byRef = new Map(instruments.map((i) => [i.ref, i]));
  const open = sheet.tasks.filter((t) => !t.done && (input.only === undefined || t.number === input.only));
  const unroutable: Unroutable[] = [];
  const routed: { task: SheetTask; instrument: Instrument; routedBy: Assignment['routedBy']; objective?: string; files?: readonly string[] }[] = [];
  const leftover: SheetTask[] = [];

  for (const task of open) {
    const mention = task.mentions[0];
    if (mention !== undefined) {
      const instrument = byRef.get(mention);
      if (instrument) routed.push({ task, instrument, routedBy: 'mention' });
      else {
        const hint = closest(mention, [...byRef.keys()]);
        unroutable.push({ task: task.number, text: task.text, reason: `it mentions @${mention}, and there is no such instrument${hint ? `; did you mean @${hint}?` : byRef.size ? ` (instruments: ${[...byRef.keys()].sort().join(', ')})` : ' (the workspace has no instruments: add one under ensembles/<ensemble>/<instrument>.yaml)'}` });
      }
      continue;
    }
    const handler = routeByHandles(task.files, instruments);
    if (handler) routed.push({ task, instrument: handler, routedBy: 'handles' });
    else leftover.push(task);
  }

  if (leftover.length && config.planner && planner) {
    let answer: PlannerAnswer;
    try {
      answer = await planner(leftover, instruments);
    } catch (e) {
      // A planner that fails leaves its tasks unroutable — the routed ones still run.
      if ((e as Error)?.name === 'AbortError') throw e;
      const why = `the planner ${config.planner} failed: ${(e as Error)?.message ?? String(e)}`;
      answer = { assignments: [] };
      for (const task of leftover) unroutable.push({ task: task.number, text: task.text, reason: why });
      leftover.length = 0;
    }
    for (const task of leftover) {
      const a = answer.assignments.find((x) => x.task === task.number);
      const instrument = a ? byRef.get(a.instrument) : undefined;
      if (a && instrument) routed.push({ task, instrument, routedBy: 'planner', objective: a.objective, files: a.files });
      else unroutable.push({ task: task.number, text: task.text, reason: a ? `the planner ${config.planner} chose ${a.instrument}, which is not an instrument of this workspace` : `the planner ${config.planner} gave it to no instrument` });
    }
  } else {
    for (const task of leftover) {
      unroutable.push({
        task: task.number,
        text: task.text,
        reason: config.planner
          ? `the planner ${config.planner} is not an instrument of this workspace`
          : `no instrument is mentioned${task.files.length ? ` and none handles ${task.files.join(', ')}` : ' and it names no files (in backticks) to route by'}: add @ensemble/instrument to the task, a \`handles:\` glob to an instrument, or \`planner: ensemble/instrument\` to .symphony/conductor.yaml`,
      });
    }
  }

  routed.sort((a, b) => a.task.number - b.task.number);
  unroutable.sort((a, b) => a.task - b.task);
  const tools = config.tools ?? [...TOOL_NAMES];
  const conditions = [...production.checklist.filter((c) => !c.done).map((c) => c.text), ...production.constraints];
  const assignments: Assignment[] = [];
  for (const r of routed) {
    const files = [...new Set([...r.task.files, ...(r.files ?? [])])];
    const tests = wantsTests(r.task, production);
    const scope = [...new Set([...files, ...(r.instrument.handles ?? []), ...(tests ? ['tests/**'] : [])])];
    const id = `t${r.task.number}`;
    // Tasks that name the same files run in sheet order; the rest may run in parallel
    // (each instrument's `concurrency` still limits how many of its turns run at once).
    const needs = assignments.filter((earlier) => overlaps(earlier.inputs.files, files)).map((earlier) => earlier.id);
    assignments.push({
      id,
      task: r.task.number,
      text: r.task.text,
      objective: r.objective ?? r.task.objective,
      instrument: r.instrument.ref,
      routedBy: r.routedBy,
      inputs: { files, ...(r.task.details ? { details: r.task.details } : {}) },
      parameters: { tools, maxSteps: config.maxSteps ?? DEFAULT_ASSIGNMENT_STEPS, tests },
      outputs: { scope: scope.length ? scope : ['**'] },
      conditions,
      needs,
    });
  }
  return { goal: sheet.goal, assignments, unroutable };
}
