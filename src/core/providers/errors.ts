import { APICallError, RetryError } from 'ai';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { ModelCallError } from './types';

/**
 * What the HTTP providers (the AI SDK ones) share about failure: every error the SDK, the
 * network or a server can produce becomes a `ModelCallError` whose message a person can act
 * on and whose `retryable` says whether the same call may succeed later; `withRetries`
 * retries the retryable ones a few times inside one call, honouring `Retry-After`.
 *
 * Retryable: 429 (except an exhausted quota), 408, 409, 5xx (529: overloaded), a reset
 * connection, a timeout. Permanent: 400, 401, 403, 404, 413, 422, a prompt longer than the
 * context window, an answer that is not the protocol, nothing listening at the URL (a
 * server that is not running will not be in a second; the node's `fallback:` should move
 * on instead).
 */

/** The server a call went to, as error messages name it. */
export interface Endpoint {
  /** `openai-compatible`, `anthropic`. */
  readonly provider: string;
  readonly baseUrl: string;
  readonly modelId: string;
  /** Where the API key comes from (`OPENAI_API_KEY`), if the provider uses one. */
  readonly keyName?: string;
  /** The key itself: never quoted, and scrubbed from any server text a message quotes. */
  readonly apiKey?: string;
  /** What a well-formed answer is, e.g. "an OpenAI chat completion". */
  readonly answerKind: string;
}

/** `host:port` of an endpoint. */
export function hostOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).host;
  } catch {
    return baseUrl;
  }
}

/** Short descriptions of errors, for the retry notes ("429 from host: rate limited"). */
const summaries = new WeakMap<ModelCallError, string>();

function callError(message: string, summary: string, options: ConstructorParameters<typeof ModelCallError>[1]): ModelCallError {
  const e = new ModelCallError(message, options);
  summaries.set(e, summary);
  return e;
}

/** A short description of a failure, e.g. `429 from 127.0.0.1:8080: rate limited`. */
export function summaryOf(e: ModelCallError): string {
  return summaries.get(e) ?? e.message;
}

/**
 * Milliseconds a response asks us to wait: `retry-after-ms` (OpenAI), else `Retry-After`
 * in seconds or as an HTTP date. Undefined when absent or unreadable.
 */
export function parseRetryAfter(headers: Readonly<Record<string, string | undefined>> | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const get = (name: string) => Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1]?.trim();
  const ms = get('retry-after-ms');
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms));
  const after = get('retry-after');
  if (!after) return undefined;
  if (/^\d+(\.\d+)?$/.test(after)) return Math.ceil(Number(after) * 1000);
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const CONTEXT_OVERFLOW = [
  /context_length_exceeded/i,
  /maximum context length/i,
  /prompt is too long/i,
  /exceeds? the (available )?context (size|window|length)/i,
  /exceed_context_size/i,
  /context window/i,
  /too many tokens in (the )?(prompt|input|request)/i,
  /input (is )?too long/i,
];

/** Whether a server's words say the prompt did not fit the model's context window. */
export function isContextOverflow(text: string): boolean {
  return CONTEXT_OVERFLOW.some((re) => re.test(text));
}

function scrub(text: string, endpoint: Endpoint): string {
  const key = endpoint.apiKey;
  return key && key.length >= 4 ? text.split(key).join('[API key]') : text;
}

function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** The server's own words from an error body: OpenAI, Anthropic, vLLM or FastAPI shapes, else the text. */
function serverWords(body: string | undefined, fallback: string): { text: string; code?: string; type?: string } {
  if (!body?.trim()) return { text: fallback };
  try {
    const data = JSON.parse(body) as Record<string, any>;
    const error = typeof data.error === 'object' && data.error !== null ? data.error : data;
    const text = [error.message, data.message, typeof data.error === 'string' ? data.error : undefined, data.detail].find((m) => typeof m === 'string' && m.trim());
    return { text: text ?? oneLine(body), code: typeof error.code === 'string' ? error.code : undefined, type: typeof error.type === 'string' ? error.type : undefined };
  } catch {
    return { text: oneLine(body) };
  }
}

/** The causes of an error, outermost first. */
function causes(e: unknown): unknown[] {
  const out: unknown[] = [];
  for (let c = e; c !== undefined && c !== null && out.length < 8; c = (c as { cause?: unknown }).cause) {
    out.push(c);
    if (typeof c !== 'object') break;
  }
  return out;
}

const field = (e: unknown, name: string): unknown => (typeof e === 'object' && e !== null ? (e as Record<string, unknown>)[name] : undefined);
const nameOf = (e: unknown) => String(field(e, 'name') ?? '');
const messageOf = (e: unknown) => (e instanceof Error ? e.message : typeof e === 'string' ? e : String(field(e, 'message') ?? e));

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED', 'UND_ERR_CLOSED']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const UNREACHABLE_CODES = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENETDOWN']);

