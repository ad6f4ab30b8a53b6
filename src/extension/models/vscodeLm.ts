import type * as vscode from 'vscode';
import { z } from 'zod';
import type { ModelSpec } from '../../core/model/instrument';
import type { ModelInstrument, ProviderModule } from '../../core/providers/registry';
import { ModelCallError, ProviderUnavailableError, type ChatMessage, type ChatModel, type ChatRequest, type ToolCall } from '../../core/providers/types';

// No value import of `vscode`: the module takes the API by shape, so it is unit-tested
// with a vscode.lm-shaped adapter and runs for real in the extension host.

/** The parts of the `vscode` namespace this provider uses. */
export type LmApi = Pick<
  typeof vscode,
  'lm' | 'LanguageModelChatMessage' | 'LanguageModelTextPart' | 'LanguageModelToolCallPart' | 'LanguageModelToolResultPart' | 'CancellationTokenSource' | 'LanguageModelError'
>;

/** What to install or configure when VS Code has no language model to offer. */
export const NO_MODEL_HELP =
  'VS Code has no language model for it: install and sign in to an extension that provides one (GitHub Copilot Chat, for example), or give the instrument a fallback with provider openai-compatible (Ollama, OpenAI…), anthropic or local (a GGUF file) — see "Symphony: Check Models"';

/** Why Symphony asks for a model, shown in VS Code's consent prompt. */
const JUSTIFICATION = 'Symphony runs the instrument nodes of your melodies with this model.';

const selectorOf = (spec: ModelSpec): vscode.LanguageModelChatSelector => ({
  ...(spec.vendor ? { vendor: spec.vendor } : {}),
  ...(spec.family ? { family: spec.family } : {}),
  ...(spec.id ? { id: spec.id } : {}),
});

const describe = (spec: ModelSpec) => {
  const parts = [spec.vendor && `vendor ${spec.vendor}`, spec.family && `family ${spec.family}`, spec.id && `id ${spec.id}`].filter(Boolean);
  return parts.length ? `a model with ${parts.join(', ')}` : 'any model';
};

/**
 * `vscode-lm`: VS Code's Language Model API — models other extensions provide (Copilot and
 * others), selected by vendor, family and id. Streaming, tools (as LanguageModelChatTools)
 * and token counting are VS Code's. It reports no usage, so Symphony counts the tokens
 * with the model's own `countTokens`. VS Code asks the user's consent the first time; a
 * refusal, and "no model", end the node with what to do, and the fallback chain moves on.
 */
export function vscodeLmProvider(api: LmApi): ProviderModule {
  const select = async (instrument: ModelInstrument): Promise<vscode.LanguageModelChat> => {
    const [chat] = await api.lm.selectChatModels(selectorOf(instrument.model));
    if (!chat) throw new ProviderUnavailableError(`instrument ${instrument.ref} asks VS Code for ${describe(instrument.model)}, and ${NO_MODEL_HELP}`);
    return chat;
  };
  return {
    async open(instrument) {
      return lmChatModel(api, instrument, await select(instrument));
    },
    async check(instrument) {
      const models = await api.lm.selectChatModels(selectorOf(instrument.model));
      if (!models.length) {
        const any = await api.lm.selectChatModels({});
        const offered = any.map((m) => `${m.vendor}/${m.family} (${m.id})`).join(', ');
        return { reachable: false, detail: offered ? `VS Code has no ${describe(instrument.model)}; it offers ${offered}` : `no language model in VS Code: ${NO_MODEL_HELP}` };
      }
      const m = models[0]!;
      return { reachable: true, detail: `${m.name} (${m.vendor}/${m.family}, ${m.maxInputTokens.toLocaleString('en-US')} input tokens) — VS Code asks your consent on the first call` };
    },
  };
}

