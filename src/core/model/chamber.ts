import { z } from 'zod';

/**
 * Chambers and the merge plan, DESIGN.md §5: a chamber is a git worktree in which one
 * parallel worker works on one module; the merge plan says, per module and per deviation,
 * what becomes of that work when the chambers are merged back.
 */

/** What `setup-chambers --workers` takes: one entry per parallel worker. */
export const chamberWorkerSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'use letters, digits, "-" and "_": the id names a folder and the branch symphony/<id>')
    .meta({ description: 'Names the chamber folder .symphony/chambers/<id> and the branch symphony/<id>.' }),
  module: z.string().min(1).meta({ description: 'The module the worker owns; merge decisions and deviations are per module.' }),
  scope: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
    .meta({ description: 'Globs of the files the worker may change, e.g. "src/auth/**".' }),
  mission: z.string().optional().meta({ description: "The worker's own task, added to its MUST READ context." }),
});
export type ChamberWorker = z.output<typeof chamberWorkerSchema>;

/** The `--workers` list: at least one worker, ids unique. */
export const chamberWorkersSchema = z
  .array(chamberWorkerSchema)
  .min(1)
  .superRefine((workers, ctx) => {
    const seen = new Set<string>();
    workers.forEach((w, i) => {
      if (seen.has(w.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `the id "${w.id}" is used twice` });
      seen.add(w.id);
    });
  });

/** A chamber as `.symphony/chambers/chambers.json` remembers it. */
export const chamberSchema = chamberWorkerSchema.extend({
  branch: z.string(),
  /** Relative to the workspace root. */
  path: z.string(),
  /** The commit the chamber's branch started from. */
  base: z.string(),
  createdAt: z.iso.datetime(),
});
export type Chamber = z.output<typeof chamberSchema>;

export const chambersFileSchema = z.strictObject({
  version: z.literal(1),
  chambers: z.array(chamberSchema),
});
export type ChambersFile = z.output<typeof chambersFileSchema>;

export const MERGE_DECISIONS = ['preserve', 'adapt', 'purge'] as const;
/** preserve: merge as it is · adapt: merge, flagged for rework · purge: drop it. */
export type MergeDecisionKind = (typeof MERGE_DECISIONS)[number];

export const mergeDecisionSchema = z.strictObject({
  decision: z.enum(MERGE_DECISIONS),
  reason: z.string().min(1).meta({ description: 'Why: recorded in the merge commit and the merge report.' }),
  notes: z.string().optional().meta({ description: 'For adapt: what has to change.' }),
});
export type MergeDecision = z.output<typeof mergeDecisionSchema>;

/** `.symphony/MERGE_PLAN.json`. */
export const mergePlanSchema = z.strictObject({
  version: z.literal(1),
  modules: z
    .record(z.string(), mergeDecisionSchema)
    .default({})
    .meta({ description: "Module → decision for the work of the chambers that own it. A chamber whose module has none is left unmerged." }),
  deviations: z
    .record(z.string(), mergeDecisionSchema)
    .default({})
    .meta({ description: "Deviation id → decision for the files its markers are in, within a merged chamber's work." }),
});
export type MergePlan = z.output<typeof mergePlanSchema>;
