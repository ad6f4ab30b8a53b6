import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * The plumbing the scripted model servers share (`openAiServer.ts`, `anthropicServer.ts`):
 * a `node:http` server on 127.0.0.1 that records every request and answers the model route
 * from a queue the test fills, one reply per request. Each protocol file only says how a
 * reply looks on its wire.
 */

/** A tool call a scripted model makes. */
export interface ScriptedToolCall {
  /** The provider's call id (default: `call_1`, `call_2`… or `toolu_1`… in order). */
  readonly id?: string;
  readonly name: string;
  /** An object (sent as its JSON) or the exact text the model sends — which may be invalid JSON. */
  readonly arguments: Readonly<Record<string, unknown>> | string;
}

/** Tokens a scripted answer reports. */
export interface ScriptedUsage {
  readonly input: number;
  readonly output: number;
}

/** A successful answer. Streamed as SSE when the request asks for `stream: true`, one JSON body otherwise. */
export interface ScriptedAnswer {
  readonly text?: string;
  /** The text's pieces when streamed (default: the text in one piece); `text` defaults to their join. */
  readonly chunks?: readonly string[];
  readonly toolCalls?: readonly ScriptedToolCall[];
  /** The wire's own finish reason (`stop`, `length`, `tool_calls` / `end_turn`, `max_tokens`, `tool_use`…); default from the content. */
  readonly finishReason?: string;
  /** Reported usage (default `{ input: 11, output: 7 }`); `null` reports none (OpenAI only — Anthropic always reports it). */
  readonly usage?: ScriptedUsage | null;
  /** The model the answer names (default: the requested model). */
  readonly model?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** An HTTP error in the provider's own error JSON. */
export interface ScriptedError {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** The error object's fields (defaults per status, as the real API words them). */
  readonly error?: { readonly message?: string; readonly type?: string; readonly code?: string };
  /** A raw body instead of the provider's error JSON (e.g. a proxy's HTML page). */
  readonly body?: string;
}

/**
 * Something that goes wrong below the protocol:
 * - `reset`: the socket is destroyed — at once, or after streaming `text` when given;
 * - `malformed`: a 200 that is not the protocol — after streaming `text` when given, the
 *   stream carries `garbage`; a non-streamed answer is `garbage` itself;
 * - `stall`: the stream starts (with `text`, default "thinking") and then never goes on,
 *   until the client gives up (see `RecordedRequest.closed`);
 * - `stream-error`: a 200 stream that carries an error event — after `text` when given —
 *   the way APIs report trouble once streaming has begun (Anthropic's `event: error`
 *   overloaded, OpenAI's `data: {"error": …}`); a non-streamed request gets it as a 500.
 */
export interface ScriptedFault {
  readonly fault: 'reset' | 'malformed' | 'stall' | 'stream-error';
  readonly text?: string;
  readonly garbage?: string;
  /** `stream-error`: the error's fields (default: the API's overload / server error). */
  readonly error?: { readonly message?: string; readonly type?: string };
}

/** One scripted reply to a model request. */
export type ScriptedReply = ScriptedAnswer | ScriptedError | ScriptedFault;

/**
 * A reply decided when its call arrives: the test acts between two model calls (checks out
 * a branch, commits, edits a file) and then says what the model answers. The call waits
 * for the promise, as a slow model would.
 */
export type ScriptedHandler = (request: RecordedRequest) => ScriptedReply | Promise<ScriptedReply>;

/** A request the server received. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query, e.g. `/v1/chat/completions`. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The body parsed as JSON (undefined when empty or not JSON). */
  readonly body: any;
  readonly rawBody: string;
  /** When it arrived, in `performance.now()` milliseconds (monotonic). */
  readonly at: number;
  /** Resolves when the response is done or its connection closed — a client that gave up included. */
  readonly closed: Promise<void>;
}

/** A running scripted server. */
export interface ScriptedServer {
  /** The base URL a provider is given, e.g. `http://127.0.0.1:43121/v1`. */
  readonly url: string;
  /** `host:port`, as error messages name the server. */
  readonly host: string;
  /** Every request, in order (model list requests included). */
  readonly requests: RecordedRequest[];
  /** The model-call requests only (chat completions / messages). */
  calls(): RecordedRequest[];
  /** Resolves once `count` model calls have arrived (for a test that acts while a call is in flight). */
  waitForCalls(count: number): Promise<void>;
  /** What `/v1/models` lists; change it freely. */
  models: string[];
  /** Queues replies to the next model calls, in order; a function is called when its call arrives. */
  reply(...replies: (ScriptedReply | ScriptedHandler)[]): this;
  /** Replies queued and not yet used. */
  readonly pending: number;
  /** Stops the server, cutting any connection still open. */
  close(): Promise<void>;
}

/** What a server is started with. */
export interface ScriptedServerOptions {
  /** When set, requests without this key get the provider's 401, as a real API would answer. */
  readonly apiKey?: string;
  /** What `/v1/models` lists (default: `["test-model"]`). */
  readonly models?: readonly string[];
}

/** How one protocol writes its answers. */
export interface Protocol {
  /** The model-call route, e.g. `/v1/chat/completions`. */
  readonly callPath: string;
  /** The key the request carries, or undefined. */
  keyOf(headers: IncomingHttpHeaders): string | undefined;
  /** The body of an HTTP error. */
  errorBody(status: number, error: NonNullable<ScriptedError['error']>): unknown;
  /** Default error fields per status. */
  defaultError(status: number): { message: string; type: string; code?: string };
  /** The model list body. */
  modelList(ids: readonly string[]): unknown;
  /** A non-streamed answer. */
  answer(reply: ScriptedAnswer, request: any, n: number): unknown;
  /** A streamed answer: SSE frames, each a complete `data:` (and `event:`) block. */
  stream(reply: ScriptedAnswer, request: any, n: number): string[];
  /** The first frames of a stream carrying `text`, for faults that break off after it. */
  streamStart(text: string, request: any, n: number): string[];
  /** An error event inside a stream. */
  streamError(error: ScriptedFault['error']): string;
}