function lmChatModel(api: LmApi, instrument: ModelInstrument, chat: vscode.LanguageModelChat): ChatModel {
  const withToken = async <T>(signal: AbortSignal, run: (token: vscode.CancellationToken) => Thenable<T>): Promise<T> => {
    const source = new api.CancellationTokenSource();
    const cancel = () => source.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    try {
      return await run(source.token);
    } finally {
      signal.removeEventListener('abort', cancel);
      source.dispose();
    }
  };
  return {
    provider: 'vscode-lm',
    id: chat.id,
    countTokens: (text, signal) => withToken(signal, (token) => chat.countTokens(text, token)),
    async chat(request, options) {
      const messages = toLmMessages(api, request);
      const tools = request.tools?.map((t) => ({ name: t.name, description: t.description, inputSchema: z.toJSONSchema(t.inputSchema) as object }));
      let text = '';
      const toolCalls: ToolCall[] = [];
      try {
        await withToken(options.signal, async (token) => {
          const response = await chat.sendRequest(messages, { justification: JUSTIFICATION, ...(tools?.length ? { tools } : {}) }, token);
          for await (const part of response.stream) {
            options.signal.throwIfAborted();
            if (part instanceof api.LanguageModelTextPart) {
              text += part.value;
              options.onText?.(part.value);
            } else if (part instanceof api.LanguageModelToolCallPart) {
              toolCalls.push({ id: part.callId, name: part.name, input: part.input });
            }
          }
          // A cancelled request may end its stream quietly; it still did not answer.
          options.signal.throwIfAborted();
        });
      } catch (e) {
        options.signal.throwIfAborted();
        throw lmError(api, instrument, e);
      }
      return { text, toolCalls, model: chat.id, finishReason: toolCalls.length ? 'tool-calls' : 'stop' };
    },
  };
}

/**
 * The conversation as VS Code messages. The stable API has no system role: the system
 * prompt opens the first user message. JSON is asked for in words.
 */
function toLmMessages(api: LmApi, request: ChatRequest): vscode.LanguageModelChatMessage[] {
  const preface = [request.system, request.json ? 'Answer with one JSON object and nothing else.' : undefined].filter(Boolean).join('\n\n');
  let prefaced = !preface;
  const out: vscode.LanguageModelChatMessage[] = [];
  for (const m of request.messages as readonly ChatMessage[]) {
    if (m.role === 'user') {
      out.push(api.LanguageModelChatMessage.User(prefaced ? m.text : `${preface}\n\n${m.text}`));
      prefaced = true;
    } else if (m.role === 'assistant') {
      const parts: (vscode.LanguageModelTextPart | vscode.LanguageModelToolCallPart)[] = [];
      if (m.text) parts.push(new api.LanguageModelTextPart(m.text));
      for (const c of m.toolCalls ?? []) parts.push(new api.LanguageModelToolCallPart(c.id, c.name, typeof c.input === 'object' && c.input !== null ? c.input : { value: c.input }));
      out.push(api.LanguageModelChatMessage.Assistant(parts));
    } else {
      out.push(api.LanguageModelChatMessage.User(m.results.map((r) => new api.LanguageModelToolResultPart(r.callId, [new api.LanguageModelTextPart(r.isError ? `Error: ${r.output}` : r.output)]))));
    }
  }
  return out;
}

/** VS Code's errors in words a person can act on; a refused consent moves on to the fallback. */
function lmError(api: LmApi, instrument: ModelInstrument, e: unknown): Error {
  if (e instanceof api.LanguageModelError) {
    if (e.code === 'NoPermissions') return new ProviderUnavailableError(`instrument ${instrument.ref}: Symphony may not use this VS Code language model — the consent prompt was declined; run the melody again and allow it, or manage access in the Accounts menu (${e.message})`);
    if (e.code === 'Blocked') return new ModelCallError(`instrument ${instrument.ref}: the language model refused the request as blocked (quota or policy): ${e.message}`, { retryable: true });
    if (e.code === 'NotFound') return new ProviderUnavailableError(`instrument ${instrument.ref}: the language model is gone (${e.message}); ${NO_MODEL_HELP}`);
    return new ModelCallError(`instrument ${instrument.ref}: the language model failed: ${e.message}`, { retryable: true, cause: e });
  }
  return new ModelCallError(`instrument ${instrument.ref}: the language model failed: ${(e as Error)?.message ?? String(e)}`, { retryable: true, cause: e });
}
