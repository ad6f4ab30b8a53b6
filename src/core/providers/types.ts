import type { z } from 'zod';
import type { Instrument } from '../model/instrument';
import type { TokenUsage } from '../model/run';

/**
 * The seam between Symphony and the models it calls. A `ModelProvider` turns an instrument
 * into a `ChatModel`; a `ChatModel` makes one call at a time (`chat`). The tool loop, token
 * budgets, journaling and permissions live above this seam (`providers/agent.ts`), so every
 * provider — the AI SDK ones, the local llama.cpp runtime, VS Code's language models, a
 * script or a service — gets them the same way and only has to speak its wire protocol.
 */

/** A tool the model may call: its name, what it does, and a zod schema of its input. */
export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: z.ZodType;
}

/** A tool call the model asked for. */
export interface ToolCall {
  /** The provider's id for the call (generated when the provider has none). */
  readonly id: string;
  readonly name: string;
  /** The arguments, parsed from JSON when they were JSON; the raw text otherwise. */
  readonly input: unknown;
}

/** The answer to one tool call, sent back to the model. */
export interface ToolResult {
  readonly callId: string;
  readonly name: string;
  /** Text the model reads: the tool's result, or what went wrong. */
  readonly output: string;
  /** True when the call failed or was refused; the model sees it as an error. */
  readonly isError: boolean;
}

/** One message of a conversation, provider-neutral. */
export type ChatMessage =
  | { readonly role: 'user'; readonly text: string }
  | { readonly role: 'assistant'; readonly text: string; readonly toolCalls?: readonly ToolCall[] }
  | { readonly role: 'tool'; readonly results: readonly ToolResult[] };

/** A JSON Schema object (draft 2020-12 / OpenAPI subset, as providers accept it). */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** One model call. */
export interface ChatRequest {
  readonly system?: string;
  readonly messages: readonly ChatMessage[];
  /** Tools the model may call in this turn; none means a plain answer. */
  readonly tools?: readonly ToolDefinition[];
  readonly maxTokens?: number;
  readonly temperature?: number;
  /**
   * Ask for a JSON answer. With a schema, providers that can constrain their output do
   * (llama.cpp grammars, OpenAI `json_schema`); the others are asked in words.
   */
  readonly json?: { readonly schema?: JsonSchema };
}

/** Why a model stopped answering. */
export type FinishReason = 'stop' | 'length' | 'tool-calls' | 'content-filter' | 'other';

/** What one model call returned. */
export interface ChatTurn {
  readonly text: string;
  readonly toolCalls: readonly ToolCall[];
  /** Usage as the provider reported it; undefined when it reported none (it is then counted). */
  readonly usage?: TokenUsage;
  /** The model that answered (may differ from the requested id, e.g. a dated snapshot). */
  readonly model: string;
  readonly finishReason: FinishReason;
}

/** Options of one call. */
export interface ChatOptions {
  /** Aborted on node timeout and cancellation (Ctrl+C, Cancel Run): the request is cancelled. */
  readonly signal: AbortSignal;
  /** Text as it streams in. */
  readonly onText?: (chunk: string) => void;
  /** Progress a person should see in the node's log (a retry after a 429, say). */
  readonly onNote?: (note: string) => void;
}

/** A model ready to be called: the instrument's provider, model id and credentials resolved. */
export interface ChatModel {
  /** The provider's name, e.g. `openai-compatible`. */
  readonly provider: string;
  /** The model id as configured. */
  readonly id: string;
  /**
   * Counts the tokens of a text as this model would (a real tokenizer where there is one,
   * a documented approximation otherwise — see `providers/tokens.ts`).
   */
  countTokens(text: string, signal: AbortSignal): Promise<number>;
  /**
   * The tokens of a whole request as the model will read it — chat template, tool
   * descriptions and all — when the provider can tell exactly (the local runtime renders it
   * itself). Without it, requests are counted part by part with `countTokens`.
   */
  countRequest?(request: ChatRequest, signal: AbortSignal): Promise<number>;
  /** Makes one call. Failures are `ModelCallError`s (or `ProviderUnavailableError`). */
  chat(request: ChatRequest, options: ChatOptions): Promise<ChatTurn>;
}

/** What a provider may use while opening a model. */
export interface ProviderContext {
  readonly signal: AbortSignal;
  /** Absolute workspace root: relative model paths (local GGUF files) are taken against it. */
  readonly workspaceRoot: string;
  /**
   * Registers a credential (an API key) with the run's redactor, so it never reaches a
   * log, journal, artifact or handoff entry. Every provider calls it with every key it uses.
   */
  readonly addSecret: (value: string) => void;
  /** A line in the node's log. */
  readonly note?: (text: string) => void;
}

/** Whether an instrument's model can be reached now, and why not. */
export interface ModelCheck {
  readonly reachable: boolean;
  /** In words: what answered, or what is wrong and what to do about it. */
  readonly detail: string;
}

/**
 * Opens instruments' models. One per surface (the CLI builds one, the extension another
 * with `vscode-lm` plugged in); the engine hands it to instrument and summarize nodes.
 */
export interface ModelProvider {
  open(instrument: Instrument, ctx: ProviderContext): Promise<ChatModel>;
  /** One cheap call or a model-list request; never throws. */
  check(instrument: Instrument, ctx: ProviderContext): Promise<ModelCheck>;
}

/**
 * No provider can serve an instrument: it is not configured (no key, no model installed,
 * `vscode-lm` outside VS Code). Never retried; the engine moves on to the node's `fallback:`.
 */
export class ProviderUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderUnavailableError';
  }
}

/**
 * A model call failed. `retryable` says whether the same call may succeed later (429, 5xx,
 * a timeout, a reset connection); permanent failures (401/403/404/400, a context overflow,
 * a malformed answer) are not retried, and the engine's `fallback:` chain moves on.
 */
export class ModelCallError extends Error {
  readonly retryable: boolean;
  /** The HTTP status, when the failure was an HTTP answer. */
  readonly status?: number;
  /** How long the server asked us to wait (a 429's `Retry-After`), in milliseconds. */
  readonly retryAfterMs?: number;
  /** What the call consumed, when the model answered and the answer could not be used: it is charged all the same. */
  readonly usage?: TokenUsage;
  constructor(message: string, options: { retryable: boolean; status?: number; retryAfterMs?: number; cause?: unknown; usage?: TokenUsage }) {
    super(message, { cause: options.cause });
    this.name = 'ModelCallError';
    this.retryable = options.retryable;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.usage = options.usage;
  }
}
