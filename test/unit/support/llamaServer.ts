import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { localProvider } from '../../../src/core/providers/local';
import { ModelCallError, type ChatMessage, type ChatModel, type ChatRequest, type ChatTurn, type ToolDefinition } from '../../../src/core/providers/types';

/**
 * A small OpenAI-compatible server for tests: real inference (the local provider on a GGUF
 * file, e.g. `writeTinyGguf`'s) behind the real wire protocol, on 127.0.0.1 and a free
 * port. It answers `GET /v1/models` and `POST /v1/chat/completions` — plain, or
 * `stream: true` as server-sent events ending with the usage; `response_format`
 * (`json_schema`, `json_object`) and `tools` are constrained by the local provider's
 * grammars, so tool calls come back as `tool_calls`. Not an OpenAI emulator: no `n`, no
 * logprobs, one choice.
 */

/** A running server. */
export interface LlamaServer {
  /** The API base URL, e.g. `http://127.0.0.1:41234/v1`. */
  readonly baseUrl: string;
  /** The model id it lists and answers as. */
  readonly model: string;
  /** Chat completion requests answered so far. */
  readonly requests: number;
  close(): Promise<void>;
}

/** Starts a server around the GGUF file at `modelPath` (absolute), listed as `model` (default "tiny"). */
export async function startLlamaServer(modelPath: string, model = 'tiny'): Promise<LlamaServer> {
  const instrument = { ref: 'tests/llama-server', id: 'llama-server', ensemble: 'tests', file: '', nickname: 'server', kind: 'model' as const, concurrency: 1, model: { provider: 'local' as const, id: model, path: modelPath } };
  const chat = await localProvider.open(instrument, { signal: new AbortController().signal, workspaceRoot: '/', addSecret: () => undefined }, undefined);
  let requests = 0;
  const server = createServer((req, res) => {
    // A call the same request cannot fix is a 400 (clients do not retry it); the rest a 500.
    handle(req, res).catch((e: unknown) => send(res, e instanceof ModelCallError && !e.retryable ? 400 : 500, { error: { message: e instanceof Error ? e.message : String(e), type: 'server_error' } }));
  });
  async function handle(req: IncomingMessage, res: ServerResponse) {
    if (req.method === 'GET' && req.url === '/v1/models') return send(res, 200, { object: 'list', data: [{ id: model, object: 'model', created: 0, owned_by: 'symphony-tests' }] });
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return send(res, 404, { error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' } });
    requests++;
    let body: OpenAiRequest;
    try {
      body = JSON.parse(await readBody(req)) as OpenAiRequest;
    } catch (e) {
      return send(res, 400, { error: { message: `invalid JSON: ${(e as Error).message}`, type: 'invalid_request_error' } });
    }
    const abort = new AbortController();
    res.on('close', () => abort.abort(new Error('the client went away')));
    await (body.stream ? stream(chat, body, res, abort.signal) : complete(chat, body, res, abort.signal));
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    model,
    get requests() {
      return requests;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface OpenAiMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  content?: string | { type: string; text?: string }[] | null;
  tool_calls?: { id: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}
interface OpenAiRequest {
  model?: string;
  messages: OpenAiMessage[];
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  response_format?: { type: 'text' | 'json_object' | 'json_schema'; json_schema?: { schema?: Record<string, unknown> } };
  tools?: { type: 'function'; function: { name: string; description?: string; parameters?: Record<string, unknown> } }[];
}

const text = (content: OpenAiMessage['content']) => (typeof content === 'string' ? content : (content ?? []).map((p) => p.text ?? '').join(''));

/** The OpenAI request as the provider-neutral ChatRequest the local model answers. */
function toChatRequest(body: OpenAiRequest): ChatRequest {
  const system: string[] = [];
  const messages: ChatMessage[] = [];
  const names = new Map<string, string>();
  for (const m of body.messages) {
    if (m.role === 'system' || m.role === 'developer') system.push(text(m.content));
    else if (m.role === 'user') messages.push({ role: 'user', text: text(m.content) });
    else if (m.role === 'assistant') {
      const toolCalls = (m.tool_calls ?? []).map((c) => (names.set(c.id, c.function.name), { id: c.id, name: c.function.name, input: JSON.parse(c.function.arguments || '{}') as unknown }));
      messages.push({ role: 'assistant', text: text(m.content), toolCalls });
    } else {
      const result = { callId: m.tool_call_id ?? '', name: names.get(m.tool_call_id ?? '') ?? 'tool', output: text(m.content), isError: false };
      const last = messages[messages.length - 1];
      if (last?.role === 'tool') messages[messages.length - 1] = { role: 'tool', results: [...last.results, result] };
      else messages.push({ role: 'tool', results: [result] });
    }
  }
  const tools: ToolDefinition[] = (body.tools ?? []).map(({ function: f }) => ({ name: f.name, description: f.description ?? '', inputSchema: z.fromJSONSchema(f.parameters ?? { type: 'object' }) }));
  const format = body.response_format;
  return {
    system: system.length ? system.join('\n\n') : undefined,
    messages,
    tools: tools.length ? tools : undefined,
    maxTokens: body.max_completion_tokens ?? body.max_tokens,
    temperature: body.temperature,
    json: format?.type === 'json_schema' ? { schema: format.json_schema?.schema } : format?.type === 'json_object' ? {} : undefined,
  };
}

const FINISH = { stop: 'stop', length: 'length', 'tool-calls': 'tool_calls', 'content-filter': 'content_filter', other: 'stop' } as const;
const usageOf = (turn: ChatTurn) => ({ prompt_tokens: turn.usage?.input ?? 0, completion_tokens: turn.usage?.output ?? 0, total_tokens: (turn.usage?.input ?? 0) + (turn.usage?.output ?? 0) });
const toolCallsOf = (turn: ChatTurn) => turn.toolCalls.map((c, index) => ({ index, id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.input) } }));

async function complete(chat: ChatModel, body: OpenAiRequest, res: ServerResponse, signal: AbortSignal) {
  const turn = await chat.chat(toChatRequest(body), { signal });
  const message = { role: 'assistant', content: turn.toolCalls.length ? null : turn.text, ...(turn.toolCalls.length ? { tool_calls: toolCallsOf(turn) } : {}) };
  send(res, 200, { id: `chatcmpl-${randomUUID()}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: turn.model, choices: [{ index: 0, message, finish_reason: FINISH[turn.finishReason] }], usage: usageOf(turn) });
}

async function stream(chat: ChatModel, body: OpenAiRequest, res: ServerResponse, signal: AbortSignal) {
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const event = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
  const chunk = (delta: object, finish: string | null = null, extra: object = {}) => event({ id, object: 'chat.completion.chunk', created, model: body.model ?? 'tiny', choices: [{ index: 0, delta, finish_reason: finish }], ...extra });
  chunk({ role: 'assistant', content: '' });
  let turn: ChatTurn;
  try {
    turn = await chat.chat(toChatRequest(body), { signal, onText: (content) => chunk({ content }) });
  } catch (e) {
    event({ error: { message: e instanceof Error ? e.message : String(e), type: 'server_error' } });
    return void res.end();
  }
  if (turn.toolCalls.length) chunk({ tool_calls: toolCallsOf(turn) });
  const usage = usageOf(turn);
  // OpenAI sends the usage in a chunk of its own when asked; llama.cpp's server with the last chunk.
  if (body.stream_options?.include_usage) {
    chunk({}, FINISH[turn.finishReason]);
    event({ id, object: 'chat.completion.chunk', created, model: turn.model, choices: [], usage });
  } else chunk({}, FINISH[turn.finishReason], { usage });
  res.end('data: [DONE]\n\n');
}

function send(res: ServerResponse, status: number, body: unknown) {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks).toString('utf8'))).on('error', reject);
  });
}
