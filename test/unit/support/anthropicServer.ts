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
  type ScriptedToolCall,
} from './scriptedServer';

export type { RecordedRequest, ScriptedAnswer, ScriptedError, ScriptedFault, ScriptedHandler, ScriptedReply, ScriptedServer, ScriptedToolCall } from './scriptedServer';

/**
 * A local server speaking Anthropic's Messages wire format, scripted reply by reply — the
 * same API as `openAiServer.ts`:
 *
 * ```ts
 * const server = await startAnthropicServer({ apiKey: 'sk-ant-test' });
 * server.reply({ text: 'Hello' }, { toolCalls: [{ name: 'read', arguments: { path: 'a.txt' } }] });
 * server.reply({ status: 529 }); // overloaded
 * server.calls()[0].body.messages; // what the client sent
 * await server.close();
 * ```
 *
 * `POST /v1/messages` answers with a `message` JSON, or — for `stream: true` — SSE events:
 * `message_start` (with input usage), `ping`, per block `content_block_start` (text or
 * tool_use), `content_block_delta`s (`text_delta`, or `input_json_delta` pieces of a few
 * characters), `content_block_stop`, then `message_delta` (stop reason, output usage) and
 * `message_stop`. `GET /v1/models` lists `server.models`. Errors use Anthropic's
 * `{ type: "error", error: { type, message } }`; with `apiKey` set, a request without
 * `x-api-key: <key>` gets Anthropic's 401.
 */

/** How many characters of tool input each streamed `input_json_delta` carries. */
export const ANTHROPIC_ARGUMENT_PIECE = 7;

function stopReasonOf(reply: ScriptedAnswer): string {
  return reply.finishReason ?? (reply.toolCalls?.length ? 'tool_use' : 'end_turn');
}

const callId = (c: ScriptedToolCall, i: number) => c.id ?? `toolu_${i + 1}`;

/** Tool input as the non-streamed answer carries it: an object (unparsable text is passed as it is). */
function inputOf(c: ScriptedToolCall): unknown {
  if (typeof c.arguments !== 'string') return c.arguments;
  try {
    return JSON.parse(c.arguments);
  } catch {
    return c.arguments;
  }
}

const ERRORS: Record<number, { type: string; message: string }> = {
  400: { type: 'invalid_request_error', message: 'messages: at least one message is required' },
  401: { type: 'authentication_error', message: 'invalid x-api-key' },
  403: { type: 'permission_error', message: 'Your API key does not have permission to use the specified resource.' },
  404: { type: 'not_found_error', message: 'model: no-such-model' },
  413: { type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' },
  429: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' },
  500: { type: 'api_error', message: 'Internal server error' },
  529: { type: 'overloaded_error', message: 'Overloaded' },
};

const anthropic: Protocol = {
  callPath: '/v1/messages',
  keyOf: (headers) => (typeof headers['x-api-key'] === 'string' ? headers['x-api-key'] : undefined),
  errorBody: (_status, error) => ({ type: 'error', error: { type: error.type, message: error.message } }),
  defaultError: (status) => ERRORS[status] ?? (status >= 500 ? ERRORS[500]! : { type: 'invalid_request_error', message: `error ${status}` }),
  modelList: (ids) => ({
    data: ids.map((id) => ({ type: 'model', id, display_name: id, created_at: '2025-09-29T00:00:00Z' })),
    has_more: false,
    first_id: ids[0] ?? null,
    last_id: ids[ids.length - 1] ?? null,
  }),
  answer(reply, request, n) {
    const text = answerText(reply);
    const usage = reply.usage ?? { input: 11, output: 7 };
    return {
      id: `msg_${n}`,
      type: 'message',
      role: 'assistant',
      model: reply.model ?? request?.model ?? 'test-model',
      content: [
        ...(text ? [{ type: 'text', text }] : []),
        ...(reply.toolCalls ?? []).map((c, i) => ({ type: 'tool_use', id: callId(c, i), name: c.name, input: inputOf(c) })),
      ],
      stop_reason: stopReasonOf(reply),
      stop_sequence: null,
      usage: { input_tokens: usage.input, output_tokens: usage.output },
    };
  },
  stream(reply, request, n) {
    const usage = reply.usage ?? { input: 11, output: 7 };
    const frames = [
      sse(
        {
          type: 'message_start',
          message: {
            id: `msg_${n}`,
            type: 'message',
            role: 'assistant',
            model: reply.model ?? request?.model ?? 'test-model',
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { input_tokens: usage.input, output_tokens: 1 },
          },
        },
        'message_start',
      ),
      sse({ type: 'ping' }, 'ping'),
    ];
    let index = 0;
    const chunks = answerChunks(reply);
    if (chunks.length) {
      frames.push(sse({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } }, 'content_block_start'));
      for (const text of chunks) frames.push(sse({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } }, 'content_block_delta'));
      frames.push(sse({ type: 'content_block_stop', index }, 'content_block_stop'));
      index++;
    }
    (reply.toolCalls ?? []).forEach((c, i) => {
      frames.push(sse({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: callId(c, i), name: c.name, input: {} } }, 'content_block_start'));
      frames.push(sse({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: '' } }, 'content_block_delta'));
      for (const part of pieces(argumentText(c), ANTHROPIC_ARGUMENT_PIECE)) {
        frames.push(sse({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: part } }, 'content_block_delta'));
      }
      frames.push(sse({ type: 'content_block_stop', index }, 'content_block_stop'));
      index++;
    });
    frames.push(sse({ type: 'message_delta', delta: { stop_reason: stopReasonOf(reply), stop_sequence: null }, usage: { output_tokens: usage.output } }, 'message_delta'));
    frames.push(sse({ type: 'message_stop' }, 'message_stop'));
    return frames;
  },
  streamStart(text, request, n) {
    // message_start, ping, the text block's start and its first delta.
    return this.stream({ chunks: [text] }, request, n).slice(0, 4);
  },
  streamError: (error) => sse({ type: 'error', error: { type: error?.type ?? 'overloaded_error', message: error?.message ?? 'Overloaded' } }, 'error'),
};

/** Starts a scripted Anthropic Messages server on 127.0.0.1 (a free port). */
export function startAnthropicServer(options: ScriptedServerOptions = {}): Promise<ScriptedServer> {
  return startScriptedServer(anthropic, options);
}
