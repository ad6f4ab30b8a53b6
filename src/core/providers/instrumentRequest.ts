import { z } from 'zod';
import type { Instrument } from '../model/instrument';
import type { ChatRequest, ChatTurn, ToolCall } from './types';

/**
 * Script and service instruments speak JSON: they get the request as one JSON document
 * (on stdin, or as the body of a POST) and answer with text — or with a JSON object that
 * may also report usage and ask for tool calls, so a script can be an agent too:
 *
 *   request:  { instrument, nickname, role?, system?, prompt, messages, tools?, json, schema?, maxTokens?, temperature? }
 *   answer:   plain text, or { "text": "…", "usage": { "input": 12, "output": 3 }, "toolCalls": [{ "name": "read_file", "input": { "path": "a.ts" } }] }
 */

/** The JSON document a script or service instrument receives. */
export function instrumentRequestJson(instrument: Instrument, request: ChatRequest): string {
  const lastUser = [...request.messages].reverse().find((m) => m.role === 'user');
  return JSON.stringify({
    instrument: instrument.ref,
    nickname: instrument.nickname,
    role: instrument.role,
    system: request.system,
    prompt: lastUser?.role === 'user' ? lastUser.text : '',
    messages: request.messages,
    tools: request.tools?.map((t) => ({ name: t.name, description: t.description, inputSchema: z.toJSONSchema(t.inputSchema) })),
    json: request.json !== undefined,
    schema: request.json?.schema,
    maxTokens: request.maxTokens,
    temperature: request.temperature,
  });
}

const answerSchema = z.object({
  text: z.string().default(''),
  usage: z.object({ input: z.number().int().min(0), output: z.number().int().min(0) }).optional(),
  toolCalls: z.array(z.object({ id: z.string().optional(), name: z.string(), input: z.unknown() })).optional(),
});

/** Reads a script's stdout or a service's body as a turn: a JSON answer object when it is one, else the text itself. */
export function parseInstrumentAnswer(body: string, model: string): ChatTurn {
  const trimmed = body.trim();
  if (trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      json = undefined;
    }
    const parsed = answerSchema.safeParse(json);
    if (parsed.success && (typeof (json as { text?: unknown }).text === 'string' || parsed.data.toolCalls)) {
      const toolCalls: ToolCall[] = (parsed.data.toolCalls ?? []).map((c, i) => ({ id: c.id ?? `call-${i + 1}`, name: c.name, input: c.input }));
      return { text: parsed.data.text, toolCalls, usage: parsed.data.usage, model, finishReason: toolCalls.length ? 'tool-calls' : 'stop' };
    }
  }
  // Plain text; a program's final newline is not part of its answer.
  return { text: body.replace(/\r?\n$/, ''), toolCalls: [], model, finishReason: 'stop' };
}
