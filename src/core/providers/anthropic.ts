import { createAnthropic } from '@ai-sdk/anthropic';
import { aiSdkChatModel, checkModelList, type AiSdkProviderOptions } from './aiSdk';
import type { Endpoint } from './errors';
import { apiKeyName, type ModelInstrument, type ProviderModule } from './registry';
import { ProviderUnavailableError } from './types';

/**
 * The `anthropic` provider: Claude through the Messages API. Anthropic has no plain JSON
 * mode, so `json` is asked for in words (the system prompt) — the SDK's JSON-tool mode
 * would turn the answer into a forced tool call, which Symphony's tool loop must not see.
 */

/** Where calls go when the instrument names no `baseUrl`. */
export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com/v1';
/** The API version every request names. */
export const ANTHROPIC_VERSION = '2023-06-01';

function endpointOf(instrument: ModelInstrument, apiKey: string | undefined): Endpoint {
  const spec = instrument.model;
  if (!spec.id) throw new ProviderUnavailableError(`instrument ${instrument.ref} names no model id; an anthropic model needs one, e.g. "claude-sonnet-4-5"`);
  return {
    provider: 'anthropic',
    baseUrl: (spec.baseUrl ?? ANTHROPIC_BASE_URL).replace(/\/+$/, ''),
    modelId: spec.id,
    keyName: apiKeyName(spec),
    apiKey,
    answerKind: 'an Anthropic message',
  };
}

/** The provider, with its retry behaviour given (`anthropicProvider` is the default one). */
export function createAnthropicProvider(options: AiSdkProviderOptions = {}): ProviderModule {
  return {
    open(instrument, _ctx, apiKey) {
      const endpoint = endpointOf(instrument, apiKey);
      if (!apiKey) return Promise.reject(new ProviderUnavailableError(`instrument ${instrument.ref} needs an Anthropic API key in ${endpoint.keyName}`));
      // baseURL is always given, so ANTHROPIC_BASE_URL in the environment never redirects calls unseen.
      const provider = createAnthropic({ baseURL: endpoint.baseUrl, apiKey });
      return Promise.resolve(
        aiSdkChatModel({
          provider: 'anthropic',
          spec: { ...instrument.model, id: endpoint.modelId },
          model: provider.messages(endpoint.modelId),
          endpoint,
          jsonOnTheWire: false,
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
        url: `${endpoint.baseUrl}/models?limit=1000`,
        headers: { ...(apiKey ? { 'x-api-key': apiKey } : {}), 'anthropic-version': ANTHROPIC_VERSION },
        endpoint,
        signal: ctx.signal,
      });
    },
  };
}

/** The `anthropic` provider. */
export const anthropicProvider: ProviderModule = createAnthropicProvider();