/** An HTTP error answer as a ModelCallError. */
export function httpError(status: number, headers: Readonly<Record<string, string | undefined>> | undefined, body: string | undefined, endpoint: Endpoint, cause?: unknown): ModelCallError {
  const host = hostOf(endpoint.baseUrl);
  const words = serverWords(body, `HTTP ${status}`);
  const said = oneLine(scrub(words.text, endpoint), 300);
  const retryAfterMs = parseRetryAfter(headers);
  const key = endpoint.keyName ? `the API key in ${endpoint.keyName}` : 'the API key';
  const permanent = (message: string, summary: string) => callError(message, summary, { retryable: false, status, cause });
  const transient = (message: string, summary: string) => callError(message, summary, { retryable: true, status, retryAfterMs, cause });

  if (status === 401) {
    // Not quoted: some servers echo part of the key they refused.
    return permanent(
      endpoint.keyName
        ? `${key} was refused (401 from ${host}): check that it is current, or set a new one`
        : `${host} asks for an API key (401): set the model's apiKeyEnv to the variable that holds one`,
      `401 from ${host}: key refused`,
    );
  }
  if (status === 403) return permanent(`${key} was refused (403 from ${host}): ${said}`, `403 from ${host}: forbidden`);
  if (status === 404) {
    return /model/i.test(words.text) || words.code === 'model_not_found'
      ? permanent(`model ${endpoint.modelId} is not known to ${endpoint.baseUrl} (404): ${said}`, `404 from ${host}: unknown model`)
      : permanent(`nothing at ${endpoint.baseUrl} answers model calls (404: ${said}); check baseUrl — these APIs are usually served under …/v1`, `404 from ${host}`);
  }
  if ((status === 400 || status === 413 || status === 422) && (isContextOverflow(words.text) || words.code === 'context_length_exceeded')) {
    return permanent(
      `the prompt is longer than the model's context window (${endpoint.modelId} at ${host}, ${status}): ${said} — shorten the input, or use a model with a larger context window`,
      `${status} from ${host}: context overflow`,
    );
  }
  if (status === 413) return permanent(`the request is too large for ${host} (413): ${said}`, `413 from ${host}: too large`);
  if (status === 429) {
    if (words.code === 'insufficient_quota' || words.type === 'insufficient_quota') {
      return permanent(`the account behind ${key} has no quota left (429 from ${host}): ${said}`, `429 from ${host}: out of quota`);
    }
    return transient(`${host} is rate limiting calls to ${endpoint.modelId} (429): ${said}`, `429 from ${host}: rate limited`);
  }
  if (status === 408) return transient(`${host} timed out the request (408): ${said}`, `408 from ${host}: request timeout`);
  if (status === 409) return transient(`${host} answered 409 (conflict): ${said}`, `409 from ${host}: conflict`);
  if (status === 529 || status === 503) return transient(`${host} is overloaded (${status}): ${said}`, `${status} from ${host}: overloaded`);
  if (status >= 500) return transient(`${host} failed with a server error (${status}): ${said}`, `${status} from ${host}: server error`);
  return permanent(`${host} rejected the request to ${endpoint.modelId} (${status}): ${said}`, `${status} from ${host}: rejected`);
}

/** A failure to reach the server (no HTTP answer), or undefined when `e` is none. */
function networkError(e: unknown, endpoint: Endpoint): ModelCallError | undefined {
  const host = hostOf(endpoint.baseUrl);
  for (const c of causes(e)) {
    const code = String(field(c, 'code') ?? '');
    const message = messageOf(c);
    if (code === 'ECONNREFUSED') {
      return callError(`nothing answers at ${endpoint.baseUrl} — is Ollama / LM Studio / the server running?`, `nothing answers at ${host}`, { retryable: false, cause: e });
    }
    if (code === 'ENOTFOUND') {
      return callError(`the host in ${endpoint.baseUrl} cannot be found (DNS: ${host}) — check baseUrl`, `${host} not found`, { retryable: false, cause: e });
    }
    if (RESET_CODES.has(code) || /other side closed|socket hang up|^terminated$/.test(message)) {
      return callError(`the connection to ${host} was reset before the answer was complete`, `the connection to ${host} was reset`, { retryable: true, cause: e });
    }
    if (TIMEOUT_CODES.has(code)) return callError(`${host} did not answer in time (${code})`, `${host} timed out`, { retryable: true, cause: e });
    if (UNREACHABLE_CODES.has(code)) return callError(`${host} cannot be reached (${code})`, `${host} unreachable`, { retryable: true, cause: e });
  }
  return undefined;
}

/** An answer that is not the protocol: unparsable JSON or SSE, or a shape the SDK rejects. */
function malformedError(e: unknown, endpoint: Endpoint): ModelCallError | undefined {
  const parse = causes(e).find((c) => /JSONParseError|TypeValidationError|InvalidResponseDataError|EmptyResponseBodyError/.test(nameOf(c)));
  if (!parse) return undefined;
  const raw = field(parse, 'text') ?? field(parse, 'value') ?? field(parse, 'data') ?? messageOf(parse);
  const shown = oneLine(scrub(typeof raw === 'string' ? raw : JSON.stringify(raw) ?? String(raw), endpoint));
  return callError(
    `the server at ${endpoint.baseUrl} answered with something that is not ${endpoint.answerKind}: ${shown}`,
    `malformed answer from ${hostOf(endpoint.baseUrl)}`,
    { retryable: false, cause: e },
  );
}

