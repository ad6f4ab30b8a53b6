import { z } from 'zod';

/**
 * The `with:` schema of every node kind (`uses:`). The loader checks a node's `with:`
 * against its kind's schema, the JSON Schema shipped for editors is generated from these,
 * and each kind's implementation in `core/nodes` parses its `with:` with the same schema —
 * one definition, three uses.
 *
 * Strings may hold `${{ … }}` expressions; they are checked at load time and evaluated
 * when the node runs.
 */

const text = (description: string) => z.string().meta({ description });
const stringList = (description: string) => z.array(z.string()).meta({ description });
const anyValue = (description: string) => z.unknown().meta({ description });

export const shellWith = z
  .strictObject({
    command: text('The program to run, found on PATH. Never a shell command line: arguments go in `args`.'),
    args: stringList('Arguments, passed to the program as an array (no shell, no quoting, no globbing).').optional(),
    cwd: text('Working directory, relative to the workspace root.').optional(),
    env: z.record(z.string(), z.string()).meta({ description: 'Extra environment variables.' }).optional(),
    stdin: text('Text written to the program’s standard input.').optional(),
  })
  .meta({ description: 'Runs a program with an argument array. Output: { stdout, stderr, exitCode }.' });

/** Tools an instrument node may give its model (`with.tools`); see core/tools. */
export const TOOL_NAMES = ['read', 'list', 'search', 'write', 'edit', 'run'] as const;

/** Model calls an agent may make in one attempt unless `with.maxSteps` says otherwise. */
export const DEFAULT_MAX_STEPS = 8;

export const instrumentWith = z
  .strictObject({
    prompt: text('The instruction for the model.'),
    system: text('An optional system prompt, added to the instrument’s own role.').optional(),
    files: stringList('Workspace files (globs) packed into the model’s context.').optional(),
    maxTokens: z.number().int().positive().meta({ description: 'Upper bound on output tokens.' }).optional(),
    temperature: z.number().min(0).max(2).meta({ description: 'Sampling temperature.' }).optional(),
    json: z.boolean().meta({ description: 'Ask for a JSON object and parse it as the output.' }).optional(),
    tools: z
      .array(z.enum(TOOL_NAMES))
      .meta({
        description:
          'Tools the model may use to work in the workspace, within the melody’s permissions: read (read_file), list (list_files), search, write (write_file), edit (edit_file), run (a program allowed by permissions.commands).',
      })
      .optional(),
    maxSteps: z.number().int().min(1).max(100).meta({ description: `Model calls the agent may make (default ${DEFAULT_MAX_STEPS}); the last one is asked to answer without tools.` }).optional(),
    context: z
      .strictObject({
        tiers: z
          .array(z.enum(['should', 'reference']))
          .meta({
            description:
              'Optional tiers to gather (default both). should: the handoff digest, the ensemble’s summary.txt, production goals, files named in the prompt in `backticks`; reference: older handoff entries, files the instrument `handles`.',
          })
          .optional(),
        tokens: z.number().int().positive().meta({ description: 'Tokens the prompt may take, system prompt included (default and most: the model’s context window less room for the answer).' }).optional(),
      })
      .meta({
        description:
          'Pack the prompt in tiers under a token budget: MUST READ (the prompt, production.md’s constraints — never dropped), SHOULD KNOW, REFERENCE IF NEEDED; what does not fit is listed at the end. Without it: the prompt and `files` only.',
      })
      .optional(),
  })
  .meta({ description: 'Calls the model of the node’s `instrument:`. Output: the text (or the parsed JSON); with `tools`, { text, files, steps, toolCalls }.' });

export const transformWith = z
  .strictObject({
    value: anyValue('The output: any value; strings may hold `${{ }}` expressions.'),
  })
  .meta({ description: 'Computes a value from expressions. Output: the value.' });

