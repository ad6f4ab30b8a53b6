import { z } from 'zod';
import { PII_KINDS } from './privacy';
import { durationSchema } from './duration';
import { NODE_KIND_NAMES, NODE_KINDS, type NodeKind } from './nodeKinds';

/**
 * The melody format of DESIGN.md §2 as zod schemas. Objects are strict: a misspelt key
 * (`need:` for `needs:`) is an error pointing at the key, not a silently ignored line.
 */

/** Node ids: letters, digits, `_` and `-`, starting with a letter or `_`. */
export const NODE_ID = /^[A-Za-z_][A-Za-z0-9_-]*$/;
export const nodeIdSchema = z
  .string()
  .regex(NODE_ID, 'a node id uses letters, digits, "_" and "-", and starts with a letter or "_"');

/** An instrument reference: `ensemble/instrument`. */
export const INSTRUMENT_REF = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
export const instrumentRefSchema = z
  .string()
  .regex(INSTRUMENT_REF, 'an instrument is named "ensemble/instrument", e.g. "backend/reviewer"')
  .meta({ description: 'An instrument, as `ensemble/instrument` (a file `ensembles/<ensemble>/<instrument>.yaml`).' });

const globs = (description: string) => z.array(z.string()).meta({ description });

// ── Triggers ────────────────────────────────────────────────────────────────

export const saveTrigger = z
  .strictObject({
    on: z.literal('save'),
    paths: globs('Globs of files whose save starts the melody (all files when omitted).').optional(),
    debounce: durationSchema.optional(),
    autosave: z
      .boolean()
      .optional()
      .meta({
        description:
          "Also run on the saves VS Code's auto-save makes after a delay (`files.autoSave: afterDelay`), as you type. Off by default: only saves you make start the melody — an explicit save, or an auto-save when the editor or window loses focus.",
      }),
  })
  .meta({ description: 'Runs when a matching file is saved — by you (Ctrl/Cmd+S, or auto-save on focus change), or with `autosave: true` also by auto-save after a delay.' });

export const commitTrigger = z
  .strictObject({
    on: z.literal('commit'),
    branches: globs('Branches (globs) whose commits start the melody.').optional(),
    paths: globs('Only when the commit touches these paths.').optional(),
  })
  .meta({ description: 'Runs after a commit in the workspace repository.' });

export const scheduleTrigger = z
  .strictObject({
    on: z.literal('schedule'),
    cron: z.string().meta({ description: 'A cron expression: "minute hour day month weekday", e.g. "0 9 * * 1-5".' }),
    timezone: z.string().meta({ description: 'IANA time zone, e.g. "Europe/Berlin" (local time when omitted).' }).optional(),
  })
  .meta({ description: 'Runs on a schedule.' });

export const webhookTrigger = z
  .strictObject({
    on: z.literal('webhook'),
    path: z.string().meta({ description: 'URL path the webhook listens on, e.g. "/deploy".' }).optional(),
    secret: z.string().meta({ description: 'Name of the secret used to verify the request signature.' }).optional(),
  })
  .meta({ description: 'Runs when an HTTP request arrives.' });

export const melodyTrigger = z
  .strictObject({
    on: z.literal('melody'),
    melody: z.string().meta({ description: 'Name of the melody whose end starts this one.' }),
    when: z.enum(['success', 'failure', 'always']).meta({ description: 'Which outcomes of that melody count.' }).default('success'),
  })
  .meta({ description: 'Runs after another melody ends (chaining).' });

export const manualTrigger = z
  .strictObject({ on: z.literal('manual') })
  .meta({ description: 'Runs only when started by hand (the default).' });

export const triggerSchema = z.discriminatedUnion('on', [
  saveTrigger,
  commitTrigger,
  scheduleTrigger,
  webhookTrigger,
  melodyTrigger,
  manualTrigger,
]);
export type Trigger = z.output<typeof triggerSchema>;
export type TriggerKind = Trigger['on'];
export const TRIGGER_KINDS: readonly TriggerKind[] = ['save', 'commit', 'schedule', 'webhook', 'melody', 'manual'];

// ── Melody-level settings ───────────────────────────────────────────────────

export const inputSchema = z
  .strictObject({
    type: z.enum(['string', 'number', 'boolean', 'object', 'array']).default('string'),
    default: z.unknown().optional(),
    description: z.string().optional(),
    required: z.boolean().optional(),
  })
  .meta({ description: 'An input of the melody, available as `inputs.<name>` in expressions.' });
