import { z } from 'zod';
import type { Instrument } from '../model/instrument';
import type { TokenUsage } from '../model/run';
import { NodeError, type NodeContext } from '../nodes/types';
import { costOf } from './prices';
import { scriptModel } from './script';
import { serviceModel } from './service';
import { ModelCallError, type ChatMessage, type ChatModel, type ChatRequest, type ChatTurn } from './types';

/**
 * The one way a node talks to a model: open the instrument's model, check the call against
 * the budget before it is sent, stream its text into the node's log, and charge what it
 * cost to the run as soon as it answers. The agent's tool loop (`agent.ts`) makes its calls
 * through here too.
 */

/** The parts of a NodeContext a model call needs. */
export type CallContext = Pick<NodeContext, 'signal' | 'workspaceRoot' | 'models' | 'log' | 'usage' | 'budgetLeft' | 'priceOf' | 'addSecret' | 'redact' | 'permissions' | 'env' | 'programs' | 'programStarted'>;

/**
 * Opens an instrument as a model: a model instrument through the run's providers; a script
 * or a service instrument directly (they run within the melody's permissions).
 */
export async function openModel(ctx: CallContext, instrument: Instrument): Promise<ChatModel> {
  if (instrument.kind === 'script' && instrument.script) return scriptModel(ctx, { ...instrument, script: instrument.script });
  if (instrument.kind === 'service' && instrument.service) return serviceModel(ctx, { ...instrument, service: instrument.service });
  try {
    return await ctx.models.open(instrument, {
      signal: ctx.signal,
      workspaceRoot: ctx.workspaceRoot,
      addSecret: (value) => ctx.addSecret(value),
      note: (text) => ctx.log('info', text.endsWith('\n') ? text : `${text}\n`),
    });
  } catch (e) {
    throw asNodeError(e);
  }
}

/** A finished call with what it cost. */
export interface CallResult extends ChatTurn {
  readonly usage: TokenUsage;
  readonly costUsd: number;
}

/** What to stream where during a call. */
export interface CallOptions {
  /** Where answer text goes as it arrives (default: the node's stdout log). */
  readonly onText?: (chunk: string) => void;
}

/**
 * Token counts of messages and tool lists already counted, per model: an agent's
 * conversation grows by a few messages a step, and counting all of it again every step
 * would make long loops quadratic.
 */
const counted = new WeakMap<ChatModel, WeakMap<object, number>>();

async function countOnce(model: ChatModel, key: object, text: () => string, signal: AbortSignal): Promise<number> {
  let cache = counted.get(model);
  if (!cache) counted.set(model, (cache = new WeakMap()));
  const known = cache.get(key);
  if (known !== undefined) return known;
  const n = await model.countTokens(text(), signal);
  cache.set(key, n);
  return n;
}

/** Tokens of everything a request sends: system prompt, messages, tool calls and results, tool schemas. */
export async function countRequestTokens(model: ChatModel, request: ChatRequest, signal: AbortSignal): Promise<number> {
  if (model.countRequest) return model.countRequest(request, signal);
  let total = request.system ? await model.countTokens(request.system, signal) : 0;
  for (const m of request.messages) {
    total += await countOnce(
      model,
      m,
      () =>
        m.role === 'tool'
          ? m.results.map((r) => r.output).join('\n')
          : [m.text, ...(m.role === 'assistant' ? (m.toolCalls ?? []).map((c) => `${c.name} ${JSON.stringify(c.input)}`) : [])].join('\n'),
      signal,
    );
  }
  if (request.tools?.length) {
    const tools = request.tools;
    total += await countOnce(model, tools, () => tools.map((t) => `${t.name} ${t.description} ${JSON.stringify(z.toJSONSchema(t.inputSchema))}`).join('\n'), signal);
  }
  return total;
}

/** A call refused unsent because the run's budget cannot pay for it: trying again cannot help. */
export class BudgetRefusal extends NodeError {
  constructor(message: string) {
    super(message, { retryable: false });
    this.name = 'BudgetRefusal';
  }
}

