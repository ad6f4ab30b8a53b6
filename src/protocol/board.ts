import { z } from 'zod';
import type { FieldPath } from './boardModel';
import { safeParseNames } from '../core/model/names';

/**
 * Every message between the extension and the Harmony Board, declared once. Both sides
 * import this file: the extension posts `HostMessage`s and validates what arrives with
 * `parseBoardMessage`; the webview posts `BoardMessage`s and checks what arrives with
 * `isHostMessage`. Nothing else is ever posted.
 *
 * The conversation:
 *
 *   board → host   ready                       (after its listener is installed; again after a reload)
 *   host → board   init { catalog, view }      (then `document`; messages queue until `ready`)
 *   host → board   document { document }       (every change of the YAML, from any editor)
 *   board → host   intent { id, intent }       (an edit or action the user asked for)
 *   host → board   result { id, ok, message }  (applied or refused, with the reason)
 *   board → host   view { view }               (the user changed how boards look: remembered for the workspace)
 *
 * Runs of the board's melody (the run overlay, preview mode and the debug console):
 *
 *   host → board   run-state { run, events }    (the latest run of the melody: after `ready`, and when a stored run is newer)
 *   host → board   run-events { events }        (what the followed run did since; a new top-level run-started starts over)
 *   host → board   run-controls { controls }    (breakpoints, the run executing now, the node it is paused before)
 *   host → board   pins { pins }                (outputs pinned for preview runs)
 *   board → host   intent run / cancel-run / set-breakpoints / debug / pin-output / open-run-document
 */

const nodeId = z.string().min(1).max(200);
/** Run ids name folders under `.symphony/runs/`: no dots or slashes, so none can leave it. */
const runId = z.string().regex(/^[A-Za-z0-9][\w-]{0,99}$/, 'not a run id');
const point = z.tuple([z.number().finite(), z.number().finite()]);
const fieldPath = z.array(z.union([z.string().max(200), z.number().int().min(0)])).min(1).max(20);
/** JSON values from a form (no functions, no cycles — structured clone guarantees the rest). */
const jsonValue: z.ZodType<unknown> = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]));

/** What the user asked the board to do. Each is answered by one `result`. */
export const boardIntentSchema = z.discriminatedUnion('kind', [
  /** Add the palette entry `paletteKey` at `position` (canvas coordinates), needing `after` if given. */
  z.strictObject({ kind: z.literal('add-node'), paletteKey: z.string().min(1).max(500), position: point.optional(), after: nodeId.optional() }),
  /** Draw an edge: `to` needs `from`. */
  z.strictObject({ kind: z.literal('connect'), from: nodeId, to: nodeId }),
  z.strictObject({ kind: z.literal('disconnect'), from: nodeId, to: nodeId }),
  /** Delete nodes and edges (the Delete key on a selection). */
  z.strictObject({ kind: z.literal('delete'), nodes: z.array(nodeId).max(10_000), edges: z.array(z.strictObject({ from: nodeId, to: nodeId })).max(10_000) }),
  z.strictObject({ kind: z.literal('rename'), from: nodeId, to: z.string().max(200) }),
  /** New positions after a drag or an automatic layout. */
  z.strictObject({ kind: z.literal('move'), positions: z.record(nodeId, point) }),
  /** Set a field (`value` given) or remove it (`value` absent). */
  z.strictObject({ kind: z.literal('set-field'), path: fieldPath, value: jsonValue.optional() }),
  /** Set a field from YAML text (an empty text removes it). */
  z.strictObject({ kind: z.literal('set-field-yaml'), path: fieldPath, yaml: z.string().max(1_000_000) }),
  /** Replace a node's YAML with what the user wrote in the inspector. */
  z.strictObject({ kind: z.literal('replace-node-source'), node: nodeId, source: z.string().max(1_000_000) }),
  /** Show a place in the text editor: a line (1-based) or a node. */
  z.strictObject({ kind: z.literal('reveal'), line: z.number().int().min(1).optional(), column: z.number().int().min(1).optional(), node: nodeId.optional() }),
  /** Undo or redo on the document (the same stack as the text editor's). */
  z.strictObject({ kind: z.literal('history'), action: z.enum(['undo', 'redo']) }),
  z.strictObject({ kind: z.literal('import') }),
  z.strictObject({ kind: z.literal('export'), format: z.enum(['json', 'yaml']) }),
  /**
   * Run the melody (saved first, as Run Melody does). `inputs` as typed — text is coerced
   * to each input's declared type by the engine; `preview` runs with the pinned outputs.
   */
  z.strictObject({ kind: z.literal('run'), inputs: z.record(z.string().max(200), jsonValue).optional(), preview: z.boolean().optional() }),
  /** Cancel the run of this melody that this window executes. */
  z.strictObject({ kind: z.literal('cancel-run') }),
  /** Nodes to pause before (they apply to a run in progress too). */
  z.strictObject({ kind: z.literal('set-breakpoints'), nodes: z.array(nodeId).max(10_000) }),
  /** Continue or step a paused run started from the board. */
  z.strictObject({ kind: z.literal('debug'), action: z.enum(['continue', 'step']) }),
  /**
   * Pin a node's output for preview runs — typed in, or taken from a run's record and
   * artifacts — or, without `pin`, unpin it.
   */
  z.strictObject({
    kind: z.literal('pin-output'),
    node: nodeId,
    pin: z
      .discriminatedUnion('source', [
        z.strictObject({ source: z.literal('typed'), output: jsonValue }),
        z.strictObject({ source: z.literal('run'), runId }),
      ])
      .optional(),
  }),
  /** Open a node's output or log of a run in a `symphony-run:` document beside the board. */
  z.strictObject({ kind: z.literal('open-run-document'), runId, node: nodeId, document: z.enum(['output', 'log']) }),
]);

