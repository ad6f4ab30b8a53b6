import * as assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { z } from 'zod';
import type { ModelSpec } from '../../src/core/model/instrument';
import type { AiSdkProviderOptions } from '../../src/core/providers/aiSdk';
import type { ModelInstrument, ProviderModule } from '../../src/core/providers/registry';
import { ModelCallError, type ChatModel, type ChatRequest, type ProviderContext } from '../../src/core/providers/types';
import { rejection } from './nodeContext';
import type { RecordedRequest, ScriptedError, ScriptedServer, ScriptedServerOptions } from './support/scriptedServer';

/**
 * What every HTTP model provider must do, whatever its wire: stream text in order, return
 * tool calls (broken ones too), retry what may succeed later and nothing else, say what
 * went wrong in words a person can act on, never leak the key, and stop when cancelled.
 * Each provider's test file runs this against its scripted server and adds the wire
 * details (request bodies, JSON mode) itself.
 */

/** The test's API key, and the variable the instrument names for it. */
export const KEY = 'sk-test-0123456789-secret';
export const KEY_ENV = 'SYMPHONY_TEST_KEY';

/** A provider under test. */
export interface ProviderKit {
  readonly provider: 'openai-compatible' | 'anthropic';
  start(options?: ScriptedServerOptions): Promise<ScriptedServer>;
  module(options?: AiSdkProviderOptions): ProviderModule;
  /** The key a request carried, read from this provider's header. */
  keyOf(request: RecordedRequest): string | undefined;
  /** The API's own words for a prompt longer than the context window. */
  readonly overflow: ScriptedError;
  /** The API's own 404 for an unknown model. */
  readonly unknownModel: ScriptedError;
}

/** A model instrument pointed at `baseUrl` (with maxTokens, which Anthropic's SDK wants for a model it does not know). */
export function instrumentFor(provider: ProviderKit['provider'], baseUrl: string, model: Partial<ModelSpec> = {}): ModelInstrument {
  return {
    ref: 'band/player',
    ensemble: 'band',
    id: 'player',
    file: 'ensembles/band/player.yaml',
    nickname: 'Player',
    kind: 'model',
    concurrency: 1,
    model: { provider, id: 'test-model', baseUrl, apiKeyEnv: KEY_ENV, maxTokens: 256, ...model },
  };
}

/** A ProviderContext whose secrets the test can read. */
export function providerContext(signal = new AbortController().signal): ProviderContext & { readonly secrets: string[] } {
  const secrets: string[] = [];
  return { signal, workspaceRoot: process.cwd(), addSecret: (s) => secrets.push(s), secrets };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A ModelCallError the call must fail with. */
export async function callError(p: Promise<unknown>): Promise<ModelCallError> {
  const e = await rejection(p);
  assert.ok(e instanceof ModelCallError, `expected a ModelCallError, got ${String(e)}`);
  return e;
}

/** Retries that wait no time and record what they would have waited (jitter pinned to its middle). */
export function fastRetries(maxRetries = 2): AiSdkProviderOptions & { readonly delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    retry: {
      maxRetries,
      random: () => 0.5,
      sleep: (ms, signal) => {
        delays.push(ms);
        return signal.aborted ? Promise.reject(signal.reason) : Promise.resolve();
      },
    },
  };
}

/** One call with text streamed, notes and text recorded. */
export async function streamCall(model: ChatModel, request: ChatRequest, signal = new AbortController().signal) {
  const chunks: string[] = [];
  const notes: string[] = [];
  const turn = model.chat(request, { signal, onText: (c) => chunks.push(c), onNote: (n) => notes.push(n) });
  return { turn, chunks, notes };
}

const hello: ChatRequest = { system: 'You are terse.', messages: [{ role: 'user', text: 'Say hello.' }] };
const readFile = { name: 'read_file', description: 'Reads a workspace file.', inputSchema: z.object({ path: z.string() }) };
const listDir = { name: 'list_dir', description: 'Lists a folder.', inputSchema: z.object({ dir: z.string(), depth: z.number().optional() }) };
const withTools: ChatRequest = { messages: [{ role: 'user', text: 'Look around.' }], tools: [readFile, listDir] };

