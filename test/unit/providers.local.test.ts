// The local provider reads these on first use: one llama.cpp thread (threads busy-wait, so
// one is fastest on a shared machine), never a GPU, never a download.
process.env.SYMPHONY_LLAMA_THREADS = '1';
process.env.NODE_LLAMA_CPP_GPU = 'false';
process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = 'true';

import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { streamText } from 'ai';
import { build } from 'esbuild';
import { z } from 'zod';
import { localModelStats, localProvider, localRuntimeStatus, resolveModelPath, type LocalChatModel } from '../../src/core/providers/local';
import { actionSchema, grammarSchema, parseAction, worstCaseTokens } from '../../src/core/providers/localJson';
import type { ModelInstrument } from '../../src/core/providers/registry';
import { ModelCallError, ProviderUnavailableError, type ChatRequest, type ChatTurn, type ToolDefinition } from '../../src/core/providers/types';
import { REPO, tempDir } from './helpers';
import { writeTinyGguf } from './support/gguf';
import { startLlamaServer, type LlamaServer } from './support/llamaServer';

/**
 * The local provider on a real llama.cpp runtime and a tiny GGUF with random weights that
 * the tests write themselves. The text is nonsense, so every assertion is about structure,
 * token counts and protocol — never about what the model says.
 */

function instrument(path: string, extra: { contextWindow?: number } = {}): ModelInstrument {
  return { ref: 'tests/tiny', id: 'tiny', ensemble: 'tests', file: 'ensembles/tests/tiny.yaml', nickname: 'Tiny', kind: 'model', concurrency: 1, model: { provider: 'local', path, ...extra } };
}

