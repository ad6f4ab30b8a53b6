import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { newRunId, RunRequestError } from '../engine/engine';
import { formatDiagnostic } from '../model/diagnostic';
import { replayEvents, type RunRecord } from '../model/run';
import { FileArtifactStore } from '../store/artifacts';
import { FileRunStorage } from '../store/runs';
import { conductReport, PLANS_DIR, readPlanData, regenerateConcerto, writePlan, type ConductReport, type ConductRun } from './conduct';
import { readConductInputs } from './inputs';

/**
 * `symphony resume <runId>` of a conduct run that ended — stopped by its budget, a moved
 * branch, a merge conflict, a failed gate. The engine resumes only runs whose process died;
 * a conduct run that ended is continued instead: its plan runs again as a new run in which
 * every node that passed keeps its output and does not run (no second handoff entry, commit
 * or tick), and the rest run anew, under the budget `.symphony/conductor.yaml` gives now
 * less what the stopped run — and the runs it continued — spent.
 */

/** The record of a conduct run that ended, or undefined (not a conduct run, or still running: the engine resumes those). */
export async function endedConductRun(root: string, runId: string): Promise<RunRecord | undefined> {
  const record = await recordOf(root, runId);
  return record && isPlanFile(record.file) && record.state !== 'running' ? record : undefined;
}

const isPlanFile = (file: string) => file.split('\\').join('/').startsWith(`${PLANS_DIR}/`);

async function recordOf(root: string, runId: string): Promise<RunRecord | undefined> {
  const events = await new FileRunStorage(root).events(runId).catch(() => undefined);
  return events ? replayEvents(events) : undefined;
}

/** What a conduct run spent, with the runs it continued (each counted once). */
export async function spentByConduct(root: string, record: RunRecord): Promise<{ tokens: number; usd: number }> {
  const spent = { tokens: 0, usd: 0 };
  const seen = new Set<string>();
  for (let r: RunRecord | undefined = record; r && !seen.has(r.runId); ) {
    seen.add(r.runId);
    spent.tokens += r.tokens.input + r.tokens.output;
    spent.usd += r.costUsd;
    const upstream: string | undefined = r.trigger.upstream?.runId;
    r = upstream ? await recordOf(root, upstream) : undefined;
    if (r && !isPlanFile(r.file)) break;
  }
  return spent;
}