export type InputSpec = z.output<typeof inputSchema>;

export const concurrencySchema = z
  .strictObject({
    group: z.string().meta({ description: 'Runs in the same group never overlap.' }),
    'cancel-in-progress': z.boolean().meta({ description: 'Cancel the running one instead of queueing.' }).default(false),
  })
  .meta({ description: 'How runs of this melody share a concurrency group.' });

export const budgetSchema = z
  .strictObject({
    tokens: z.number().int().positive().meta({ description: 'Most tokens (input + output) a run may use.' }).optional(),
    usd: z.number().positive().meta({ description: 'Most US dollars a run may spend on model calls.' }).optional(),
  })
  .meta({ description: 'Limits enforced on every run; a call that would exceed them fails its node.' });

export const permissionsSchema = z
  .strictObject({
    fs: z
      .strictObject({
        read: globs('Globs of files nodes may read (workspace-relative).').optional(),
        write: globs('Globs of files nodes may write (workspace-relative).').optional(),
      })
      .optional(),
    commands: z.array(z.string()).meta({ description: 'Programs `shell` nodes may run.' }).optional(),
    network: z.array(z.string()).meta({ description: 'Hosts nodes may reach.' }).optional(),
    env: z
      .array(z.string())
      .meta({
        description:
          'Variables a node’s `env:` may set although they decide which program runs or what it loads: PATH, PATHEXT, ComSpec, NODE_OPTIONS, BASH_ENV, LD_*, DYLD_*. Programs are still found on the PATH Symphony started with.',
      })
      .optional(),
    sandbox: z
      .enum(['on', 'off'])
      .meta({
        description:
          'on (the default): programs run in an OS sandbox — bubblewrap on Linux, sandbox-exec on macOS — that enforces fs.write and network on them too. off: they run with all of your rights (Windows has no sandbox, so melodies that run programs there must say off).',
      })
      .optional(),
  })
  .meta({ description: 'What the melody may touch. Anything not granted is refused when a node tries it.' });
export type Permissions = z.output<typeof permissionsSchema>;

export const retrySchema = z
  .strictObject({
    max: z.number().int().min(1).max(100).meta({ description: 'Attempts in all, including the first.' }),
    backoff: z.enum(['fixed', 'exponential']).default('fixed'),
    delay: durationSchema.default('1s'),
    jitter: z.boolean().meta({ description: 'Randomize exponential delays (on by default).' }).default(true),
  })
  .meta({ description: 'Try again when the node fails.' });

export const loopSchema = z
  .strictObject({
    until: z.string().meta({ description: 'A CEL condition; the node repeats until it is true.' }),
    max: z.number().int().min(1).max(1000).meta({ description: 'Most iterations.' }),
  })
  .meta({ description: 'Repeat the node until a condition holds.' });

/** Keys every node may carry, whatever its kind. */
const nodeCommon = {
  name: z.string().meta({ description: 'A display name.' }).optional(),
  description: z.string().optional(),
  needs: z
    .union([nodeIdSchema, z.array(nodeIdSchema)])
    .meta({ description: 'Nodes that must finish first.' })
    .optional(),
  if: z
    .union([z.string(), z.boolean()])
    .meta({ description: 'A CEL condition; the node is skipped when it is false. Status functions: success(), failure(), always().' })
    .optional(),
  instrument: instrumentRefSchema.optional(),
  fallback: z.array(instrumentRefSchema).meta({ description: 'Instruments tried in order when the model fails.' }).optional(),
  retry: retrySchema.optional(),
  timeout: durationSchema.optional(),
  'continue-on-error': z.boolean().meta({ description: 'A failure does not fail the run.' }).optional(),
  outputs: z.record(z.string(), z.unknown()).meta({ description: 'A JSON Schema the node’s output must match.' }).optional(),
  loop: loopSchema.optional(),
  env: z.record(z.string(), z.string()).meta({ description: 'Environment for this node.' }).optional(),
  cache: z
    .boolean()
    .meta({ description: 'Reuse the output of an earlier run when the kind, the evaluated `with:` and `env:`, the instrument and the workspace files the node read are unchanged. Overrides the melody’s `cache:`.' })
    .optional(),
};

/** A node as the loader first sees it: common keys, any `uses`, any `with`. */
export const nodeShapeSchema = z.strictObject({
  uses: z.string().meta({ description: `The node kind: ${NODE_KIND_NAMES.join(', ')}.` }),
  with: z.record(z.string(), z.unknown()).optional(),
  ...nodeCommon,
});

