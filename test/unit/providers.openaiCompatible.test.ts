import * as assert from 'node:assert/strict';
import { z } from 'zod';
import { callModel, openModel } from '../../src/core/providers/call';
import { createOpenAiCompatibleProvider, openAiCompatibleProvider } from '../../src/core/providers/openaiCompatible';
import { createModelProvider } from '../../src/core/providers/registry';
import type { ChatRequest } from '../../src/core/providers/types';
import { nodeRig } from './nodeContext';
import { callBody, instrumentFor, KEY, KEY_ENV, providerContext, providerContract, streamCall, type ProviderKit } from './providerContract';
import { startOpenAiServer, type ScriptedServer } from './support/openAiServer';

const kit: ProviderKit = {
  provider: 'openai-compatible',
  start: startOpenAiServer,
  module: createOpenAiCompatibleProvider,
  keyOf: (r) => /^Bearer (.*)$/.exec(r.headers.authorization ?? '')?.[1],
  overflow: {
    status: 400,
    error: {
      message: "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. Please reduce the length of the messages.",
      type: 'invalid_request_error',
      code: 'context_length_exceeded',
    },
  },
  unknownModel: { status: 404, error: { message: 'The model `no-such-model` does not exist or you do not have access to it.', type: 'invalid_request_error', code: 'model_not_found' } },
};

const readFile = { name: 'read_file', description: 'Reads a workspace file.', inputSchema: z.object({ path: z.string() }) };

