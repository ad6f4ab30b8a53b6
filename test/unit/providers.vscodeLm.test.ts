import * as assert from 'node:assert/strict';
import { z } from 'zod';
import { createModelProvider } from '../../src/core/providers/registry';
import { ProviderUnavailableError, ModelCallError, type ChatModel, type ProviderContext } from '../../src/core/providers/types';
import { NO_MODEL_HELP, vscodeLmProvider, type LmApi } from '../../src/extension/models/vscodeLm';
import { rejection, testInstrument } from './nodeContext';

/**
 * A vscode.lm-shaped adapter: the classes and the `lm` namespace the provider uses, with
 * chat models that stream scripted parts and record what they were sent.
 */
class TextPart {
  constructor(readonly value: string) {}
}
class ToolCallPart {
  constructor(
    readonly callId: string,
    readonly name: string,
    readonly input: object,
  ) {}
}
class ToolResultPart {
  constructor(
    readonly callId: string,
    readonly content: unknown[],
  ) {}
}
class Message {
  constructor(
    readonly role: 'user' | 'assistant',
    readonly content: unknown,
  ) {}
  static User(content: unknown) {
    return new Message('user', content);
  }
  static Assistant(content: unknown) {
    return new Message('assistant', content);
  }
}
class LmError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}
class TokenSource {
  cancelled = false;
  private listeners: (() => void)[] = [];
  readonly token = {
    get isCancellationRequested() {
      return false;
    },
    // As VS Code's: a listener added after cancellation is called at once.
    onCancellationRequested: (f: () => void) => {
      if (this.cancelled) f();
      else this.listeners.push(f);
      return { dispose: () => undefined };
    },
  };
  cancel() {
    this.cancelled = true;
    for (const f of this.listeners) f();
  }
  dispose() {}
}

interface FakeChat {
  id: string;
  name: string;
  vendor: string;
  family: string;
  maxInputTokens: number;
  sent: { messages: Message[]; options: { tools?: { name: string; inputSchema: object }[]; justification?: string } }[];
  sendRequest(messages: Message[], options: object, token: TokenSource['token']): Promise<{ stream: AsyncIterable<unknown> }>;
  countTokens(text: string): Promise<number>;
}

function fakeChat(script: (token: TokenSource['token']) => AsyncIterable<unknown> | Promise<never>, meta: Partial<FakeChat> = {}): FakeChat {
  const chat: FakeChat = {
    id: 'copilot-gpt-4o',
    name: 'GPT-4o',
    vendor: 'copilot',
    family: 'gpt-4o',
    maxInputTokens: 64000,
    sent: [],
    async sendRequest(messages, options, token) {
      chat.sent.push({ messages, options: options as FakeChat['sent'][0]['options'] });
      const stream = script(token);
      if (stream instanceof Promise) return stream;
      return { stream };
    },
    countTokens: async (text) => text.split(/\s+/).filter(Boolean).length,
    ...meta,
  };
  return chat;
}

function api(models: FakeChat[], seen: object[] = []): LmApi {
  return {
    lm: {
      selectChatModels: async (selector: { vendor?: string; family?: string; id?: string } = {}) => {
        seen.push(selector);
        return models.filter((m) => (!selector.vendor || m.vendor === selector.vendor) && (!selector.family || m.family === selector.family) && (!selector.id || m.id === selector.id));
      },
    },
    LanguageModelChatMessage: Message,
    LanguageModelTextPart: TextPart,
    LanguageModelToolCallPart: ToolCallPart,
    LanguageModelToolResultPart: ToolResultPart,
    CancellationTokenSource: TokenSource,
    LanguageModelError: LmError,
  } as unknown as LmApi;
}

const ctx: ProviderContext = { signal: new AbortController().signal, workspaceRoot: '/ws', addSecret: () => undefined };
const lmInstrument = (model: object = {}) => testInstrument({ model: { provider: 'vscode-lm', ...model } }) as Parameters<ReturnType<typeof vscodeLmProvider>['open']>[0];

async function* parts(...items: unknown[]) {
  for (const item of items) yield item;
}

