import type { Instrument } from '../model/instrument';
import type { WithOf } from '../model/nodeKinds';
import { permanentError } from '../nodes/support';
import type { NodeContext } from '../nodes/types';
import { contextWindowOf, DEFAULT_CONTEXT_WINDOW } from '../providers/prices';
import { isExactCount } from '../providers/tokens';
import type { FilesContext } from './files';
import { pack, tokenCounter, type Packed } from './pack';
import { gatherContext } from './sources';

/**
 * An instrument node's user prompt: its context gathered in tiers and packed under the
 * model's budget. The one entry point `nodes/instrument.ts` calls.
 */

/** Room left for the answer when neither the node nor the instrument sets `maxTokens`. */
export const ANSWER_ROOM = 1024;

/**
 * A model's window less what the prompt must leave free: message framing, and — for
 * models whose tokens are approximated (anything but OpenAI ids) — the approximation's
 * error, which tokens.ts puts at about ±15% and which this margin covers for prompts up to
 * two thirds of the window.
 */
export function safetyMargin(window: number, modelId: string | undefined): number {
  const exact = modelId !== undefined && isExactCount(modelId);
  return Math.ceil(window * (exact ? 0.01 : 0.1)) + 16;
}

/** The model id prompts are counted for: its id, else (vscode-lm) its family. */
const countedAs = (instrument: Instrument): string | undefined => instrument.model?.id ?? instrument.model?.family;

/** How many tokens a turn's prompt (system prompt included) may take, and why. */
export interface PromptBudget {
  readonly tokens: number;
  /** Where the figure comes from, for messages. */
  readonly reason: string;
}

/** The prompt budget of an instrument: its window less the answer's room and a margin, or `tokens` when that is less. */
export function promptBudget(instrument: Instrument, maxTokens: number | undefined, tokens?: number): PromptBudget {
  const window = instrument.model ? contextWindowOf(instrument.model) : DEFAULT_CONTEXT_WINDOW;
  const answer = maxTokens ?? ANSWER_ROOM;
  const margin = safetyMargin(window, countedAs(instrument));
  const ceiling = window - answer - margin;
  if (tokens !== undefined && tokens < ceiling) return { tokens, reason: `with.context.tokens is ${tokens}` };
  return { tokens: ceiling, reason: `${instrument.ref} reads ${window} tokens, less ${answer} for the answer and ${margin} of margin` };
}

/**
 * Builds the user prompt of an instrument node: the prompt as MUST READ, `with.files` as
 * SHOULD KNOW, and with `with.context` the rest of the tiers, packed into what the model
 * reads besides `system`. What is left out is listed in the prompt and logged. When the
 * prompt alone (with the system prompt) does not fit, the node fails for good: a retry
 * would not make it smaller.
 */
export async function buildPrompt(ctx: FilesContext & Pick<NodeContext, 'log'>, instrument: Instrument, input: WithOf<'instrument'>, system?: string): Promise<string> {
  const packed = await packPrompt(ctx, instrument, input, system);
  const missing = [...packed.cut.map((c) => `${c.title} (cut: ${c.kept} of ${c.of} tokens)`), ...packed.leftOut.map((l) => l.title)];
  if (missing.length) {
    const named = missing.slice(0, 50).join('; ') + (missing.length > 50 ? `; and ${missing.length - 50} more` : '');
    ctx.log('info', `context: ${packed.tokens} of ${packed.budget} tokens; not all there: ${named}\n`);
  }
  return packed.text;
}

/** `buildPrompt` with the whole packing result, for callers that report on it. */
export async function packPrompt(ctx: FilesContext, instrument: Instrument, input: WithOf<'instrument'>, system?: string): Promise<Packed> {
  const counter = tokenCounter(countedAs(instrument));
  const budget = promptBudget(instrument, input.maxTokens ?? instrument.model?.maxTokens, input.context?.tokens);
  const systemTokens = system ? counter.count(system) : 0;
  const room = budget.tokens - systemTokens;
  const tiers = input.context ? (input.context.tiers ?? ['should', 'reference']) : undefined;
  const gathered = await gatherContext(ctx, instrument, { prompt: input.prompt, files: input.files, tiers, budget: Math.max(0, room), counter });
  const packed = pack(gathered.sections, { budget: room, counter, omitted: gathered.omitted });
  if (!packed.ok) {
    const needed = packed.error.needed + systemTokens;
    const with_ = systemTokens ? ` (${systemTokens} of them the system prompt)` : '';
    const fix = input.context?.tokens !== undefined && budget.tokens === input.context.tokens ? 'raise with.context.tokens or shorten the prompt' : 'shorten the prompt, lower maxTokens, or use a model with a larger context window (model.contextWindow)';
    throw permanentError(`the prompt alone needs ${needed} tokens${with_} and the model reads at most ${budget.tokens} (${budget.reason}); ${fix}`);
  }
  return packed.value;
}