/** The behaviour every HTTP provider shares, as mocha tests. */
export function providerContract(kit: ProviderKit): void {
  let server: ScriptedServer;
  beforeEach(async () => {
    server = await kit.start({ apiKey: KEY, models: ['test-model', 'test-model-large', 'other'] });
  });
  afterEach(() => server.close());

  const open = (options?: AiSdkProviderOptions, model: Partial<ModelSpec> = {}, key = KEY) =>
    kit.module(options).open(instrumentFor(kit.provider, server.url, model), providerContext(), key);

  describe('answers', () => {
    it('streams text to onText in order and returns it with the usage, finish reason and answering model', async () => {
      server.reply({ chunks: ['Hel', 'lo', ', world'], model: 'test-model-2025-01-01', usage: { input: 21, output: 4 } });
      const model = await open();
      const { turn, chunks } = await streamCall(model, hello);
      const answer = await turn;
      assert.deepEqual(chunks, ['Hel', 'lo', ', world']);
      assert.deepEqual(answer, { text: 'Hello, world', toolCalls: [], usage: { input: 21, output: 4 }, model: 'test-model-2025-01-01', finishReason: 'stop' });
      assert.equal(server.calls()[0]!.body.stream, true);
      assert.equal(server.calls()[0]!.body.model, 'test-model');
      assert.equal(kit.keyOf(server.calls()[0]!), KEY);
    });

    it('answers in one piece without onText (no stream on the wire)', async () => {
      server.reply({ text: 'Whole answer', finishReason: kit.provider === 'anthropic' ? 'max_tokens' : 'length' });
      const model = await open();
      const answer = await model.chat(hello, { signal: new AbortController().signal });
      assert.deepEqual(answer, { text: 'Whole answer', toolCalls: [], usage: { input: 11, output: 7 }, model: 'test-model', finishReason: 'length' });
      assert.notEqual(server.calls()[0]!.body.stream, true);
    });

    it('counts tokens with the shared tokenizer', async () => {
      const model = await open();
      assert.equal(await model.countTokens('', new AbortController().signal), 0);
      assert.ok((await model.countTokens('one two three four', new AbortController().signal)) >= 4);
    });
  });

  describe('tool calls', () => {
    for (const streaming of [true, false]) {
      it(`returns several calls of one turn with their parsed input (${streaming ? 'streamed, arguments split across deltas' : 'one answer'})`, async () => {
        server.reply({
          text: 'Let me look.',
          toolCalls: [
            { id: 'c1', name: 'read_file', arguments: { path: 'src/a long/path/to/main.ts' } },
            { id: 'c2', name: 'list_dir', arguments: { dir: '.', depth: 2 } },
          ],
        });
        const model = await open();
        const answer = streaming ? await (await streamCall(model, withTools)).turn : await model.chat(withTools, { signal: new AbortController().signal });
        assert.equal(answer.finishReason, 'tool-calls');
        assert.equal(answer.text, 'Let me look.');
        assert.deepEqual(answer.toolCalls, [
          { id: 'c1', name: 'read_file', input: { path: 'src/a long/path/to/main.ts' } },
          { id: 'c2', name: 'list_dir', input: { dir: '.', depth: 2 } },
        ]);
      });
    }

    it('returns a call with invalid JSON arguments as its raw text, and a call to an unknown tool as it came', async () => {
      server.reply({ toolCalls: [{ id: 'bad', name: 'read_file', arguments: '{"path": "a.ts' }, { id: 'who', name: 'delete_everything', arguments: { now: true } }] });
      const model = await open();
      const answer = await (await streamCall(model, withTools)).turn;
      assert.deepEqual(answer.toolCalls, [
        { id: 'bad', name: 'read_file', input: '{"path": "a.ts' },
        { id: 'who', name: 'delete_everything', input: { now: true } },
      ]);
    });
  });

  describe('retries and failures', () => {
    it('waits out a 429 Retry-After before retrying, says so, and then answers', async () => {
      server.reply({ status: 429, headers: { 'retry-after': '1' } }, { text: 'finally' });
      const model = await open({ retry: { maxRetries: 2 } });
      const { turn, notes } = await streamCall(model, hello);
      assert.equal((await turn).text, 'finally');
      const [first, second] = server.calls();
      assert.ok(second!.at - first!.at >= 1000, `the retry came ${Math.round(second!.at - first!.at)} ms after the 429, sooner than Retry-After`);
      assert.deepEqual(notes, [`429 from ${server.host}: rate limited; retrying in 1 s (1 of 2)`]);
    });

    it('retries a 500 with growing backoff, then answers', async () => {
      const retries = fastRetries();
      server.reply({ status: 500 }, { status: 502, body: '<html>Bad Gateway</html>' }, { text: 'ok' });
      const { turn, notes } = await streamCall(await open(retries), hello);
      assert.equal((await turn).text, 'ok');
      assert.deepEqual(retries.delays, [1000, 2000]);
      assert.deepEqual(notes, [`500 from ${server.host}: server error; retrying in 1 s (1 of 2)`, `502 from ${server.host}: server error; retrying in 2 s (2 of 2)`]);
    });

    it('gives up on a server that keeps failing after maxRetries, with a retryable error that says why', async () => {
      server.reply({ status: 500 }, { status: 500 }, { status: 500 });
      const e = await callError((await streamCall(await open(fastRetries()), hello)).turn);
      assert.equal(e.retryable, true);
      assert.equal(e.status, 500);
      assert.match(e.message, new RegExp(`^${server.host} failed with a server error \\(500\\): .+`));
      assert.equal(server.calls().length, 3);
    });

    it('surfaces a Retry-After longer than a minute at once, with retryAfterMs, for the node retry to decide', async () => {
      server.reply({ status: 429, headers: { 'retry-after': '120' } });
      const { turn, notes } = await streamCall(await open(fastRetries()), hello);
      const e = await callError(turn);
      assert.equal(e.retryable, true);
      assert.equal(e.retryAfterMs, 120_000);
      assert.equal(server.calls().length, 1);
      assert.match(notes[0]!, /asks to wait 120 s, longer than one call waits/);
    });

    const permanent: [string, number, RegExp][] = [
      ['a refused key', 401, new RegExp(`^the API key in ${KEY_ENV} was refused \\(401 from 127\\.0\\.0\\.1:\\d+\\)`)],
      ['a bad request', 400, /^127\.0\.0\.1:\d+ rejected the request to test-model \(400\): .+/],
    ];
    for (const [what, status, message] of permanent) {
      it(`fails at once on ${what} (${status}), without retrying`, async () => {
        server.reply({ status }, { text: 'never sent' });
        const e = await callError((await streamCall(await open(fastRetries()), hello)).turn);
        assert.equal(e.retryable, false);
        assert.equal(e.status, status);
        assert.match(e.message, message);
        assert.equal(server.calls().length, 1);
      });
    }

    it('names an unknown model (404) and does not retry', async () => {
      server.reply(kit.unknownModel);
      const e = await callError((await streamCall(await open(fastRetries(), { id: 'no-such-model' }), hello)).turn);
      assert.equal(e.retryable, false);
      assert.match(e.message, new RegExp(`^model no-such-model is not known to ${server.url.replace(/\./g, '\\.')} \\(404\\): `));
      assert.equal(server.calls().length, 1);
    });

    it('says plainly when the prompt is longer than the context window', async () => {
      server.reply(kit.overflow);
      const e = await callError((await streamCall(await open(fastRetries()), hello)).turn);
      assert.equal(e.retryable, false);
      assert.match(e.message, /^the prompt is longer than the model's context window \(test-model at 127\.0\.0\.1:\d+, 400\): .*shorten the input/);
      assert.equal(server.calls().length, 1);
    });

    it('fails a stream that turns to garbage with a clear, permanent error and no second request', async () => {
      server.reply({ fault: 'malformed', text: 'Partial ', garbage: '<html>upstream went away</html>' });
      const { turn, chunks } = await streamCall(await open(fastRetries()), hello);
      const e = await callError(turn);
      assert.deepEqual(chunks, ['Partial ']);
      assert.equal(e.retryable, false);
      assert.equal(e.message, `the server at ${server.url} answered with something that is not ${kit.provider === 'anthropic' ? 'an Anthropic message' : 'an OpenAI chat completion'}: <html>upstream went away</html>`);
      assert.equal(server.calls().length, 1);
    });

    it('fails a non-streamed answer that is not JSON with the start of what came', async () => {
      server.reply({ fault: 'malformed', garbage: 'Welcome to nginx! '.repeat(30) });
      const e = await callError((await open(fastRetries())).chat(hello, { signal: new AbortController().signal }));
      assert.equal(e.retryable, false);
      assert.match(e.message, /answered with something that is not an? (OpenAI chat completion|Anthropic message): Welcome to nginx! Welcome/);
      assert.ok(e.message.length < 400, 'only the start of the garbage is quoted');
    });

    it('retries a connection reset before any answer', async () => {
      const retries = fastRetries();
      server.reply({ fault: 'reset' }, { text: 'after the reset' });
      const { turn, notes } = await streamCall(await open(retries), hello);
      assert.equal((await turn).text, 'after the reset');
      assert.deepEqual(notes, [`the connection to ${server.host} was reset; retrying in 1 s (1 of 2)`]);
    });

    it('does not retry a reset that came after text had streamed (no duplicate text), but says it may be retried', async () => {
      server.reply({ fault: 'reset', text: 'Half an ans' }, { text: 'never asked for' });
      const { turn, chunks } = await streamCall(await open(fastRetries()), hello);
      const e = await callError(turn);
      assert.deepEqual(chunks, ['Half an ans']);
      assert.equal(e.retryable, true);
      assert.match(e.message, /^the connection to 127\.0\.0\.1:\d+ was reset before the answer was complete \(after part of the answer had streamed/);
      assert.equal(server.calls().length, 1);
    });

    it('retries an error event that opens a stream, and not one that comes after text', async () => {
      const retries = fastRetries();
      server.reply({ fault: 'stream-error' }, { text: 'recovered' }, { fault: 'stream-error', text: 'Some text' });
      const model = await open(retries);
      const first = await streamCall(model, hello);
      assert.equal((await first.turn).text, 'recovered');
      assert.equal(first.notes.length, 1);
      assert.match(first.notes[0]!, /; retrying in 1 s \(1 of 2\)$/);
      const second = await streamCall(model, hello);
      const e = await callError(second.turn);
      assert.deepEqual(second.chunks, ['Some text']);
      assert.equal(e.retryable, true);
      assert.match(e.message, /^127\.0\.0\.1:\d+ (reported an error mid-answer|is overloaded).*\(after part of the answer had streamed/);
      assert.equal(server.calls().length, 3);
    });

    it('says nothing answers at a closed port, without retrying', async () => {
      const baseUrl = `http://127.0.0.1:${await closedPort()}/v1`;
      const retries = fastRetries();
      const model = await kit.module(retries).open(instrumentFor(kit.provider, baseUrl), providerContext(), KEY);
      const e = await callError(model.chat(hello, { signal: new AbortController().signal, onText: () => undefined }));
      assert.equal(e.message, `nothing answers at ${baseUrl} — is Ollama / LM Studio / the server running?`);
      assert.equal(e.retryable, false);
      assert.deepEqual(retries.delays, []);
    });

    it('never puts the API key in an error message or a note, even when the server quotes it', async () => {
      server.reply(
        { status: 401 },
        { status: 403, error: { message: `key ${KEY} may not use this model` } },
        { status: 400, error: { message: `bad request from ${KEY}` } },
        { status: 500, error: { message: `crashed on ${KEY}` } },
        { status: 500, error: { message: `crashed on ${KEY}` } },
        { status: 500, error: { message: `crashed on ${KEY}` } },
      );
      const model = await open(fastRetries());
      const texts: string[] = [];
      for (let i = 0; i < 4; i++) {
        const { turn, notes } = await streamCall(model, hello);
        texts.push((await callError(turn)).message, ...notes);
      }
      assert.equal(texts.length, 6);
      for (const text of texts) assert.ok(!text.includes(KEY), `the key leaked into: ${text}`);
      assert.match(texts[1]!, /\[API key\] may not use this model/);
    });
  });

  describe('cancellation', () => {
    it('cancels a slow stream when the signal aborts: the call rejects with the reason and the connection closes', async () => {
      server.reply({ fault: 'stall', text: 'thinking' });
      const model = await open();
      const controller = new AbortController();
      let firstText!: () => void;
      const started = new Promise<void>((resolve) => (firstText = resolve));
      const turn = model.chat(hello, { signal: controller.signal, onText: () => firstText() });
      await started;
      const reason = new Error('timeout');
      controller.abort(reason);
      assert.equal(await rejection(turn), reason);
      await server.calls()[0]!.closed;
    });

    it('cancels a whole (non-streamed) answer that never completes', async () => {
      server.reply({ fault: 'stall' });
      const controller = new AbortController();
      const turn = (await open()).chat(hello, { signal: controller.signal });
      await server.waitForCalls(1);
      const reason = new Error('cancelled');
      controller.abort(reason);
      assert.equal(await rejection(turn), reason);
      await server.calls()[0]!.closed;
    });

    it('does not retry once the signal aborts during the wait', async () => {
      const controller = new AbortController();
      const reason = new Error('cancelled by the user');
      server.reply({ status: 503 }, { text: 'never asked for' });
      const model = await kit.module({ retry: { sleep: (_ms, signal) => (controller.abort(reason), Promise.reject(signal.reason)) } }).open(instrumentFor(kit.provider, server.url), providerContext(), KEY);
      assert.equal(await rejection(model.chat(hello, { signal: controller.signal, onText: () => undefined })), reason);
      assert.equal(server.calls().length, 1);
    });

    it('sends nothing when the signal has already aborted', async () => {
      const controller = new AbortController();
      controller.abort(new Error('too late'));
      const model = await open();
      assert.match(String(await rejection(model.chat(hello, { signal: controller.signal }))), /too late/);
      assert.equal(server.calls().length, 0);
    });
  });

  describe('check', () => {
    const check = (baseUrl: string, model: Partial<ModelSpec> = {}, key: string | undefined = KEY) =>
      kit.module().check(instrumentFor(kit.provider, baseUrl, model), providerContext(), key);

    it('is reachable when the server lists the model, and sends the key', async () => {
      const result = await check(server.url);
      assert.deepEqual(result, { reachable: true, detail: `${kit.provider} at ${server.url} answers and lists model test-model` });
      assert.equal(kit.keyOf(server.requests[0]!), KEY);
      assert.equal(server.calls().length, 0, 'a check makes no model call');
    });

    it('is not reachable when the server does not list the model, naming the nearest ones first', async () => {
      server.models = ['zeta', 'test-modle', 'alpha', 'test-model-large'];
      const result = await check(server.url, { id: 'test-model' });
      assert.deepEqual(result, { reachable: false, detail: `the server at ${server.url} does not list model test-model; it has: test-modle, test-model-large, zeta, alpha` });
    });

    it('says the key was refused', async () => {
      const result = await check(server.url, {}, 'sk-wrong');
      assert.equal(result.reachable, false);
      assert.match(result.detail, new RegExp(`^the API key in ${KEY_ENV} was refused \\(401 from ${server.host}\\)`));
      assert.ok(!result.detail.includes('sk-wrong'));
    });

    it('says nothing answers when no server runs', async () => {
      const baseUrl = `http://127.0.0.1:${await closedPort()}/v1`;
      assert.deepEqual(await check(baseUrl), { reachable: false, detail: `nothing answers at ${baseUrl} — is Ollama / LM Studio / the server running?` });
    });

    it('says when the URL serves no API', async () => {
      const result = await check(server.url.replace(/\/v1$/, '/api'));
      assert.equal(result.reachable, false);
      assert.match(result.detail, /\/api\/models(\?limit=1000)? does not exist \(404 from 127\.0\.0\.1:\d+\) — check baseUrl/);
    });
  });
}

/** The body of the n-th model call a server received. */
export function callBody(server: ScriptedServer, n: number): any {
  const call = server.calls()[n];
  assert.ok(call, `the server saw no model call #${n}`);
  return call.body;
}