describe('vscode-lm provider (with a vscode.lm-shaped adapter)', () => {
  it('selects by vendor and family, streams text parts and counts tokens with the model', async () => {
    const seen: object[] = [];
    const chat = fakeChat(() => parts(new TextPart('Hello '), new TextPart('there.')));
    const provider = vscodeLmProvider(api([chat], seen));
    const model = await provider.open(lmInstrument({ vendor: 'copilot', family: 'gpt-4o' }), ctx, undefined);
    const chunks: string[] = [];
    const turn = await model.chat({ system: 'Be kind.', messages: [{ role: 'user', text: 'Hi' }], json: {} }, { signal: new AbortController().signal, onText: (c) => chunks.push(c) });
    assert.deepEqual(seen[0], { vendor: 'copilot', family: 'gpt-4o' });
    assert.deepEqual(chunks, ['Hello ', 'there.']);
    assert.deepEqual(turn, { text: 'Hello there.', toolCalls: [], model: 'copilot-gpt-4o', finishReason: 'stop' });
    assert.equal(turn.usage, undefined, 'VS Code reports no usage: Symphony counts it');
    const [message] = chat.sent[0]!.messages;
    assert.equal(message!.role, 'user');
    assert.equal(message!.content, 'Be kind.\n\nAnswer with one JSON object and nothing else.\n\nHi');
    assert.match(chat.sent[0]!.options.justification!, /Symphony/);
    assert.equal(await model.countTokens('one two three', new AbortController().signal), 3);
  });

  it('offers tools as LanguageModelChatTools and sends tool calls and results back as parts', async () => {
    const chat = fakeChat(() => parts(new TextPart('Let me look.'), new ToolCallPart('call-1', 'read_file', { path: 'a.ts' })));
    const model: ChatModel = await vscodeLmProvider(api([chat])).open(lmInstrument(), ctx, undefined);
    const tools = [{ name: 'read_file', description: 'Read a file', inputSchema: z.object({ path: z.string() }) }];
    const turn = await model.chat({ messages: [{ role: 'user', text: 'Read a.ts' }], tools }, { signal: new AbortController().signal });
    assert.deepEqual(turn.toolCalls, [{ id: 'call-1', name: 'read_file', input: { path: 'a.ts' } }]);
    assert.equal(turn.finishReason, 'tool-calls');
    assert.deepEqual(chat.sent[0]!.options.tools![0]!.name, 'read_file');
    assert.equal((chat.sent[0]!.options.tools![0]!.inputSchema as { type: string }).type, 'object');

    await model
      .chat(
        {
          messages: [
            { role: 'user', text: 'Read a.ts' },
            { role: 'assistant', text: 'Let me look.', toolCalls: turn.toolCalls },
            { role: 'tool', results: [{ callId: 'call-1', name: 'read_file', output: 'no such file', isError: true }] },
          ],
          tools,
        },
        { signal: new AbortController().signal },
      )
      .catch(() => undefined);
    const [, assistant, results] = chat.sent[1]!.messages;
    assert.equal(assistant!.role, 'assistant');
    assert.deepEqual((assistant!.content as object[]).map((p) => p.constructor.name), ['TextPart', 'ToolCallPart']);
    const result = (results!.content as ToolResultPart[])[0]!;
    assert.equal(result.callId, 'call-1');
    assert.equal((result.content[0] as TextPart).value, 'Error: no such file');
  });

  it('says what to install when VS Code has no model, and lets the fallback chain move on', async () => {
    const provider = vscodeLmProvider(api([]));
    const e = await rejection(provider.open(lmInstrument({ family: 'gpt-4o' }), ctx, undefined));
    assert.ok(e instanceof ProviderUnavailableError, 'unavailable, so the engine tries the fallback');
    assert.equal(e.message, `instrument backend/database asks VS Code for a model with family gpt-4o, and ${NO_MODEL_HELP}`);
    assert.deepEqual(await provider.check(lmInstrument(), ctx, undefined), { reachable: false, detail: `no language model in VS Code: ${NO_MODEL_HELP}` });
    const other = vscodeLmProvider(api([fakeChat(() => parts())]));
    assert.deepEqual(await other.check(lmInstrument({ family: 'claude' }), ctx, undefined), { reachable: false, detail: 'VS Code has no a model with family claude; it offers copilot/gpt-4o (copilot-gpt-4o)' });
  });

  it('turns a declined consent into "unavailable" and other model errors into retryable failures', async () => {
    const declined = fakeChat(() => Promise.reject(new LmError('NoPermissions', 'the user declined')));
    const model = await vscodeLmProvider(api([declined])).open(lmInstrument(), ctx, undefined);
    const e = await rejection(model.chat({ messages: [{ role: 'user', text: 'x' }] }, { signal: new AbortController().signal }));
    assert.ok(e instanceof ProviderUnavailableError);
    assert.match(e.message, /consent prompt was declined/);
    const blocked = await vscodeLmProvider(api([fakeChat(() => Promise.reject(new LmError('Blocked', 'quota')))])).open(lmInstrument(), ctx, undefined);
    const b = await rejection(blocked.chat({ messages: [{ role: 'user', text: 'x' }] }, { signal: new AbortController().signal }));
    assert.ok(b instanceof ModelCallError);
    assert.equal(b.retryable, true);
  });

  it('cancels the request through a CancellationToken when the node is aborted', async () => {
    let cancelled = false;
    const chat = fakeChat((token) => ({
      async *[Symbol.asyncIterator]() {
        yield new TextPart('starting…');
        await new Promise<void>((r) => token.onCancellationRequested(() => ((cancelled = true), r())));
      },
    }));
    const model = await vscodeLmProvider(api([chat])).open(lmInstrument(), ctx, undefined);
    const controller = new AbortController();
    const running = model.chat({ messages: [{ role: 'user', text: 'x' }] }, { signal: controller.signal, onText: () => controller.abort(new Error('timeout')) });
    await rejection(running);
    assert.equal(cancelled, true);
  });

  it('is not available in the CLI: the registry says to use another provider there', async () => {
    const cli = createModelProvider({ apiKey: async () => undefined, howToSetKey: () => '' });
    const e = await rejection(cli.open(lmInstrument(), ctx));
    assert.ok(e instanceof ProviderUnavailableError);
    assert.match(e.message, /only exist inside VS Code; for the CLI give it a fallback with provider openai-compatible, anthropic or local/);
  });
});