/** An intent, as the board sends it. */
export type BoardIntent = z.infer<typeof boardIntentSchema>;
/** The name of an intent (`connect`, `move`…). */
export type BoardIntentKind = BoardIntent['kind'];

/** Messages from the board to the extension. */
export const boardMessageSchema = z.discriminatedUnion('type', [
  /** The board's listener is installed: the host may send (and flushes what it queued). */
  z.strictObject({ type: z.literal('ready') }),
  /** `id` is echoed in the `result`, so the board knows which request it answers. */
  z.strictObject({ type: z.literal('intent'), id: z.number().int().min(0), intent: boardIntentSchema }),
  /** The user changed how boards look (the minimap shown or hidden): every board of the workspace opens that way. */
  z.strictObject({ type: z.literal('view'), view: z.strictObject({ minimap: z.boolean() }) }),
  /** Something went wrong inside the webview; it lands in the Symphony log. */
  z.strictObject({ type: z.literal('log'), level: z.enum(['info', 'warn', 'error']), message: z.string().max(20_000) }),
]);

/** A message from the board, as validated by {@link parseBoardMessage}. */
export type BoardMessage = z.infer<typeof boardMessageSchema>;

/**
 * Validates a message from the webview. Anything malformed is refused with the reason —
 * a webview is another process, and a bad message must never reach the document.
 */
export function parseBoardMessage(raw: unknown): { ok: true; message: BoardMessage } | { ok: false; error: string } {
  const r = safeParseNames(boardMessageSchema, raw);
  if (r.success) return { ok: true, message: r.data };
  const issue = r.error.issues[0];
  return { ok: false, error: `${issue?.path.join('.') || 'message'}: ${issue?.message ?? 'invalid'}` };
}

// What the extension sends the board, and the board's guard for it: a module of its own
// without zod, so the webview's bundle (which only ever checks host messages) leaves zod out.
export { isHostMessage, type BoardView, type HostMessage, type HostMessageType } from './boardHost';

/** Whether `raw` is a message the webview sends (without validating its content). */
export function isBoardMessage(raw: unknown): raw is BoardMessage {
  return parseBoardMessage(raw).ok;
}

/** Re-exported so that message code needs one import. */
export type { FieldPath };