/**
 * Makes one call, refusing it before it is sent when its prompt alone would break the
 * run's `budget.tokens` or `budget.usd`, and charging its usage when it answers (the
 * provider's figures, or counted when it gives none).
 */
export async function callModel(ctx: CallContext, instrument: Instrument, model: ChatModel, original: ChatRequest, options: CallOptions = {}): Promise<CallResult> {
  const request = redactRequest(ctx, original);
  const estimate = await countRequestTokens(model, request, ctx.signal);
  const left = ctx.budgetLeft();
  if (left.tokens !== undefined && estimate > left.tokens) {
    throw new BudgetRefusal(`budget: this call to ${instrument.ref} would send about ${estimate} tokens and only ${Math.max(0, left.tokens)} are left of budget.tokens; it was not sent`);
  }
  const price = instrument.model ? ctx.priceOf(instrument, model.id) : undefined;
  if (price && left.usd !== undefined) {
    const usd = costOf({ input: estimate, output: 0 }, price);
    if (usd > left.usd) {
      throw new BudgetRefusal(`budget: this call to ${instrument.ref} would cost about $${usd.toFixed(4)} for its prompt alone and $${Math.max(0, left.usd).toFixed(4)} is left of budget.usd; it was not sent`);
    }
  }
  let turn: ChatTurn;
  try {
    turn = await model.chat(request, {
      signal: ctx.signal,
      onText: options.onText ?? ((chunk) => ctx.log('stdout', chunk)),
      onNote: (note) => ctx.log('info', note.endsWith('\n') ? note : `${note}\n`),
    });
  } catch (e) {
    // An answer that could not be used was still paid for.
    if (e instanceof ModelCallError && e.usage) charge(e.usage, model.id);
    throw asNodeError(e);
  }
  const usage = turn.usage ?? {
    input: estimate,
    output: await model.countTokens([turn.text, ...turn.toolCalls.map((c) => `${c.name} ${JSON.stringify(c.input)}`)].join('\n'), ctx.signal),
  };
  return { ...turn, usage, costUsd: charge(usage, turn.model) };

  function charge(tokens: TokenUsage, answeredBy: string): number {
    const answeredPrice = instrument.model ? ctx.priceOf(instrument, answeredBy) ?? price : undefined;
    const costUsd = answeredPrice ? costOf(tokens, answeredPrice) : 0;
    ctx.usage({ tokens, costUsd, model: answeredBy, instrument: instrument.ref, priced: answeredPrice !== undefined || !instrument.model });
    return costUsd;
  }
}

/**
 * The request as it may leave this machine: no secret of the run (in any encoding) and no
 * personal data the melody masks, in the system prompt, the messages or the tool results.
 * Messages that need no change are kept as they are (so their token counts stay cached).
 */
function redactRequest(ctx: Pick<CallContext, 'redact'>, request: ChatRequest): ChatRequest {
  const messages = request.messages.map((m): ChatMessage => {
    if (m.role === 'tool') {
      const results = m.results.map((r) => {
        const output = ctx.redact(r.output);
        return output === r.output ? r : { ...r, output };
      });
      return results.every((r, i) => r === m.results[i]) ? m : { ...m, results };
    }
    const text = ctx.redact(m.text);
    return text === m.text ? m : { ...m, text };
  });
  const system = request.system === undefined ? undefined : ctx.redact(request.system);
  return messages.every((m, i) => m === request.messages[i]) && system === request.system ? request : { ...request, system, messages };
}

/**
 * A provider's failure as the engine understands it: a ModelCallError becomes a NodeError
 * that keeps its retryability and its server-requested wait; anything else passes unchanged
 * (ProviderUnavailableError makes the engine fall back; an abort cancels).
 */
export function asNodeError(e: unknown): unknown {
  return e instanceof ModelCallError ? new NodeError(e.message, { retryable: e.retryable, retryAfterMs: e.retryAfterMs, cause: e }) : e;
}