/** Continues a conduct run that ended (see above). Throws RunRequestError with what to do when it cannot. */
export async function continueConduct(root: string, runId: string, run: Pick<ConductRun, 'engine' | 'workspace' | 'signal' | 'onEvent'>): Promise<ConductReport> {
  const record = await endedConductRun(root, runId);
  if (!record) throw new RunRequestError(`run ${runId} is not a conduct run that ended`);
  const passed = (id: string) => record.nodes[id]?.state === 'success';
  const nodeIds = Object.keys(record.nodes);
  if (record.state === 'success' || (nodeIds.length > 0 && nodeIds.every(passed))) {
    throw new RunRequestError(`conduct run ${runId} already ended with every assignment passed: there is nothing to resume (run \`symphony conduct\` for the tasks still open)`);
  }
  const plan = await readPlanData(root, record.file);
  let text: string;
  try {
    text = await fsp.readFile(join(root, record.file), 'utf8');
  } catch {
    throw new RunRequestError(`the plan of run ${runId}, ${record.file}, is gone: run \`symphony conduct\` to plan the open tasks anew`);
  }

  // The budget as it is now, less what was spent: raising it in conductor.yaml is how a run the budget stopped goes on.
  const inputs = await readConductInputs(root);
  const configProblems = inputs.problems.filter((d) => d.file === '.symphony/conductor.yaml');
  if (configProblems.length) throw new RunRequestError(configProblems.map((d) => formatDiagnostic(d)).join('\n'));
  const budget = inputs.config.budget;
  const spent = await spentByConduct(root, record);
  const left = {
    ...(budget?.tokens !== undefined ? { tokens: budget.tokens - spent.tokens } : {}),
    ...(budget?.usd !== undefined ? { usd: Math.round((budget.usd - spent.usd) * 1e6) / 1e6 } : {}),
  };
  const doc = parseDocument(text);
  if (doc.errors.length) throw new RunRequestError(`${record.file}: ${doc.errors[0]!.message}`);
  // Stopped by its budget, the run would stop again at once unless the budget was raised.
  const then = (doc.toJS() as { budget?: { tokens?: number; usd?: number } } | null)?.budget;
  const stoppedByBudget = Object.values(record.nodes).some((n) => n.state === 'failure' && /budget exceeded/.test(n.error ?? ''));
  const leftThen = { tokens: then?.tokens === undefined ? undefined : then.tokens - (record.tokens.input + record.tokens.output), usd: then?.usd === undefined ? undefined : then.usd - record.costUsd };
  const notRaised = (now: number | undefined, before: number | undefined) => now !== undefined && (now <= 0 || (before !== undefined && now <= before));
  if (notRaised(left.tokens, stoppedByBudget ? leftThen.tokens : undefined) || notRaised(left.usd, stoppedByBudget ? leftThen.usd : undefined)) {
    const over = notRaised(left.tokens, stoppedByBudget ? leftThen.tokens : undefined)
      ? `${spent.tokens} tokens of budget.tokens ${budget!.tokens}, and the ${Math.max(0, left.tokens!)} left`
      : `$${spent.usd.toFixed(4)} of budget.usd $${budget!.usd}, and the $${Math.max(0, left.usd!).toFixed(4)} left`;
    throw new RunRequestError(`budget exceeded: conduct run ${runId} (with the runs it continued) spent ${over} did not pay for its next call — raise \`budget:\` in .symphony/conductor.yaml, then \`symphony resume ${runId}\` again`);
  }
  if (left.tokens !== undefined || left.usd !== undefined) doc.set('budget', left);
  else doc.delete('budget');
  const nextId = newRunId();
  doc.commentBefore = `${doc.commentBefore ?? ''}\n Continues conduct run ${runId} (symphony resume): what passed there keeps its output and does not run again.`.replace(/^\n/, '');
  // Work an assignment could not commit because the branch moved is handed to its next attempt (see assignment.ts).
  for (const [id, node] of Object.entries(record.nodes)) {
    const left = node.state === 'failure' ? (node.output as { left?: Record<string, string> } | undefined)?.left : undefined;
    if (left && Object.keys(left).length && doc.hasIn(['nodes', id, 'with'])) doc.setIn(['nodes', id, 'with', 'leftover'], left);
  }
  const nextText = doc.toString({ lineWidth: 0 });

  // What passed keeps its output: pinned, it finishes at once without running.
  const artifacts = new FileArtifactStore(root);
  const pinned: Record<string, unknown> = {};
  for (const [id, node] of Object.entries(record.nodes)) {
    if (!passed(id)) continue;
    pinned[id] = node.output !== undefined ? node.output : node.outputRef ? await artifacts.getJson(node.outputRef) : undefined;
  }

  const { file } = await writePlan(root, nextId, nextText, plan);
  const { melody } = await run.engine.loadMelodyFile(file);
  const result = await run.engine.run({
    melody,
    file: join(root, file),
    text: nextText,
    runId: nextId,
    pinned,
    signal: run.signal,
    onEvent: run.onEvent,
    trigger: { kind: 'manual', detail: `symphony resume ${runId}`, upstream: { runId, melody: record.melody, status: record.state as Exclude<RunRecord['state'], 'running'> } },
  });
  await regenerateConcerto(root, run.workspace).catch(() => undefined);
  return { ...conductReport(plan, file, result, { tokens: { input: 0, output: 0 }, costUsd: 0 }, inputs.warnings), continues: runId, carried: Object.keys(pinned) };
}
