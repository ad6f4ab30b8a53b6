import { generateText, stepCountIs, streamText, tool, wrapLanguageModel, type CallWarning, type JSONSchema7, type LanguageModelUsage, type ModelMessage, type ToolSet } from 'ai';
import { distance } from 'fastest-levenshtein';
import type { ModelSpec } from '../model/instrument';
import type { TokenUsage } from '../model/run';
import { countTokens } from './tokens';
import { hostOf, httpError, toModelCallError, withRetries, type Endpoint, type RetryOptions } from './errors';
import { ModelCallError, type ChatMessage, type ChatModel, type ChatOptions, type ChatRequest, type ChatTurn, type FinishReason, type JsonSchema, type ModelCheck, type ToolCall } from './types';

/**
 * A ChatModel over an AI SDK language model — what the `openai-compatible` and `anthropic`
 * providers share. One `chat()` is one model call (one step): tools are declared without
 * `execute`, so the SDK never runs them; Symphony's own tool loop above the seam does.
 * Calls stream (`streamText`) when the caller takes text as it arrives, and are one JSON
 * answer (`generateText`) otherwise. The SDK never retries (`maxRetries: 0`): failures
 * become ModelCallErrors (`errors.ts`) and `withRetries` decides.
 */

// The SDK prints its warnings to the console by default; a CLI's output and the extension's
// logs are ours. Warnings reach the node's log through `onNote` instead (once per model).
globalThis.AI_SDK_LOG_WARNINGS = false;

/** An AI SDK language model (the provider spec v3 model both providers return). */
export type SdkLanguageModel = Parameters<typeof wrapLanguageModel>[0]['model'];

/** What an AI SDK provider module can be built with (tests make retries fast). */
export interface AiSdkProviderOptions {
  readonly retry?: RetryOptions;
}

/** How a provider builds its ChatModel. */
export interface AiSdkModelOptions {
  /** The provider's name, e.g. `openai-compatible`. */
  readonly provider: string;
  readonly spec: ModelSpec & { readonly id: string };
  readonly model: SdkLanguageModel;
  readonly endpoint: Endpoint;
  /** Whether the provider can be asked for JSON on the wire (`response_format`); else it is asked in words only. */
  readonly jsonOnTheWire: boolean;
  /** Provider options for every call (e.g. OpenAI-compatible's `strictJsonSchema`). */
  readonly providerOptions?: Record<string, Record<string, string | number | boolean | null>>;
  readonly retry?: RetryOptions;
}

/** The instruction that asks for JSON in words (every provider gets it; some also on the wire). */
export function jsonInstruction(schema: JsonSchema | undefined): string {
  const base = 'Answer with a single JSON value and nothing else: no prose before or after it, no Markdown code fences.';
  return schema ? `${base} The JSON must match this JSON Schema:\n${JSON.stringify(schema)}` : base;
}

/** Tool input as it is sent back in history: the object the model gave, or `{}` for input that was not one (invalid JSON). */
function wireInput(input: unknown): unknown {
  return typeof input === 'object' && input !== null && !Array.isArray(input) ? input : {};
}