export const templateWith = z
  .strictObject({
    template: text('Text with `${{ }}` expressions.').optional(),
    file: text('A template file, relative to the workspace root (instead of `template`).').optional(),
  })
  .refine((w) => (w.template === undefined) !== (w.file === undefined), {
    message: 'set exactly one of `template` or `file`',
  })
  .meta({ description: 'Renders text. Output: the rendered string.' });

export const validateWith = z
  .strictObject({
    value: anyValue('The value to check; usually `${{ nodes.<id>.output }}`.'),
    schema: z.record(z.string(), z.unknown()).meta({ description: 'A JSON Schema.' }),
  })
  .meta({ description: 'Checks a value against a JSON Schema; fails the node when it does not match.' });

export const readFileWith = z
  .strictObject({
    path: text('File to read, relative to the workspace root.'),
    parse: z.enum(['text', 'json', 'yaml']).meta({ description: 'How to read the content.' }).optional(),
  })
  .meta({ description: 'Reads a file (subject to `permissions.fs.read`). Output: its content.' });

export const writeFileWith = z
  .strictObject({
    path: text('File to write, relative to the workspace root.'),
    content: anyValue('Text to write; other values are written as JSON.'),
    append: z.boolean().meta({ description: 'Append instead of replacing.' }).optional(),
  })
  .meta({ description: 'Writes a file (subject to `permissions.fs.write`). Output: { path, bytes }.' });

export const gitCommitWith = z
  .strictObject({
    message: text('Commit message; the instrument nickname is added to it.'),
    paths: stringList('Paths to stage; all changes when omitted.').optional(),
    nickname: text('Nickname credited in the message (defaults to the melody name).').optional(),
  })
  .meta({ description: 'Stages and commits. Output: { commit, branch }.' });

export const melodyWith = z
  .strictObject({
    melody: text('Path of the sub-melody, relative to the workspace root.'),
    inputs: z.record(z.string(), z.unknown()).meta({ description: 'Inputs of the sub-melody.' }).optional(),
  })
  .meta({ description: 'Runs another melody as a child run. Output: the child’s node outputs.' });

export const approvalWith = z
  .strictObject({
    message: text('What the person is asked to approve.'),
  })
  .meta({ description: 'Waits for a person to approve. The CLI needs `--yes`.' });

export const summarizeWith = z
  .strictObject({
    text: text('Text to summarize.'),
    maxSentences: z.number().int().positive().meta({ description: 'Length of the summary.' }).optional(),
  })
  .meta({ description: 'Summarizes text with the node’s instrument, or extractively when none is set.' });

export const handoffWith = z
  .strictObject({
    summary: text('What happened, in a few sentences.'),
    nickname: text('Who did it (an instrument nickname).').optional(),
    model: text('The model that did it, if any.').optional(),
    files: stringList('Files touched.').optional(),
  })
  .meta({ description: 'Appends an entry to handoff.md.' });

export const notifyWith = z
  .strictObject({
    message: text('The notification text.'),
    level: z.enum(['info', 'warning', 'error']).optional(),
  })
  .meta({ description: 'Shows a notification in VS Code, or prints it in the CLI.' });

export const vscodeCommandWith = z
  .strictObject({
    command: text('A VS Code command id.'),
    args: z.array(z.unknown()).meta({ description: 'Arguments of the command.' }).optional(),
  })
  .meta({ description: 'Runs a VS Code command (in the extension host only).' });

