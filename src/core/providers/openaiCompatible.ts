import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { aiSdkChatModel, checkModelList, type AiSdkProviderOptions } from './aiSdk';
import type { Endpoint } from './errors';
import { apiKeyName, type ModelInstrument, type ProviderModule } from './registry';
import { ProviderUnavailableError } from './types';

/**
 * The `openai-compatible` provider: OpenAI itself and every server that speaks its chat
 * completions API — Ollama, LM Studio, vLLM, llama.cpp's server, OpenRouter. Streaming
 * reports usage (`stream_options.include_usage`); `json` asks for `response_format`
 * `json_object`, or `json_schema` (not strict: user schemas rarely meet OpenAI's strict
 * subset) when the request has a schema.
 */

/** Where calls go when the instrument names no `baseUrl`. */
export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

function endpointOf(instrument: ModelInstrument, apiKey: string | undefined): Endpoint & { readonly modelId: string } {
  const spec = instrument.model;
  if (!spec.id) throw new ProviderUnavailableError(`instrument ${instrument.ref} names no model id; an openai-compatible model needs one, e.g. "gpt-4o-mini" or "llama3.1"`);
  return {
    provider: 'openai-compatible',
    baseUrl: (spec.baseUrl ?? OPENAI_BASE_URL).replace(/\/+$/, ''),
    modelId: spec.id,
    keyName: apiKeyName(spec),
    apiKey,
    answerKind: 'an OpenAI chat completion',
  };
}

/** The provider, with its retry behaviour given (`openAiCompatibleProvider` is the default one). */
export function createOpenAiCompatibleProvider(options: AiSdkProviderOptions = {}): ProviderModule {
  return {
    open(instrument, _ctx, apiKey) {
      const endpoint = endpointOf(instrument, apiKey);
      const provider = createOpenAICompatible({
        name: 'openai-compatible',
        baseURL: endpoint.baseUrl,
        ...(apiKey ? { apiKey } : {}),
        includeUsage: true,
        supportsStructuredOutputs: true,
      });
      return Promise.resolve(
        aiSdkChatModel({
          provider: 'openai-compatible',
          spec: { ...instrument.model, id: endpoint.modelId },
          model: provider.chatModel(endpoint.modelId),
          endpoint,
          jsonOnTheWire: true,
          providerOptions: { openaiCompatible: { strictJsonSchema: false } },
          retry: options.retry,
        }),
      );
    },
    async check(instrument, ctx, apiKey) {
      let endpoint: Endpoint;
      try {
        endpoint = endpointOf(instrument, apiKey);
      } catch (e) {
        return { reachable: false, detail: (e as Error).message };
      }
      return checkModelList({
        url: `${endpoint.baseUrl}/models`,
        headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
        endpoint,
        signal: ctx.signal,
      });
    },
  };
}

/** The `openai-compatible` provider. */
export const openAiCompatibleProvider: ProviderModule = createOpenAiCompatibleProvider();