/** An SSE frame: an optional `event:` line and one `data:` line. */
export function sse(data: unknown, event?: string): string {
  return `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

/** Splits `text` into pieces of at most `size` characters (at least one piece). */
export function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}

/** A tool call's arguments as the wire text. */
export function argumentText(call: ScriptedToolCall): string {
  return typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments);
}

/** The text of an answer: `text`, else its chunks joined. */
export function answerText(reply: ScriptedAnswer): string {
  return reply.text ?? (reply.chunks ?? []).join('');
}

/** The text's pieces as streamed. */
export function answerChunks(reply: ScriptedAnswer): readonly string[] {
  return reply.chunks ?? (reply.text ? [reply.text] : []);
}

const isError = (r: ScriptedReply): r is ScriptedError => 'status' in r;
const isFault = (r: ScriptedReply): r is ScriptedFault => 'fault' in r;

/** Starts a scripted server speaking `protocol`. */
export async function startScriptedServer(protocol: Protocol, options: ScriptedServerOptions = {}): Promise<ScriptedServer> {
  const queue: (ScriptedReply | ScriptedHandler)[] = [];
  const requests: RecordedRequest[] = [];
  let callCount = 0;
  const waiters: { count: number; resolve: () => void }[] = [];

  const sendError = (res: ServerResponse, reply: ScriptedError) => {
    const body = reply.body ?? JSON.stringify(protocol.errorBody(reply.status, { ...protocol.defaultError(reply.status), ...reply.error }));
    const type = reply.body !== undefined && !reply.body.trimStart().startsWith('{') ? 'text/html' : 'application/json';
    res.writeHead(reply.status, { 'content-type': type, ...reply.headers });
    res.end(body);
  };

  const startStream = (res: ServerResponse, headers?: Readonly<Record<string, string>>) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...headers });
    res.flushHeaders();
  };

  const answerCall = async (req: IncomingMessage, res: ServerResponse, request: any, recorded: RecordedRequest) => {
    const n = ++callCount;
    for (const w of waiters.filter((w) => w.count <= n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
    const next = queue.shift();
    let reply: ScriptedReply | undefined;
    try {
      reply = typeof next === 'function' ? await next(recorded) : next;
    } catch (e) {
      reply = { status: 500, error: { message: `the test's handler for model call ${n} failed: ${(e as Error).message}` } };
    }
    if (!reply) {
      sendError(res, { status: 500, error: { message: `the test scripted no reply for model call ${n}` } });
      return;
    }
    const streaming = request?.stream === true;
    if (isError(reply)) return sendError(res, reply);
    if (isFault(reply)) {
      if (reply.fault === 'stream-error' && !streaming) return sendError(res, { status: 500, error: reply.error });
      if (reply.fault === 'reset' && reply.text === undefined) {
        req.socket.destroy();
        return;
      }
      if (!streaming && reply.fault !== 'reset') {
        if (reply.fault === 'malformed') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(reply.garbage ?? '<html><body><h1>Welcome</h1> this is not JSON</body></html>');
        } else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"id":"'); // then nothing more: the client has to give up
        }
        return;
      }
      startStream(res);
      const text = reply.text ?? (reply.fault === 'stall' ? 'thinking' : '');
      const frames = streaming && text ? protocol.streamStart(text, request, n) : [];
      frames.forEach((frame, i) => res.write(frame, () => i === frames.length - 1 && reply.fault === 'reset' && req.socket.destroy()));
      if (reply.fault === 'reset') {
        if (!frames.length) req.socket.destroy();
      } else if (reply.fault === 'malformed') {
        res.write(`data: ${reply.garbage ?? '<html>502 Bad Gateway</html>'}\n\n`);
        res.end();
      } else if (reply.fault === 'stream-error') {
        res.end(protocol.streamError(reply.error));
      }
      return;
    }
    if (!streaming) {
      res.writeHead(200, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify(protocol.answer(reply, request, n)));
      return;
    }
    startStream(res, reply.headers);
    for (const frame of protocol.stream(reply, request, n)) res.write(frame);
    res.end();
  };

  const server = createServer((req, res) => {
    const at = performance.now();
    let closedResolve!: () => void;
    const closed = new Promise<void>((resolve) => (closedResolve = resolve));
    res.on('close', () => closedResolve());
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = rawBody ? JSON.parse(rawBody) : undefined;
      } catch {
        body = undefined;
      }
      const path = req.url ?? '/';
      const recorded: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, body, rawBody, at, closed };
      requests.push(recorded);
      if (options.apiKey !== undefined && protocol.keyOf(req.headers) !== options.apiKey) return sendError(res, { status: 401 });
      const route = path.split('?')[0];
      if (req.method === 'GET' && route === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(protocol.modelList(handle.models)));
        return;
      }
      if (req.method === 'POST' && route === protocol.callPath) return void answerCall(req, res, body, recorded);
      sendError(res, { status: 404, body: '404 page not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const handle: ScriptedServer = {
    url: `http://127.0.0.1:${port}/v1`,
    host: `127.0.0.1:${port}`,
    requests,
    calls: () => requests.filter((r) => r.path.split('?')[0] === protocol.callPath),
    waitForCalls: (count) => (callCount >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve }))),
    models: [...(options.models ?? ['test-model'])],
    reply(...replies) {
      queue.push(...replies);
      return this;
    },
    get pending() {
      return queue.length;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
  return handle;
}