export const assignmentWith = z
  .strictObject({
    task: z.number().int().positive().meta({ description: 'The task’s number in sheetMusic.md (1-based, done tasks counted), ticked when the assignment passes.' }),
    text: text('The task as written in sheetMusic.md (to find it again if the sheet changed).'),
    objective: text('What the instrument must do.'),
    details: text('More detail from the sheet.').optional(),
    goal: text('The session’s goal (sheetMusic.md).').optional(),
    files: stringList('Files the task names; packed into the instrument’s context.').optional(),
    scope: stringList('Globs of the files the instrument may write (within the melody’s fs.write).'),
    conditions: stringList('production.md’s checklist and constraints the work must meet.').optional(),
    tools: z.array(z.enum(TOOL_NAMES)).meta({ description: 'The instrument’s tools (default: all).' }).optional(),
    maxSteps: z.number().int().min(1).max(100).meta({ description: 'Model calls per attempt (default 12).' }).optional(),
    tests: z.boolean().meta({ description: 'Whether the work must come with tests under tests/, and the test command run.' }).optional(),
    testCommand: stringList('The program and arguments that run the tests (no shell).').optional(),
    reviewer: text('The instrument (ensemble/instrument) that checks the work against production.md; none: the mechanical checks only.').optional(),
    commit: z.boolean().meta({ description: 'Commit the files the work touched when it passes (default true).' }).optional(),
    chamber: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/)
      .meta({ description: 'Work in this chamber (a git worktree under .symphony/chambers/, made when missing) and commit on its branch; a `merge-chambers` node merges it back and ticks the task.' })
      .optional(),
    branch: text('The branch the plan was made on: the work starts and commits only while the workspace is on it.').optional(),
    leftover: z
      .record(z.string(), z.string().regex(/^[0-9a-f]{64}$/))
      .meta({ description: 'Files an earlier run of this task changed but could not commit (the branch moved under it), each with the SHA-256 of what it left: still exactly so, they are this work and are committed with it.' })
      .optional(),
  })
  .meta({
    description:
      'One task of sheetMusic.md done by the node’s instrument, as the Conductor does it: the work with tools, the tests (failures go back once), the production gate (reasons go back once), a handoff entry, the ensemble’s summary.txt, a commit `[Nickname] task` of the files touched, and the task ticked. Output: { status, instrument, nickname, model, files, commit, gate, tests, tokens, costUsd }.',
  });

export const mergeChambersWith = z
  .strictObject({
    chambers: stringList('The chambers to merge back, by id.'),
    tasks: z
      .array(z.strictObject({ chamber: z.string(), task: z.number().int().positive(), text: z.string() }))
      .meta({ description: 'The sheetMusic.md task each chamber did, ticked once its work is merged.' })
      .optional(),
    branch: text('The branch the plan was made on: the chambers are merged only into it.').optional(),
  })
  .meta({
    description:
      'Merges chambers back into the current branch (merge-purge-continue: each chamber all or nothing, as .symphony/MERGE_PLAN.json decides — preserve when it says nothing) and ticks their tasks. A conflict stops the merge cleanly and names the chamber and files. Output: the merge report.',
  });

/** Every node kind, by its `uses:` name, with the schema of its `with:`. */
export const NODE_KINDS = {
  shell: shellWith,
  instrument: instrumentWith,
  transform: transformWith,
  template: templateWith,
  validate: validateWith,
  'read-file': readFileWith,
  'write-file': writeFileWith,
  'git-commit': gitCommitWith,
  melody: melodyWith,
  approval: approvalWith,
  summarize: summarizeWith,
  handoff: handoffWith,
  notify: notifyWith,
  'vscode-command': vscodeCommandWith,
  assignment: assignmentWith,
  'merge-chambers': mergeChambersWith,
} as const;

export type NodeKind = keyof typeof NODE_KINDS;

export const NODE_KIND_NAMES = Object.keys(NODE_KINDS) as NodeKind[];

export function isNodeKind(name: unknown): name is NodeKind {
  return typeof name === 'string' && Object.hasOwn(NODE_KINDS, name);
}

/** Kinds whose nodes may (instrument: must) name an `instrument:`. */
export const KINDS_WITH_INSTRUMENT: readonly NodeKind[] = ['instrument', 'summarize', 'assignment'];

/** The typed `with:` of each kind. */
export type WithOf<K extends NodeKind> = z.output<(typeof NODE_KINDS)[K]>;