/** Symphony's conversation as AI SDK messages. */
export function toModelMessages(messages: readonly ChatMessage[]): ModelMessage[] {
  return messages.map((m): ModelMessage => {
    switch (m.role) {
      case 'user':
        return { role: 'user', content: m.text };
      case 'assistant': {
        const calls = m.toolCalls ?? [];
        if (!calls.length) return { role: 'assistant', content: m.text };
        return {
          role: 'assistant',
          content: [
            ...(m.text ? [{ type: 'text' as const, text: m.text }] : []),
            ...calls.map((c) => ({ type: 'tool-call' as const, toolCallId: c.id, toolName: c.name, input: wireInput(c.input) })),
          ],
        };
      }
      case 'tool':
        return {
          role: 'tool',
          content: m.results.map((r) => ({
            type: 'tool-result' as const,
            toolCallId: r.callId,
            toolName: r.name,
            output: r.isError ? { type: 'error-text' as const, value: r.output } : { type: 'text' as const, value: r.output },
          })),
        };
      default: {
        const never: never = m;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  });
}

/** Symphony's tools as AI SDK tools without `execute`: the model may call them; the SDK never runs them. */
export function toToolSet(request: ChatRequest): ToolSet | undefined {
  if (!request.tools?.length) return undefined;
  return Object.fromEntries(request.tools.map((t) => [t.name, tool({ description: t.description, inputSchema: t.inputSchema })]));
}

/** Usage as the provider reported it; undefined unless it reported both sides. */
export function toUsage(usage: LanguageModelUsage | undefined): TokenUsage | undefined {
  if (usage?.inputTokens === undefined || usage.outputTokens === undefined) return undefined;
  return { input: usage.inputTokens, output: usage.outputTokens };
}

/** The SDK's finish reason in Symphony's words (`error` — a failed step — never reaches here as a success). */
export function toFinishReason(reason: string | undefined): FinishReason {
  switch (reason) {
    case 'stop':
    case 'length':
    case 'tool-calls':
    case 'content-filter':
      return reason;
    default:
      return 'other';
  }
}

/** A tool call the SDK reported — valid or not: an unknown name or unparsable arguments come back as they were sent. */
function toToolCall(part: { toolCallId: string; toolName: string; input: unknown }): ToolCall {
  return { id: part.toolCallId, name: part.toolName, input: part.input };
}

function describeWarning(w: CallWarning): string {
  switch (w.type) {
    case 'unsupported':
    case 'compatibility':
      return `${w.feature}${w.details ? `: ${w.details}` : ''}`;
    default:
      return w.message;
  }
}

/** A ChatModel over an AI SDK language model. */
export function aiSdkChatModel(options: AiSdkModelOptions): ChatModel {
  const { spec, endpoint } = options;
  const noted = new Set<string>();
  const noteWarnings = (warnings: readonly CallWarning[] | undefined, onNote: ((note: string) => void) | undefined) => {
    for (const w of warnings ?? []) {
      const text = `${options.provider} (${spec.id}): ${describeWarning(w)}`;
      if (!noted.has(text)) onNote?.(text);
      noted.add(text);
    }
  };

  /** The call's settings, the same for streamed and whole answers. */
  const settings = (request: ChatRequest, abortSignal: AbortSignal) => {
    const json = request.json;
    const system = [request.system, json ? jsonInstruction(json.schema) : undefined].filter(Boolean).join('\n\n') || undefined;
    const model =
      json && options.jsonOnTheWire
        ? wrapLanguageModel({
            model: options.model,
            // The wire's JSON mode, without the SDK's output parsing: the text comes back as it is.
            middleware: { specificationVersion: 'v3', transformParams: async ({ params }) => ({ ...params, responseFormat: { type: 'json', schema: json.schema as JSONSchema7 | undefined } }) },
          })
        : options.model;
    return {
      model,
      system,
      messages: toModelMessages(request.messages),
      tools: toToolSet(request),
      maxOutputTokens: request.maxTokens ?? spec.maxTokens,
      temperature: request.temperature ?? spec.temperature,
      providerOptions: options.providerOptions,
      maxRetries: 0,
      stopWhen: stepCountIs(1),
      abortSignal,
    };
  };

  /** One streamed call: text reaches `onText` as it arrives. */
  const callStreaming = async (request: ChatRequest, chatOptions: ChatOptions, onText: (chunk: string) => void, progress: { streamed: boolean }): Promise<ChatTurn> => {
    // Our own controller too, so a failure read from the stream also ends the HTTP request.
    const stop = new AbortController();
    const result = streamText({ ...settings(request, AbortSignal.any([chatOptions.signal, stop.signal])), onError: () => undefined });
    let text = '';
    const toolCalls: ToolCall[] = [];
    let finish: { reason: string; usage: LanguageModelUsage } | undefined;
    let modelId: string | undefined;
    try {
      for await (const part of result.fullStream) {
        switch (part.type) {
          case 'text-delta':
            if (!part.text) break;
            text += part.text;
            progress.streamed = true;
            onText(part.text);
            break;
          case 'tool-call':
            toolCalls.push(toToolCall(part));
            break;
          case 'start-step':
            noteWarnings(part.warnings, chatOptions.onNote);
            break;
          case 'finish-step':
            modelId = part.response.modelId;
            break;
          case 'finish':
            finish = { reason: part.finishReason, usage: part.totalUsage };
            break;
          case 'error':
            throw part.error;
          default:
            break;
        }
      }
    } finally {
      stop.abort();
    }
    if (!finish) throw new ModelCallError(`the answer from ${endpoint.baseUrl} ended before it was complete`, { retryable: true });
    return { text, toolCalls, usage: toUsage(finish.usage), model: modelId || spec.id, finishReason: toFinishReason(finish.reason) };
  };

  /** One call answered as a whole (no `stream: true` on the wire). */
  const callWhole = async (request: ChatRequest, chatOptions: ChatOptions): Promise<ChatTurn> => {
    const result = await generateText(settings(request, chatOptions.signal));
    noteWarnings(result.warnings, chatOptions.onNote);
    return {
      text: result.text,
      toolCalls: result.toolCalls.map(toToolCall),
      usage: toUsage(result.usage),
      model: result.response.modelId || spec.id,
      finishReason: toFinishReason(result.finishReason),
    };
  };

  return {
    provider: options.provider,
    id: spec.id,
    countTokens: (text) => Promise.resolve(countTokens(text, spec.id)),
    chat(request, chatOptions) {
      const progress = { streamed: false };
      const onText = chatOptions.onText;
      return withRetries(
        async () => {
          chatOptions.signal.throwIfAborted();
          try {
            return onText ? await callStreaming(request, chatOptions, onText, progress) : await callWhole(request, chatOptions);
          } catch (e) {
            if (chatOptions.signal.aborted) throw chatOptions.signal.reason;
            const error = toModelCallError(e, endpoint);
            if (!progress.streamed || !error.retryable) throw error;
            // Still retryable — by the node's retry, which starts the answer afresh — but not here.
            throw new ModelCallError(`${error.message} (after part of the answer had streamed, so it is not retried within this call)`, {
              retryable: true,
              status: error.status,
              retryAfterMs: error.retryAfterMs,
              cause: error.cause,
            });
          }
        },
        { ...options.retry, signal: chatOptions.signal, onNote: chatOptions.onNote, canRetry: () => !progress.streamed },
      );
    },
  };
}

/** How long `check()` waits for a model list. */
export const CHECK_TIMEOUT_MS = 10_000;

/**
 * Whether `id` is among the listed models, allowing the aliases servers accept but do not
 * list: Ollama's implied `:latest` tag, and Anthropic's undated ids and `-latest` names
 * for dated snapshots (`claude-sonnet-4-5` → `claude-sonnet-4-5-20250929`).
 */
export function isListed(id: string, listed: readonly string[]): boolean {
  const base = id.replace(/-latest$/, '');
  return listed.some((m) => m === id || m === `${id}:latest` || (m.startsWith(`${base}-`) && /^\d{8}$|^\d{4}-\d{2}-\d{2}$/.test(m.slice(base.length + 1))));
}

/** The listed models nearest to `id` first, at most `limit` of them. */
export function nearestModels(id: string, listed: readonly string[], limit = 8): string {
  const sorted = [...listed].sort((a, b) => distance(id, a) - distance(id, b) || a.localeCompare(b));
  const shown = sorted.slice(0, limit).join(', ');
  return sorted.length > limit ? `${shown} and ${sorted.length - limit} more` : shown;
}

/** What a provider's `check()` asks of the server. */
export interface ModelListRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly endpoint: Endpoint;
  readonly signal: AbortSignal;
}

/** The model ids of a list answer (OpenAI's and Anthropic's are both `{ data: [{ id }] }`); undefined when it is no list. */
function listedIds(body: unknown): string[] | undefined {
  const data = typeof body === 'object' && body !== null ? (body as { data?: unknown }).data : undefined;
  return Array.isArray(data) ? data.map((m: { id?: unknown }) => String(m?.id)) : undefined;
}

/**
 * A provider's `check()`: one model-list request. Reachable when the server answers and,
 * if it lists models, lists this one. Never throws.
 */
export async function checkModelList(request: ModelListRequest): Promise<ModelCheck> {
  const { endpoint } = request;
  const id = endpoint.modelId;
  const timeout = AbortSignal.timeout(CHECK_TIMEOUT_MS);
  try {
    const response = await fetch(request.url, { headers: request.headers, signal: AbortSignal.any([request.signal, timeout]) });
    const body = await response.text();
    if (!response.ok) {
      const headers = Object.fromEntries(response.headers);
      if (response.status === 404) {
        return { reachable: false, detail: `${request.url} does not exist (404 from ${hostOf(endpoint.baseUrl)}) — check baseUrl; these APIs are usually served under …/v1` };
      }
      return { reachable: false, detail: httpError(response.status, headers, body, endpoint).message };
    }
    let ids: string[] | undefined;
    try {
      ids = listedIds(JSON.parse(body));
    } catch {
      ids = undefined;
    }
    if (!ids?.length) return { reachable: true, detail: `${endpoint.provider} at ${endpoint.baseUrl} answers (it lists no models, so ${id} is not confirmed)` };
    if (!isListed(id, ids)) return { reachable: false, detail: `the server at ${endpoint.baseUrl} does not list model ${id}; it has: ${nearestModels(id, ids)}` };
    return { reachable: true, detail: `${endpoint.provider} at ${endpoint.baseUrl} answers and lists model ${id}` };
  } catch (e) {
    if (request.signal.aborted) return { reachable: false, detail: 'the check was cancelled' };
    if (timeout.aborted) return { reachable: false, detail: `${hostOf(endpoint.baseUrl)} did not answer within ${CHECK_TIMEOUT_MS / 1000} s` };
    return { reachable: false, detail: toModelCallError(e, endpoint).message };
  }
}
