import { join, relative } from 'node:path';
import { readJsonFile } from '../load/jsonFile';
import { mergePlanSchema, type Chamber, type MergeDecision, type MergePlan } from '../model/chamber';
import type { DeviationRecord } from '../model/deviation';
import { formatDiagnostic } from '../model/diagnostic';
import { err, ok, type Result } from '../model/result';

/**
 * `.symphony/MERGE_PLAN.json` and what it means for each chamber: the decision for the
 * chamber's module (preserve, adapt, purge — none leaves the chamber unmerged), and the
 * decisions on deviations of that module, which act on the files their markers are in.
 */

export const MERGE_PLAN_FILE = '.symphony/MERGE_PLAN.json';

/** An example plan, for messages that ask the user to write one. */
export const MERGE_PLAN_EXAMPLE = '{ "version": 1, "modules": { "auth": { "decision": "preserve", "reason": "fits the architecture" } }, "deviations": {} }';

/** Reads the merge plan; a missing plan is an error, since merging needs decisions. */
export async function loadMergePlan(root: string): Promise<Result<MergePlan, string[]>> {
  const r = await readJsonFile(mergePlanSchema, join(root, MERGE_PLAN_FILE), `expected ${MERGE_PLAN_EXAMPLE}`);
  if (!r.ok) return err(r.error.map((d) => formatDiagnostic(d, relative(root, d.file))));
  if (!r.value) return err([`there is no ${MERGE_PLAN_FILE}: write the decisions first, e.g. ${MERGE_PLAN_EXAMPLE}`]);
  return ok(r.value);
}

/** A decision on a deviation, with the files (workspace-relative) its markers are in. */
export interface DeviationDecision extends MergeDecision {
  readonly deviation: string;
  readonly files: readonly string[];
}

/** What the plan decides for one chamber. */
export interface ChamberPlan {
  readonly chamber: Chamber;
  /** The module's decision; undefined when the plan has none. */
  readonly decision: MergeDecision | undefined;
  /** Decisions on deviations of the chamber's module. */
  readonly deviations: readonly DeviationDecision[];
}

/** The plan applied to the chambers, with what in it matched nothing. */
export interface ResolvedPlan {
  readonly chambers: readonly ChamberPlan[];
  readonly warnings: readonly string[];
}

/** Matches the plan's decisions to the chambers and deviation records. */
export function resolvePlan(plan: MergePlan, chambers: readonly Chamber[], records: readonly DeviationRecord[]): ResolvedPlan {
  const warnings: string[] = [];
  const modules = new Set(chambers.map((c) => c.module));
  for (const m of Object.keys(plan.modules)) if (!modules.has(m)) warnings.push(`${MERGE_PLAN_FILE} decides on module "${m}", which no chamber works on`);
  const byId = new Map(records.map((r) => [r.id, r]));
  const decided: DeviationDecision[] = [];
  for (const [id, d] of Object.entries(plan.deviations)) {
    const r = byId.get(id);
    if (!r) {
      warnings.push(`${MERGE_PLAN_FILE} decides on deviation ${id}, which is not recorded`);
      continue;
    }
    if (!modules.has(r.module)) warnings.push(`deviation ${id} is in module "${r.module}", which no chamber works on`);
    decided.push({ ...d, deviation: id, files: [...new Set(r.markers.map((m) => m.file))] });
  }
  return {
    chambers: chambers.map((chamber) => ({
      chamber,
      decision: plan.modules[chamber.module],
      deviations: decided.filter((d) => byId.get(d.deviation)!.module === chamber.module),
    })),
    warnings,
  };
}

/**
 * The union of two versions of the records, by id; where both have a record, the one
 * updated last wins. Chambers record deviations in their own copy of DEVIATIONS.json,
 * so merging their work merges the records this way rather than line by line.
 */
export function unionRecords(ours: readonly DeviationRecord[], theirs: readonly DeviationRecord[]): DeviationRecord[] {
  const out = new Map(ours.map((r) => [r.id, r]));
  for (const r of theirs) {
    const mine = out.get(r.id);
    if (!mine || r.updatedAt > mine.updatedAt) out.set(r.id, r);
  }
  return [...out.values()];
}