/** An error a stream carried as data (`{ error: { message, type } }` mid-stream, Anthropic's `event: error`). */
function streamedError(e: unknown, endpoint: Endpoint): ModelCallError | undefined {
  if (e instanceof Error || typeof e !== 'object' || e === null) return undefined;
  const message = messageOf(e);
  const type = String(field(e, 'type') ?? field(e, 'code') ?? '');
  const host = hostOf(endpoint.baseUrl);
  const retryable = /overloaded|server_error|api_error|rate_limit|timeout/.test(type);
  return callError(`${host} reported an error mid-answer${type ? ` (${type})` : ''}: ${oneLine(scrub(message, endpoint))}`, `${host}: ${type || 'error'} mid-answer`, {
    retryable,
    cause: e,
  });
}

/**
 * Any failure of an AI SDK call as a ModelCallError (one that already is passes unchanged).
 * Aborts are not failures: callers check their signal first and rethrow its reason.
 */
export function toModelCallError(e: unknown, endpoint: Endpoint): ModelCallError {
  if (e instanceof ModelCallError) return e;
  if (RetryError.isInstance(e)) return toModelCallError(e.lastError, endpoint);
  if (APICallError.isInstance(e) && e.statusCode !== undefined && (e.statusCode < 200 || e.statusCode >= 300)) {
    return httpError(e.statusCode, e.responseHeaders, e.responseBody, endpoint, e);
  }
  const mapped = networkError(e, endpoint) ?? malformedError(e, endpoint) ?? streamedError(e, endpoint);
  if (mapped) return mapped;
  const host = hostOf(endpoint.baseUrl);
  return callError(`the call to ${endpoint.modelId} at ${host} failed: ${oneLine(scrub(messageOf(e), endpoint), 300)}`, `${host}: ${oneLine(messageOf(e), 80)}`, {
    retryable: false,
    cause: e,
  });
}

/** How `withRetries` retries. */
export interface RetryOptions {
  /** Retries after the first attempt (default 2). */
  readonly maxRetries?: number;
  /** Waits; rejects when the signal aborts (default: a timer). Tests pass a fast one. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** 0 ≤ x < 1, for jitter (default Math.random). */
  readonly random?: () => number;
}

/** The longest `Retry-After` waited inside one call; longer waits are left to the node's `retry:`. */
export const MAX_RETRY_AFTER_MS = 60_000;
/** The first backoff delay; each retry doubles it (with jitter). */
export const FIRST_BACKOFF_MS = 1_000;

const defaultSleep = async (ms: number, signal: AbortSignal): Promise<void> => {
  try {
    await sleepFor(ms, undefined, { signal });
  } catch (e) {
    throw signal.aborted ? signal.reason : e;
  }
};

function seconds(ms: number): string {
  const s = ms / 1000;
  return `${s < 10 ? Number(s.toFixed(1)) : Math.round(s)} s`;
}

/**
 * Runs `call`, retrying a retryable ModelCallError up to `maxRetries` times: after the
 * server's `Retry-After` when it gave one (up to a minute — beyond that the error is
 * surfaced with its `retryAfterMs`, for the engine's `retry:` to decide), else after an
 * exponential backoff with jitter from one second. Each retry is announced through
 * `onNote`. Nothing is retried once `signal` aborts, or when `canRetry` says no (a call
 * that already streamed part of its answer must not stream it twice).
 */
export async function withRetries<T>(
  call: (attempt: number) => Promise<T>,
  options: RetryOptions & { readonly signal: AbortSignal; readonly onNote?: (note: string) => void; readonly canRetry?: () => boolean },
): Promise<T> {
  const maxRetries = options.maxRetries ?? 2;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(attempt);
    } catch (e) {
      if (options.signal.aborted) throw options.signal.reason;
      if (!(e instanceof ModelCallError) || !e.retryable || attempt >= maxRetries) throw e;
      if (options.canRetry && !options.canRetry()) throw e;
      if (e.retryAfterMs !== undefined && e.retryAfterMs > MAX_RETRY_AFTER_MS) {
        options.onNote?.(`${summaryOf(e)}; the server asks to wait ${seconds(e.retryAfterMs)}, longer than one call waits — leaving it to the node's retry`);
        throw e;
      }
      const delay = e.retryAfterMs ?? Math.round(FIRST_BACKOFF_MS * 2 ** attempt * (0.8 + 0.4 * random()));
      options.onNote?.(`${summaryOf(e)}; retrying in ${seconds(delay)} (${attempt + 1} of ${maxRetries})`);
      await sleep(delay, options.signal);
    }
  }
}
