import { z } from 'zod';
import { TOOL_NAMES } from './nodeKinds';

/** `ensemble/instrument`. */
const ref = z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'an instrument as ensemble/instrument, e.g. core/reviewer');

/** A program with its arguments, or a command line split on spaces (no shell either way). */
export const commandSchema = z
  .union([z.array(z.string().min(1)).min(1), z.string().min(1)])
  .transform((c) => (Array.isArray(c) ? c : c.trim().split(/\s+/)))
  .meta({ description: 'A program and its arguments, e.g. [npm, test] or "npm test" (split on spaces; never run through a shell).' });

/** `.symphony/conductor.yaml`: how `symphony conduct` plans, checks and commits. */
export const conductorConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    planner: ref.meta({ description: 'The instrument that plans tasks no mention or `handles` glob routes (structured output).' }).optional(),
    reviewer: ref.meta({ description: 'The instrument that checks each assignment against production.md (a verdict { pass, reasons, unmet }). None: only the mechanical checks.' }).optional(),
    testCommand: commandSchema.optional(),
    commit: z.boolean().meta({ description: 'Commit each passed assignment with the instrument’s nickname (default true).' }).optional(),
    tools: z.array(z.enum(TOOL_NAMES)).meta({ description: 'Tools instruments get (default: all).' }).optional(),
    maxSteps: z.number().int().min(1).max(100).meta({ description: 'Model calls per attempt of an assignment (default 12).' }).optional(),
    budget: z
      .strictObject({ tokens: z.number().int().positive().optional(), usd: z.number().positive().optional() })
      .meta({ description: 'The budget of each conduct run.' })
      .optional(),
  })
  .meta({ title: 'Symphony Conductor settings', description: '.symphony/conductor.yaml — how `symphony conduct` plans, checks and commits.' });
export type ConductorConfig = z.output<typeof conductorConfigSchema>;

/** One unit of work the Conductor gives an instrument: one open task of the sheet. */
export interface Assignment {
  /** `t<task number>`: also the plan melody's node id. */
  readonly id: string;
  /** The task's number in sheetMusic.md (1-based), to tick it when done. */
  readonly task: number;
  /** The task as written. */
  readonly text: string;
  /** What is asked, without mentions. */
  readonly objective: string;
  /** `ensemble/instrument`. */
  readonly instrument: string;
  /** How it was routed. */
  readonly routedBy: 'mention' | 'handles' | 'planner';
  /** Inputs: files named by the task (and details). */
  readonly inputs: { readonly files: readonly string[]; readonly details?: string };
  /** Parameters of the turn. */
  readonly parameters: { readonly tools: readonly (typeof TOOL_NAMES)[number][]; readonly maxSteps: number; readonly tests: boolean };
  /** What it must produce: the files it may write. */
  readonly outputs: { readonly scope: readonly string[] };
  /** Conditions it must meet: production.md's checklist and constraints, by the gate. */
  readonly conditions: readonly string[];
  /** Assignments that must pass first (they name the same files). */
  readonly needs: readonly string[];
}

/** What a planner instrument returns: an assignment per task it was given. */
export const plannerAnswerSchema = z.object({
  assignments: z
    .array(
      z.object({
        task: z.number().int().positive().describe('The task number, as given.'),
        instrument: z.string().describe('ensemble/instrument, one of the instruments listed.'),
        objective: z.string().min(1).max(2000).describe('What the instrument must do, in a sentence or two.'),
        files: z.array(z.string().max(300)).max(50).describe('Workspace files or globs the work touches.'),
      }),
    )
    .max(200),
});
export type PlannerAnswer = z.output<typeof plannerAnswerSchema>;

/** The gate's verdict on an assignment. */
export const verdictSchema = z.object({
  pass: z.boolean(),
  reasons: z.array(z.string().max(2000)).max(50),
  unmet: z.array(z.string().max(2000)).max(50),
});
export type Verdict = z.output<typeof verdictSchema>;