const never = new AbortController().signal;
const BOUNDED = z.strictObject({ name: z.string().max(12), ok: z.boolean(), kind: z.enum(['major', 'minor']), tags: z.array(z.string().max(5)).max(3) });
const TOOLS: ToolDefinition[] = [
  { name: 'read_file', description: 'Reads a file of the workspace.', inputSchema: z.strictObject({ path: z.string().max(24) }) },
  { name: 'set_flag', description: 'Sets a flag.', inputSchema: z.strictObject({ flag: z.enum(['red', 'green']), on: z.boolean() }) },
];
const ask = (text: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({ system: 'You are terse.', messages: [{ role: 'user', text }], ...extra });

/** A well-formed answer: a tool call of a listed tool with an object input valid for its schema, or text. */
function assertTurnShape(turn: ChatTurn, tools: readonly ToolDefinition[]) {
  if (turn.toolCalls.length) {
    assert.equal(turn.finishReason, 'tool-calls');
    for (const call of turn.toolCalls) {
      const tool = tools.find((t) => t.name === call.name);
      assert.ok(tool, `a listed tool: ${call.name}`);
      assert.ok(typeof call.input === 'object' && call.input !== null && !Array.isArray(call.input));
      assert.ok(tool.inputSchema.safeParse(call.input).success, JSON.stringify(call.input));
      assert.match(call.id, /^call_\w+$/);
    }
  } else {
    assert.equal(typeof turn.text, 'string');
    assert.ok(['stop', 'length'].includes(turn.finishReason), turn.finishReason);
  }
}

describe('local provider (llama.cpp on a tiny GGUF)', function () {
  this.timeout(60_000);
  let root: string;
  let model: LocalChatModel;

  before(async () => {
    root = tempDir('symphony-local-');
    writeTinyGguf(join(root, 'models', 'tiny.gguf'));
    model = (await localProvider.open(instrument('models/tiny.gguf'), { signal: never, workspaceRoot: root, addSecret: () => undefined }, undefined)) as LocalChatModel;
  });

  it('says the runtime is installed', async () => {
    const status = await localRuntimeStatus();
    assert.equal(status.installed, true, status.detail);
    assert.match(status.detail, /node-llama-cpp 3\.21\.1/);
  });

  it('streams the answer in chunks that add up to its text, and counts the tokens it evaluated and generated', async () => {
    const chunks: string[] = [];
    const request = ask('Say hello to the world.', { maxTokens: 32, temperature: 0 });
    const turn = await model.chat(request, { signal: never, onText: (c) => chunks.push(c) });
    assert.ok(chunks.length > 1, `${chunks.length} chunks`);
    assert.equal(chunks.join(''), turn.text);
    assert.deepEqual(turn.toolCalls, []);
    assert.equal(turn.model, 'tiny');
    const prompt = await model.prompt(request);
    assert.equal(turn.usage?.input, prompt.tokens);
    // The prompt as the runtime evaluated it: the template's BOS token, then plain text.
    assert.ok(prompt.text.startsWith('<s>') && prompt.text.includes('You are terse.') && prompt.text.includes('Say hello to the world.'), prompt.text);
    assert.equal(await model.countTokens(prompt.text.slice('<s>'.length), never), prompt.tokens - 1);
    assert.ok(turn.usage!.output >= 1 && turn.usage!.output <= 32, `${turn.usage!.output} output tokens`);
    // Greedy decoding of this model never picks end-of-text: it is cut at maxTokens.
    assert.equal(turn.finishReason, 'length');
    assert.equal(turn.usage!.output, 32);
  });

  it('counts tokens with the model’s own tokenizer', async () => {
    assert.equal(await model.countTokens('', never), 0);
    const short = await model.countTokens('hello', never);
    const long = await model.countTokens('hello hello hello', never);
    assert.ok(short >= 1 && long > short, `${short} < ${long}`);
  });

  it('stops at a small maxTokens with finishReason length', async () => {
    for (const temperature of [0, 1]) {
      const turn = await model.chat(ask('Tell me a long story.', { maxTokens: 3, temperature }), { signal: never });
      assert.ok(turn.usage!.output <= 3);
      if (turn.usage!.output === 3) assert.equal(turn.finishReason, 'length');
    }
  });

  it('fails a tool call cut at maxTokens, with what the answer cost (it is charged all the same)', async () => {
    // A free-text argument leaves the grammar unbounded, so maxTokens is not raised for it.
    const unbounded = [{ name: 'read_file', description: 'Reads a workspace file.', inputSchema: z.object({ path: z.string() }) }];
    await assert.rejects(
      model.chat(ask('Use a tool.', { tools: unbounded, temperature: 0, maxTokens: 2 }), { signal: never }),
      (e) => e instanceof ModelCallError && /cut off at maxTokens/.test(e.message) && e.usage!.input > 0 && e.usage!.output >= 1 && e.usage!.output <= 2,
    );
  });

  it('constrains JSON to a bounded schema at any temperature', async () => {
    const schema = z.toJSONSchema(BOUNDED) as Record<string, unknown>;
    for (const temperature of [0, 0.6, 1.2, 1.8]) {
      const chunks: string[] = [];
      const turn = await model.chat(ask('Describe the release as JSON.', { json: { schema }, temperature, maxTokens: 8 }), { signal: never, onText: (c) => chunks.push(c) });
      assert.equal(turn.finishReason, 'stop', `temperature ${temperature}: ${turn.text}`);
      assert.equal(chunks.join(''), turn.text);
      const parsed = BOUNDED.safeParse(JSON.parse(turn.text));
      assert.ok(parsed.success, `temperature ${temperature}: ${turn.text}`);
      // maxTokens 8 was raised to the grammar's worst case, so the JSON is never cut.
      assert.ok(turn.usage!.output > 8 && turn.usage!.output <= worstCaseTokens(grammarSchema(schema)));
    }
  });

  it('answers JSON without a schema with an object, or is cut at maxTokens', async () => {
    const turn = await model.chat(ask('Any JSON object.', { json: {}, temperature: 0.7, maxTokens: 120 }), { signal: never });
    if (turn.finishReason === 'stop') assert.equal(typeof JSON.parse(turn.text), 'object');
    else assert.equal(turn.finishReason, 'length');
  });

  it('with tools, answers with a well-formed call of a listed tool or with text', async () => {
    for (const temperature of [0, 0.7, 1.4]) {
      const turn = await model.chat(ask('Read the README, then set the green flag.', { tools: TOOLS, temperature, maxTokens: 48 }), { signal: never });
      assertTurnShape(turn, TOOLS);
      assert.ok(turn.usage!.input > 0 && turn.usage!.output > 0);
    }
    const followUp = await model.chat(
      {
        messages: [
          { role: 'user', text: 'Read the README.' },
          { role: 'assistant', text: '', toolCalls: [{ id: 'call_1', name: 'read_file', input: { path: 'README.md' } }] },
          { role: 'tool', results: [{ callId: 'call_1', name: 'read_file', output: '# Symphony', isError: false }] },
        ],
        tools: TOOLS,
        temperature: 0.5,
        maxTokens: 48,
      },
      { signal: never },
    );
    assertTurnShape(followUp, TOOLS);
  });

  it('makes real tool calls: models of other seeds choose tools, greedily and reproducibly', async () => {
    const calls: string[] = [];
    for (const seed of [2, 5]) {
      writeTinyGguf(join(root, 'seeds', `${seed}.gguf`), { seed });
      const seeded = await localProvider.open(instrument(`seeds/${seed}.gguf`), { signal: never, workspaceRoot: root, addSecret: () => undefined }, undefined);
      const turn = await seeded.chat(ask('Use a tool.', { tools: TOOLS, temperature: 0, maxTokens: 48 }), { signal: never });
      assertTurnShape(turn, TOOLS);
      calls.push(...turn.toolCalls.map((c) => c.name));
    }
    // Which tool, if any, is the weights' whim; that some greedy answer calls one is not
    // (seeds 2 and 5 do, greedily, on this vocabulary), so the path from grammar to ToolCall is exercised.
    assert.ok(calls.length > 0, 'no seed called a tool');
  });

  it('prompts a model without a chat template in the format node-llama-cpp picks for its architecture', async () => {
    writeTinyGguf(join(root, 'plain', 'tiny.gguf'), { chatTemplate: false });
    const plain = (await localProvider.open(instrument('plain/tiny.gguf'), { signal: never, workspaceRoot: root, addSecret: () => undefined }, undefined)) as LocalChatModel;
    const request = ask('Say hello.', { maxTokens: 8, temperature: 0 });
    const prompt = await plain.prompt(request);
    assert.match(prompt.text, /^<s>\[INST\] <<SYS>>\nYou are terse\.\n<<\/SYS>>\n\nSay hello\. \[\/INST\]/); // Llama 2's, for a llama model
    const turn = await plain.chat(request, { signal: never });
    assert.deepEqual(turn.usage, { input: prompt.tokens, output: 8 });
  });

  it('rejects promptly when the call is aborted mid-generation', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled by the test');
    let abortedAt = 0;
    const call = model.chat(ask('Go on forever.', { maxTokens: 3000, temperature: 0 }), {
      signal: controller.signal,
      onText: () => {
        if (abortedAt) return;
        abortedAt = Date.now();
        controller.abort(reason);
      },
    });
    await assert.rejects(call, (e) => e === reason);
    assert.ok(Date.now() - abortedAt < 1000, `${Date.now() - abortedAt} ms after the abort`);
    const before = new AbortController();
    before.abort(reason);
    await assert.rejects(model.chat(ask('x'), { signal: before.signal }), (e) => e === reason);
  });

  it('refuses a prompt longer than the context window', async () => {
    const small = await localProvider.open(instrument('models/tiny.gguf', { contextWindow: 64 }), { signal: never, workspaceRoot: root, addSecret: () => undefined }, undefined);
    await assert.rejects(small.chat(ask('word '.repeat(100)), { signal: never }), (e) => e instanceof ModelCallError && !e.retryable && /reads at most 64/.test(e.message));
  });

  it('keeps a loaded model: the same file is not loaded again, a changed one is', async () => {
    const loads = localModelStats().loads;
    const ctx = { signal: never, workspaceRoot: root, addSecret: () => undefined };
    const again = await localProvider.open(instrument(join(root, 'models', 'tiny.gguf')), ctx, undefined);
    await again.chat(ask('hi', { maxTokens: 2 }), { signal: never });
    await model.countTokens('hi', never);
    assert.equal(localModelStats().loads, loads);
    assert.ok(localModelStats().loaded.includes(join(root, 'models', 'tiny.gguf')));
    const future = new Date(Date.now() + 60_000);
    utimesSync(join(root, 'models', 'tiny.gguf'), future, future);
    await again.countTokens('hi', never);
    assert.equal(localModelStats().loads, loads + 1);
    assert.equal(localModelStats().loaded.filter((p) => p === join(root, 'models', 'tiny.gguf')).length, 1, 'the old version is gone');
  });

  describe('model files', () => {
    const ctx = () => ({ signal: never, workspaceRoot: root, addSecret: () => undefined });
    before(() => mkdirSync(join(root, 'other'), { recursive: true }));

    it('takes relative paths from the workspace root, ~ from the home folder', () => {
      assert.equal(resolveModelPath('models/a.gguf', '/ws'), join('/ws', 'models', 'a.gguf'));
      assert.equal(resolveModelPath('/abs/a.gguf', '/ws'), '/abs/a.gguf');
      assert.equal(resolveModelPath('~/m/a.gguf', '/ws'), join(homedir(), 'm', 'a.gguf'));
      assert.equal(resolveModelPath('~', '/ws'), homedir());
    });

    it('opens a model under ~', async () => {
      const home = process.env.HOME;
      process.env.HOME = root; // os.homedir() reads HOME
      try {
        const turn = await (await localProvider.open(instrument('~/models/tiny.gguf'), ctx(), undefined)).chat(ask('hi', { maxTokens: 2 }), { signal: never });
        assert.equal(turn.usage?.output, 2);
      } finally {
        process.env.HOME = home;
      }
    });

    it('is unavailable when the file is missing, with the path and the instrument', async () => {
      await assert.rejects(localProvider.open(instrument('models/none.gguf'), ctx(), undefined), (e) => {
        assert.ok(e instanceof ProviderUnavailableError);
        assert.match(e.message, /^no GGUF model at .*models\/none\.gguf \(model\.path "models\/none\.gguf" of tests\/tiny\)/);
        return true;
      });
      const check = await localProvider.check(instrument('models/none.gguf'), ctx(), undefined);
      assert.equal(check.reachable, false);
      assert.match(check.detail, /no GGUF model at/);
    });

    it('says a file that is not GGUF is not, and what it starts with', async () => {
      writeFileSync(join(root, 'other', 'notes.gguf'), 'hello, I am text');
      writeFileSync(join(root, 'other', 'elf.gguf'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02]));
      await assert.rejects(localProvider.open(instrument('other/notes.gguf'), ctx(), undefined), (e) => e instanceof ProviderUnavailableError && /is not a GGUF file \(it starts with "hell"/.test(e.message));
      await assert.rejects(localProvider.open(instrument('other/elf.gguf'), ctx(), undefined), /it starts with 0x7f 0x45 0x4c 0x46/);
    });

    it('refuses GGUF headers llama.cpp cannot read, and says why llama.cpp could not load a file', async () => {
      const write = (name: string, bytes: Buffer) => writeFileSync(join(root, 'other', name), bytes);
      write('v9.gguf', Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(20, 0xff)]));
      await assert.rejects(localProvider.open(instrument('other/v9.gguf'), ctx(), undefined), (e) => e instanceof ProviderUnavailableError && /is GGUF version 4294967295, which llama\.cpp does not read/.test(e.message));
      const tiny = readFileSync(join(root, 'models', 'tiny.gguf'));
      write('header.gguf', tiny.subarray(0, 200));
      await assert.rejects(localProvider.open(instrument('other/header.gguf'), ctx(), undefined), /is not a complete GGUF file: its header announces 12 tensors and 25 metadata entries, more than its 200 bytes can hold/);
      write('cut.gguf', tiny.subarray(0, tiny.length - 100));
      await assert.rejects(localProvider.open(instrument('other/cut.gguf'), ctx(), undefined), (e) => e instanceof ProviderUnavailableError && /could not load the GGUF model at .*cut\.gguf .*: tensor 'output\.weight' data is not within the file bounds/.test(e.message));
    });

    it('checks a model: its name, size and context', async () => {
      const check = await localProvider.check(instrument('models/tiny.gguf'), ctx(), undefined);
      assert.equal(check.reachable, true, check.detail);
      assert.match(check.detail, /^symphony-tiny \(.*KB, trained context 4096, 4096 used\)/);
    });
  });

  describe('behind an OpenAI-compatible server', () => {
    let server: LlamaServer;
    before(async () => {
      server = await startLlamaServer(join(root, 'models', 'tiny.gguf'));
    });
    after(() => server.close());

    const post = (body: object) => fetch(`${server.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: server.model, ...body }) });
    const messages = [{ role: 'user', content: 'Say hello.' }];

    /** The `data:` events of a server-sent event stream, up to `[DONE]`. */
    async function events(res: Response): Promise<Record<string, any>[]> {
      const lines = (await res.text()).split('\n\n').filter(Boolean);
      assert.equal(lines.pop(), 'data: [DONE]');
      return lines.map((l) => JSON.parse(l.replace(/^data: /, '')) as Record<string, any>);
    }

    it('lists its model and answers plainly and streamed alike', async () => {
      const models = (await (await fetch(`${server.baseUrl}/models`)).json()) as { data: { id: string }[] };
      assert.deepEqual(models.data.map((m) => m.id), ['tiny']);
      const plain = (await (await post({ messages, max_tokens: 16, temperature: 0 })).json()) as Record<string, any>;
      const choice = plain.choices[0];
      assert.equal(typeof choice.message.content, 'string');
      assert.equal(choice.finish_reason, 'length');
      assert.equal(plain.usage.completion_tokens, 16);
      assert.equal(plain.usage.total_tokens, plain.usage.prompt_tokens + 16);

      const streamed = await post({ messages, max_tokens: 16, temperature: 0, stream: true, stream_options: { include_usage: true } });
      assert.match(streamed.headers.get('content-type') ?? '', /text\/event-stream/);
      const chunks = await events(streamed);
      const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
      // Greedy decoding on one thread is deterministic: the stream says what the plain answer said.
      assert.equal(text, choice.message.content);
      assert.ok(chunks.filter((c) => c.choices[0]?.delta?.content).length > 1);
      assert.equal(chunks.at(-2)!.choices[0].finish_reason, 'length');
      assert.deepEqual(chunks.at(-1)!.choices, []);
      assert.deepEqual(chunks.at(-1)!.usage, plain.usage);
    });

    it('constrains response_format json_schema', async () => {
      const schema = z.toJSONSchema(BOUNDED);
      const res = (await (await post({ messages, temperature: 1, response_format: { type: 'json_schema', json_schema: { name: 'release', schema, strict: true } } })).json()) as Record<string, any>;
      assert.ok(BOUNDED.safeParse(JSON.parse(res.choices[0].message.content)).success, res.choices[0].message.content);
    });

    it('returns tool calls as tool_calls, or text', async () => {
      const tools = TOOLS.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: z.toJSONSchema(t.inputSchema) } }));
      for (const temperature of [0.3, 1.2]) {
        const res = (await (await post({ messages, tools, temperature, max_tokens: 48 })).json()) as Record<string, any>;
        const { message, finish_reason } = res.choices[0];
        if (message.tool_calls) {
          assert.equal(finish_reason, 'tool_calls');
          assert.equal(message.content, null);
          for (const call of message.tool_calls) {
            assert.equal(call.type, 'function');
            assert.ok(TOOLS.some((t) => t.name === call.function.name && t.inputSchema.safeParse(JSON.parse(call.function.arguments)).success), JSON.stringify(call));
          }
        } else assert.equal(typeof message.content, 'string');
      }
      const chunks = await events(await post({ messages, tools, temperature: 0.8, max_tokens: 48, stream: true }));
      const last = chunks.at(-1)!;
      assert.ok(['tool_calls', 'stop', 'length'].includes(last.choices[0].finish_reason));
      assert.equal(last.usage.total_tokens, last.usage.prompt_tokens + last.usage.completion_tokens);
      const calls = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
      assert.equal(calls.length > 0, last.choices[0].finish_reason === 'tool_calls');
      for (const call of calls) assert.ok(TOOLS.some((t) => t.name === call.function.name) && typeof JSON.parse(call.function.arguments) === 'object');
    });

    it('is driven by the AI SDK’s OpenAI-compatible client', async () => {
      const provider = createOpenAICompatible({ name: 'tiny', baseURL: server.baseUrl, includeUsage: true });
      const result = streamText({ model: provider(server.model), prompt: 'Say hello.', maxOutputTokens: 12, temperature: 0 });
      const parts: string[] = [];
      for await (const part of result.textStream) parts.push(part);
      assert.ok(parts.length > 1);
      assert.equal(parts.join(''), await result.text);
      const usage = await result.usage;
      assert.equal(usage.outputTokens, 12);
      assert.ok((usage.inputTokens ?? 0) > 0);
      assert.equal(await result.finishReason, 'length');
    });
  });
});

describe('local provider in a CommonJS bundle', function () {
  this.timeout(60_000);

  it('keeps node-llama-cpp a real dynamic import that loads from the bundle', async () => {
    // As esbuild.mjs bundles the extension and the CLI: CommonJS for Node 20, node-llama-cpp external.
    const outfile = join(REPO, 'out', 'test', 'localProvider.cjs');
    await build({ entryPoints: [join(REPO, 'src/core/providers/local.ts')], outfile, bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['node-llama-cpp'], logLevel: 'silent' });
    const code = readFileSync(outfile, 'utf8');
    // Through importEsm.ts, whose `import()` is a real one (the CLI keeps that module beside its bundle).
    assert.match(code, /await importEsm\("node-llama-cpp"\)/);
    assert.match(code, /function importEsm\(specifier\) \{\s*return import\(specifier\);/);
    assert.doesNotMatch(code, /require\("node-llama-cpp"\)/);
    const script = `require(${JSON.stringify(outfile)}).localRuntimeStatus().then((s) => process.stdout.write(JSON.stringify(s)))`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { env: { ...process.env, SYMPHONY_LLAMA_THREADS: '1' } });
    const status = JSON.parse(stdout) as { installed: boolean; detail: string };
    assert.equal(status.installed, true, status.detail);
  });
});

describe('local provider JSON grammars (pure)', () => {
  it('maps JSON Schema onto the grammar’s subset', () => {
    assert.deepEqual(grammarSchema({ anyOf: [{ type: 'string', maxLength: 3, pattern: 'x' }, { type: 'null' }] }), { oneOf: [{ type: 'string', maxLength: 3 }, { type: 'null' }] });
    assert.deepEqual(grammarSchema({ type: ['integer', 'null'] }), { oneOf: [{ type: 'integer' }, { type: 'null' }] });
    // Listed properties are all written, and no others unless the schema gives them a schema.
    assert.deepEqual(grammarSchema({ type: 'object', properties: { a: { type: 'boolean' } }, additionalProperties: {} }), { type: 'object', properties: { a: { type: 'boolean' } }, additionalProperties: false });
    assert.deepEqual(grammarSchema({ type: 'object' }), { type: 'object', additionalProperties: true });
    assert.deepEqual(grammarSchema({ $defs: { n: { type: 'number', minimum: 1 } }, type: 'array', items: { $ref: '#/$defs/n' }, maxItems: 2 }), {
      type: 'array',
      items: { $ref: '#/$defs/n' },
      maxItems: 2,
      $defs: { n: { type: 'number' } },
    });
  });

  it('bounds the tokens of bounded schemas, and only those', () => {
    const bounded = worstCaseTokens(grammarSchema(z.toJSONSchema(BOUNDED)));
    assert.ok(Number.isFinite(bounded) && bounded > 100 && bounded < 1000, String(bounded));
    assert.equal(worstCaseTokens(grammarSchema({ type: 'string' })), Infinity);
    assert.equal(worstCaseTokens(grammarSchema({ type: 'array', items: { type: 'boolean' } })), Infinity);
    assert.equal(worstCaseTokens(grammarSchema({ type: 'object' })), Infinity);
    assert.equal(worstCaseTokens(grammarSchema({ enum: ['a', 'bcd'] })), '"bcd"'.length + 4);
  });

  it('reads actions: a tool call, an answer, an answer cut short; a cut tool call is an error', () => {
    const action = actionSchema(TOOLS);
    assert.equal((action.oneOf as unknown[]).length, TOOLS.length + 1);
    const call = parseAction('{"tool": "set_flag", "arguments": {"flag": "red", "on": true}}', TOOLS, false, false);
    assert.ok(call.kind === 'tool' && call.call.name === 'set_flag');
    assert.deepEqual(call.call.input, { flag: 'red', on: true });
    assert.deepEqual(parseAction('{"answer": "done"}', TOOLS, false, false), { kind: 'answer', text: 'done', complete: true });
    assert.deepEqual(parseAction('{"answer": "line\\nnext \\u00', TOOLS, true, false), { kind: 'answer', text: 'line\nnext ', complete: false });
    assert.deepEqual(parseAction('{\n  "answer": "all" ', TOOLS, true, false), { kind: 'answer', text: 'all', complete: false });
    assert.throws(() => parseAction('{"tool": "read_file", "arguments": {"pa', TOOLS, true, true), (e) => e instanceof ModelCallError && e.retryable && /tool call was cut off at maxTokens/.test(e.message));
    assert.throws(() => parseAction('{"tool": "rm", "arguments": {}}', TOOLS, false, false), /neither a tool call of read_file, set_flag nor an answer/);
  });
});
