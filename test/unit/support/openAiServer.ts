import {
  answerChunks,
  answerText,
  argumentText,
  pieces,
  sse,
  startScriptedServer,
  type Protocol,
  type ScriptedAnswer,
  type ScriptedServer,
  type ScriptedServerOptions,
} from './scriptedServer';

export type { RecordedRequest, ScriptedAnswer, ScriptedError, ScriptedFault, ScriptedHandler, ScriptedReply, ScriptedServer, ScriptedToolCall } from './scriptedServer';

/**
 * A local server speaking OpenAI's chat completions wire format, scripted reply by reply:
 *
 * ```ts
 * const server = await startOpenAiServer({ apiKey: 'sk-test' });
 * server.reply({ text: 'Hello' }, { toolCalls: [{ name: 'read', arguments: { path: 'a.txt' } }] });
 * server.reply({ status: 429, headers: { 'retry-after': '1' } });
 * server.calls()[0].body.messages; // what the client sent
 * await server.close();
 * ```
 *
 * `POST /v1/chat/completions` answers with a `chat.completion` JSON, or — for `stream: true` —
 * SSE `chat.completion.chunk`s: a role delta, the content deltas, each tool call's
 * id + name and then its arguments in pieces of a few characters, the finish reason, the
 * usage chunk when `stream_options.include_usage` asked for it, and `data: [DONE]`.
 * `GET /v1/models` lists `server.models`. Errors use OpenAI's `{ error: { message, type,
 * param, code } }`; with `apiKey` set, a request without `Authorization: Bearer <key>` gets
 * OpenAI's 401.
 */

/** How many characters of tool-call arguments each streamed delta carries. */
export const OPENAI_ARGUMENT_PIECE = 7;

const created = 1_767_000_000;

function finishReasonOf(reply: ScriptedAnswer): string {
  return reply.finishReason ?? (reply.toolCalls?.length ? 'tool_calls' : 'stop');
}

function usageOf(reply: ScriptedAnswer) {
  if (reply.usage === null) return undefined;
  const { input, output } = reply.usage ?? { input: 11, output: 7 };
  return { prompt_tokens: input, completion_tokens: output, total_tokens: input + output };
}

const openAi: Protocol = {
  callPath: '/v1/chat/completions',
  keyOf: (headers) => /^Bearer (.*)$/.exec(headers.authorization ?? '')?.[1],
  errorBody: (_status, error) => ({ error: { message: error.message, type: error.type, param: null, code: error.code ?? null } }),
  defaultError(status) {
    switch (status) {
      case 401:
        return {
          message: 'Incorrect API key provided: sk-***. You can find your API key at https://platform.openai.com/account/api-keys.',
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        };
      case 403:
        return { message: 'You are not allowed to sample from this model', type: 'invalid_request_error', code: 'model_not_allowed' };
      case 404:
        return { message: 'The model `no-such-model` does not exist or you do not have access to it.', type: 'invalid_request_error', code: 'model_not_found' };
      case 429:
        return { message: 'Rate limit reached for requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 1s.', type: 'requests', code: 'rate_limit_exceeded' };
      case 400:
        return { message: "Invalid value for 'messages': expected an array.", type: 'invalid_request_error' };
      default:
        return status >= 500
          ? { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error' }
          : { message: `error ${status}`, type: 'invalid_request_error' };
    }
  },
  modelList: (ids) => ({ object: 'list', data: ids.map((id) => ({ id, object: 'model', created, owned_by: 'system' })) }),
  answer(reply, request, n) {
    const calls = reply.toolCalls ?? [];
    const text = answerText(reply);
    return {
      id: `chatcmpl-${n}`,
      object: 'chat.completion',
      created,
      model: reply.model ?? request?.model ?? 'test-model',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: text || (calls.length ? null : ''),
            refusal: null,
            ...(calls.length
              ? { tool_calls: calls.map((c, i) => ({ id: c.id ?? `call_${i + 1}`, type: 'function', function: { name: c.name, arguments: argumentText(c) } })) }
              : {}),
          },
          logprobs: null,
          finish_reason: finishReasonOf(reply),
        },
      ],
      ...(usageOf(reply) ? { usage: usageOf(reply) } : {}),
      system_fingerprint: 'fp_test',
    };
  },
  stream(reply, request, n) {
    const includeUsage = request?.stream_options?.include_usage === true;
    const chunk = (delta: unknown, finish: string | null = null) =>
      sse({
        id: `chatcmpl-${n}`,
        object: 'chat.completion.chunk',
        created,
        model: reply.model ?? request?.model ?? 'test-model',
        system_fingerprint: 'fp_test',
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
        ...(includeUsage ? { usage: null } : {}),
      });
    const frames = [chunk({ role: 'assistant', content: '', refusal: null })];
    for (const piece of answerChunks(reply)) frames.push(chunk({ content: piece }));
    (reply.toolCalls ?? []).forEach((c, index) => {
      frames.push(chunk({ tool_calls: [{ index, id: c.id ?? `call_${index + 1}`, type: 'function', function: { name: c.name, arguments: '' } }] }));
      for (const part of pieces(argumentText(c), OPENAI_ARGUMENT_PIECE)) frames.push(chunk({ tool_calls: [{ index, function: { arguments: part } }] }));
    });
    frames.push(chunk({}, finishReasonOf(reply)));
    const usage = usageOf(reply);
    if (includeUsage && usage) {
      frames.push(sse({ id: `chatcmpl-${n}`, object: 'chat.completion.chunk', created, model: reply.model ?? request?.model, system_fingerprint: 'fp_test', choices: [], usage }));
    }
    frames.push(sse('[DONE]'));
    return frames;
  },
  streamStart(text, request, n) {
    return this.stream({ chunks: [text] }, request, n).slice(0, 2);
  },
  streamError: (error) =>
    sse({ error: { message: error?.message ?? 'The server had an error while processing your request. Sorry about that!', type: error?.type ?? 'server_error', param: null, code: null } }),
};

/** Starts a scripted OpenAI-compatible server on 127.0.0.1 (a free port). */
export function startOpenAiServer(options: ScriptedServerOptions = {}): Promise<ScriptedServer> {
  return startScriptedServer(openAi, options);
}