/** A node of one kind, with that kind's `with:`. */
export function nodeSchemaFor<K extends NodeKind>(kind: K) {
  return z
    .strictObject({
      uses: z.literal(kind),
      with: NODE_KINDS[kind],
      ...nodeCommon,
    })
    .meta({ description: NODE_KINDS[kind].meta()?.description });
}

/**
 * Any node, discriminated by `uses` — what editors complete against. Made when first asked:
 * only the JSON Schema needs it, and its sixteen objects were a good part of what every
 * `symphony validate` and `run` spent before reading the melody (the loader checks the shape,
 * then each node's `with:` by its kind).
 */
export function nodeSchema() {
  return (fullNode ??= buildNodeSchema());
}
let fullNode: ReturnType<typeof buildNodeSchema> | undefined;

function buildNodeSchema() {
  return z.discriminatedUnion(
    'uses',
    NODE_KIND_NAMES.map((k) => nodeSchemaFor(k)) as unknown as [ReturnType<typeof nodeSchemaFor<'shell'>>, ...ReturnType<typeof nodeSchemaFor<NodeKind>>[]],
  );
}

export type NodeSpec = z.output<typeof nodeShapeSchema> & { uses: NodeKind };

export const onFailureSchema = z
  .strictObject({
    notify: z.boolean().meta({ description: 'Tell the user when the run fails.' }).optional(),
    compensate: nodeIdSchema.meta({ description: 'A node run only when the run fails (it is not part of the normal graph).' }).optional(),
  })
  .meta({ description: 'What to do when the run fails.' });

export const boardSchema = z
  .strictObject({
    positions: z
      .record(z.string(), z.tuple([z.number(), z.number()]))
      .meta({ description: 'Node positions on the Harmony Board, as [x, y].' })
      .optional(),
    viewport: z.tuple([z.number(), z.number(), z.number()]).meta({ description: '[x, y, zoom]' }).optional(),
  })
  .meta({ description: 'Layout written by the Harmony Board; safe to delete.' });

export const privacySchema = z
  .strictObject({
    mask: z
      .array(z.enum(PII_KINDS))
      .meta({ description: 'Personal data masked in node outputs, logs, run records, handoff entries and prompts sent to models: email, phone, card (Luhn-checked), ssn, ip, iban. Added to the workspace default in .symphony/privacy.yaml.' }),
  })
  .meta({ description: 'Personal data this melody keeps out of everything it writes and sends.' });
export type Privacy = z.output<typeof privacySchema>;

function melodyObject<N extends z.ZodType>(node: N) {
  return z.strictObject({
    $schema: z.string().optional(),
    name: z.string().min(1).meta({ description: 'The melody’s name, used by `on: melody` triggers and in run lists.' }),
    description: z.string().optional(),
    triggers: z.array(triggerSchema).meta({ description: 'What starts the melody; by hand when omitted.' }).optional(),
    concurrency: concurrencySchema.optional(),
    inputs: z.record(z.string(), inputSchema).optional(),
    budget: budgetSchema.optional(),
    permissions: permissionsSchema.optional(),
    privacy: privacySchema.optional(),
    cache: z.boolean().meta({ description: 'The default `cache:` of every node (off when omitted).' }).optional(),
    nodes: z.record(nodeIdSchema, node).meta({ description: 'The steps of the melody, by id.' }),
    'on-failure': onFailureSchema.optional(),
    board: boardSchema.optional(),
  });
}

/** What the loader validates first (kinds are checked one by one afterwards). */
export const melodyShapeSchema = melodyObject(nodeShapeSchema);

/** The full melody schema, for the JSON Schema shipped to editors (made when first asked, as `nodeSchema`). */
export function melodySchema() {
  return melodyObject(nodeSchema()).meta({
    title: 'Symphony melody',
    description: 'A Symphony workflow: nodes, their needs, triggers and limits. See DESIGN.md §2.',
  });
}

/** A validated melody. Node `with:` values are still unevaluated (they may hold expressions). */
export interface Melody extends Omit<z.output<typeof melodyShapeSchema>, 'nodes'> {
  readonly nodes: Readonly<Record<string, NodeSpec>>;
}

/** `needs` as a list, whatever way it was written. */
export function needsOf(node: Pick<NodeSpec, 'needs'>): string[] {
  if (node.needs === undefined) return [];
  return typeof node.needs === 'string' ? [node.needs] : [...node.needs];
}