describe('openai-compatible provider', () => {
  providerContract(kit);

  describe('on the wire', () => {
    let server: ScriptedServer;
    beforeEach(async () => {
      server = await startOpenAiServer();
    });
    afterEach(() => server.close());

    const openWith = (key: string | undefined) =>
      createOpenAiCompatibleProvider().open(instrumentFor('openai-compatible', server.url, { maxTokens: 300, temperature: 0.2 }), providerContext(), key);
    const open = () => openWith(KEY);

    it('asks for usage in streams, and reports none when the server sends none', async () => {
      server.reply({ text: 'no usage here', usage: null });
      const answer = await (await streamCall(await open(), { messages: [{ role: 'user', text: 'hi' }] })).turn;
      assert.equal(answer.usage, undefined);
      const body = callBody(server, 0);
      assert.deepEqual(body.stream_options, { include_usage: true });
      assert.equal(body.max_tokens, 300);
      assert.equal(body.temperature, 0.2);
    });

    it('sends the key as a bearer token, and no Authorization header without one (Ollama, LM Studio)', async () => {
      server.reply({ text: 'a' }, { text: 'b' });
      await (await streamCall(await open(), { messages: [{ role: 'user', text: 'hi' }] })).turn;
      await (await streamCall(await openWith(undefined), { messages: [{ role: 'user', text: 'hi' }] })).turn;
      assert.equal(server.calls()[0]!.headers.authorization, `Bearer ${KEY}`);
      assert.equal(server.calls()[1]!.headers.authorization, undefined);
    });

    it('declares tools as functions and sends tool calls and results back in OpenAI shape', async () => {
      server.reply(
        { text: 'Reading both.', toolCalls: [{ id: 'call_a', name: 'read_file', arguments: { path: 'a.ts' } }, { id: 'call_b', name: 'read_file', arguments: { path: 'b.ts' } }] },
        { text: 'a.ts exports main; b.ts is missing.' },
      );
      const model = await open();
      const first: ChatRequest = { system: 'Be brief.', messages: [{ role: 'user', text: 'Compare a.ts and b.ts' }], tools: [readFile] };
      const turn = await (await streamCall(model, first)).turn;
      const second: ChatRequest = {
        ...first,
        messages: [
          ...first.messages,
          { role: 'assistant', text: turn.text, toolCalls: turn.toolCalls },
          {
            role: 'tool',
            results: [
              { callId: 'call_a', name: 'read_file', output: 'export function main() {}', isError: false },
              { callId: 'call_b', name: 'read_file', output: 'no such file: b.ts', isError: true },
            ],
          },
        ],
      };
      const answer = await (await streamCall(model, second)).turn;
      assert.equal(answer.text, 'a.ts exports main; b.ts is missing.');

      const tools = callBody(server, 0).tools;
      assert.deepEqual(tools, [
        {
          type: 'function',
          function: {
            name: 'read_file',
            description: 'Reads a workspace file.',
            parameters: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { path: { type: 'string' } }, required: ['path'], additionalProperties: false },
          },
        },
      ]);
      assert.deepEqual(callBody(server, 1).messages, [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Compare a.ts and b.ts' },
        {
          role: 'assistant',
          content: 'Reading both.',
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'read_file', arguments: '{"path":"a.ts"}' } },
            { id: 'call_b', type: 'function', function: { name: 'read_file', arguments: '{"path":"b.ts"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_a', content: 'export function main() {}' },
        { role: 'tool', tool_call_id: 'call_b', content: 'no such file: b.ts' },
      ]);
    });

    it('sends a call whose arguments were not JSON back with empty arguments', async () => {
      server.reply({ toolCalls: [{ id: 'bad', name: 'read_file', arguments: '{"path": ' }] }, { text: 'sorry' });
      const model = await open();
      const first: ChatRequest = { messages: [{ role: 'user', text: 'read' }], tools: [readFile] };
      const turn = await (await streamCall(model, first)).turn;
      assert.deepEqual(turn.toolCalls, [{ id: 'bad', name: 'read_file', input: '{"path": ' }]);
      await (await streamCall(model, {
        ...first,
        messages: [...first.messages, { role: 'assistant', text: '', toolCalls: turn.toolCalls }, { role: 'tool', results: [{ callId: 'bad', name: 'read_file', output: 'the arguments were not JSON', isError: true }] }],
      })).turn;
      assert.deepEqual(callBody(server, 1).messages[1].tool_calls, [{ id: 'bad', type: 'function', function: { name: 'read_file', arguments: '{}' } }]);
    });

    it('asks for json_object, with the instruction in words too (OpenAI requires the word JSON)', async () => {
      server.reply({ text: '{"ok":true}' });
      const answer = await (await open()).chat({ system: 'Plan.', messages: [{ role: 'user', text: 'Plan it' }], json: {} }, { signal: new AbortController().signal });
      assert.equal(answer.text, '{"ok":true}');
      const body = callBody(server, 0);
      assert.deepEqual(body.response_format, { type: 'json_object' });
      assert.match(body.messages[0].content, /^Plan\.\n\nAnswer with a single JSON value and nothing else/);
    });

    it('asks for json_schema (not strict) when the request has a schema, streamed too', async () => {
      const schema = { type: 'object', properties: { steps: { type: 'array', items: { type: 'string' } } }, required: ['steps'] };
      server.reply({ chunks: ['{"steps":', '["a"]}'] });
      const { turn, chunks } = await streamCall(await open(), { messages: [{ role: 'user', text: 'Plan it' }], json: { schema } });
      assert.equal((await turn).text, '{"steps":["a"]}');
      assert.deepEqual(chunks, ['{"steps":', '["a"]}']);
      const body = callBody(server, 0);
      assert.deepEqual(body.response_format, { type: 'json_schema', json_schema: { schema, strict: false, name: 'response' } });
      assert.ok(body.messages[0].content.includes(JSON.stringify(schema)), 'the schema is in the instruction too');
    });
  });

  describe('through the registry and callModel', () => {
    it('finds the key by its name and keeps it secret, streams into the node log, notes the retry and charges the reported usage', async () => {
      const server = await startOpenAiServer({ apiKey: KEY });
      after(() => server.close());
      server.reply({ status: 503, headers: { 'retry-after': '0' } }, { chunks: ['Hi ', 'there'], usage: { input: 30, output: 2 }, model: 'gpt-4o-mini-2024-07-18' });
      const rig = nodeRig();
      const asked: string[] = [];
      const models = createModelProvider({
        apiKey: (name) => (asked.push(name), Promise.resolve(name === KEY_ENV ? KEY : undefined)),
        howToSetKey: (name) => `export ${name}=…`,
        // The built-in entry is `import('./openaiCompatible')`, which Node's ESM loader cannot
        // resolve under mocha's `tsx/cjs` hook (the bundles inline it); the same module, given directly.
        modules: { 'openai-compatible': () => Promise.resolve(openAiCompatibleProvider) },
      });
      const ctx = { ...rig.ctx, models };
      const instrument = instrumentFor('openai-compatible', server.url, { id: 'gpt-4o-mini' });
      const result = await callModel(ctx, instrument, await openModel(ctx, instrument), { messages: [{ role: 'user', text: 'hi' }] });
      assert.equal(result.text, 'Hi there');
      assert.deepEqual(result.usage, { input: 30, output: 2 });
      assert.deepEqual(asked, [KEY_ENV]);
      assert.deepEqual(rig.secrets, [KEY]);
      assert.equal(rig.logged('stdout'), 'Hi there');
      assert.equal(rig.logged('info'), `503 from ${server.host}: overloaded; retrying in 0 s (1 of 2)\n`);
      assert.deepEqual(
        rig.usages.map((u) => [u.model, u.tokens]),
        [['gpt-4o-mini-2024-07-18', { input: 30, output: 2 }]],
      );
    });
  });
});
