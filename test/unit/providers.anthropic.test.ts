import * as assert from 'node:assert/strict';
import { z } from 'zod';
import { createAnthropicProvider } from '../../src/core/providers/anthropic';
import { ProviderUnavailableError, type ChatRequest } from '../../src/core/providers/types';
import { rejection } from './nodeContext';
import { callBody, fastRetries, instrumentFor, KEY, providerContext, providerContract, streamCall, type ProviderKit } from './providerContract';
import { startAnthropicServer, type ScriptedServer } from './support/anthropicServer';

const kit: ProviderKit = {
  provider: 'anthropic',
  start: startAnthropicServer,
  module: createAnthropicProvider,
  keyOf: (r) => (typeof r.headers['x-api-key'] === 'string' ? r.headers['x-api-key'] : undefined),
  overflow: { status: 400, error: { type: 'invalid_request_error', message: 'prompt is too long: 208310 tokens > 200000 maximum' } },
  unknownModel: { status: 404, error: { type: 'not_found_error', message: 'model: no-such-model' } },
};

const readFile = { name: 'read_file', description: 'Reads a workspace file.', inputSchema: z.object({ path: z.string() }) };
const readFileSchema = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { path: { type: 'string' } }, required: ['path'], additionalProperties: false };

describe('anthropic provider', () => {
  providerContract(kit);

  describe('on the wire', () => {
    let server: ScriptedServer;
    beforeEach(async () => {
      server = await startAnthropicServer();
    });
    afterEach(() => server.close());

    const open = (options = {}) => createAnthropicProvider(options).open(instrumentFor('anthropic', server.url, { id: 'claude-sonnet-4-5', maxTokens: 1024 }), providerContext(), KEY);

    it('sends the key as x-api-key with the API version, never as a bearer token', async () => {
      server.reply({ text: 'hi' });
      await (await streamCall(await open(), { messages: [{ role: 'user', text: 'hi' }] })).turn;
      const { headers } = server.calls()[0]!;
      assert.equal(headers['x-api-key'], KEY);
      assert.equal(headers['anthropic-version'], '2023-06-01');
      assert.equal(headers.authorization, undefined);
      assert.equal(callBody(server, 0).max_tokens, 1024);
    });

    it('is unavailable without a key (nothing is sent)', async () => {
      const e = await rejection(createAnthropicProvider().open(instrumentFor('anthropic', server.url), providerContext(), undefined));
      assert.ok(e instanceof ProviderUnavailableError);
      assert.match(e.message, /needs an Anthropic API key in SYMPHONY_TEST_KEY/);
    });

    it('declares tools with input_schema and sends tool_use and tool_result blocks back', async () => {
      server.reply(
        { text: 'Reading both.', toolCalls: [{ id: 'toolu_a', name: 'read_file', arguments: { path: 'a.ts' } }, { id: 'toolu_b', name: 'read_file', arguments: { path: 'b.ts' } }] },
        { text: 'a.ts exports main; b.ts is missing.' },
      );
      const model = await open();
      const first: ChatRequest = { system: 'Be brief.', messages: [{ role: 'user', text: 'Compare a.ts and b.ts' }], tools: [readFile] };
      const turn = await (await streamCall(model, first)).turn;
      assert.deepEqual(turn.toolCalls, [
        { id: 'toolu_a', name: 'read_file', input: { path: 'a.ts' } },
        { id: 'toolu_b', name: 'read_file', input: { path: 'b.ts' } },
      ]);
      const answer = await model.chat(
        {
          ...first,
          messages: [
            ...first.messages,
            { role: 'assistant', text: turn.text, toolCalls: turn.toolCalls },
            {
              role: 'tool',
              results: [
                { callId: 'toolu_a', name: 'read_file', output: 'export function main() {}', isError: false },
                { callId: 'toolu_b', name: 'read_file', output: 'no such file: b.ts', isError: true },
              ],
            },
          ],
        },
        { signal: new AbortController().signal },
      );
      assert.equal(answer.text, 'a.ts exports main; b.ts is missing.');

      assert.deepEqual(
        callBody(server, 0).tools.map((t: Record<string, unknown>) => ({ name: t.name, description: t.description, input_schema: t.input_schema })),
        [{ name: 'read_file', description: 'Reads a workspace file.', input_schema: readFileSchema }],
      );
      const second = callBody(server, 1);
      assert.deepEqual(second.system, [{ type: 'text', text: 'Be brief.' }]);
      assert.deepEqual(second.messages, [
        { role: 'user', content: [{ type: 'text', text: 'Compare a.ts and b.ts' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Reading both.' },
            { type: 'tool_use', id: 'toolu_a', name: 'read_file', input: { path: 'a.ts' } },
            { type: 'tool_use', id: 'toolu_b', name: 'read_file', input: { path: 'b.ts' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_a', content: 'export function main() {}' },
            { type: 'tool_result', tool_use_id: 'toolu_b', content: 'no such file: b.ts', is_error: true },
          ],
        },
      ]);
    });

    it('sends a call whose input was not JSON back as an empty object (the API takes objects only)', async () => {
      server.reply({ toolCalls: [{ id: 'toolu_bad', name: 'read_file', arguments: '{"path": ' }] }, { text: 'sorry' });
      const model = await open();
      const first: ChatRequest = { messages: [{ role: 'user', text: 'read' }], tools: [readFile] };
      const turn = await (await streamCall(model, first)).turn;
      assert.deepEqual(turn.toolCalls, [{ id: 'toolu_bad', name: 'read_file', input: '{"path": ' }]);
      await model.chat(
        {
          ...first,
          messages: [...first.messages, { role: 'assistant', text: '', toolCalls: turn.toolCalls }, { role: 'tool', results: [{ callId: 'toolu_bad', name: 'read_file', output: 'not JSON', isError: true }] }],
        },
        { signal: new AbortController().signal },
      );
      assert.deepEqual(callBody(server, 1).messages[1], { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_bad', name: 'read_file', input: {} }] });
    });

    it('asks for JSON in words only: the system prompt carries the instruction and the schema', async () => {
      const schema = { type: 'object', properties: { ok: { type: 'boolean' } } };
      server.reply({ text: '{"ok":true}' });
      const answer = await (await open()).chat({ system: 'Judge.', messages: [{ role: 'user', text: 'Is it ok?' }], json: { schema } }, { signal: new AbortController().signal });
      assert.equal(answer.text, '{"ok":true}');
      const body = callBody(server, 0);
      assert.equal(body.system.length, 1);
      assert.match(body.system[0].text, /^Judge\.\n\nAnswer with a single JSON value and nothing else/);
      assert.ok(body.system[0].text.includes(JSON.stringify(schema)));
      assert.equal(body.output_format, undefined);
      assert.equal(body.tools, undefined, 'no JSON tool is forced on the model');
    });

    it('retries 529 overloaded', async () => {
      const retries = fastRetries();
      server.reply({ status: 529 }, { text: 'back' });
      const { turn, notes } = await streamCall(await open(retries), { messages: [{ role: 'user', text: 'hi' }] });
      assert.equal((await turn).text, 'back');
      assert.deepEqual(notes, [`529 from ${server.host}: overloaded; retrying in 1 s (1 of 2)`]);
    });

    it('lists dated snapshots for an alias, and check() accepts the alias', async () => {
      server.models = ['claude-sonnet-4-5-20250929', 'claude-haiku-4-5-20251001'];
      const check = await createAnthropicProvider().check(instrumentFor('anthropic', server.url, { id: 'claude-sonnet-4-5' }), providerContext(), KEY);
      assert.deepEqual(check, { reachable: true, detail: `anthropic at ${server.url} answers and lists model claude-sonnet-4-5` });
      assert.equal(server.requests[0]!.path, '/v1/models?limit=1000');
      assert.equal(server.requests[0]!.headers['anthropic-version'], '2023-06-01');
    });
  });
});
