import type { Instrument, ModelSpec, ProviderName } from '../model/instrument';
import { apiKeyName } from './names';
import { localProvider } from './local';
import { ProviderUnavailableError, type ChatModel, type ModelCheck, type ModelProvider, type ProviderContext } from './types';

/** An instrument whose `model:` is set (kind: model). */
export type ModelInstrument = Instrument & { readonly model: ModelSpec };

/** One provider: how it opens and checks a model instrument, given the key it needs (if any). */
export interface ProviderModule {
  open(instrument: ModelInstrument, ctx: ProviderContext, apiKey: string | undefined): Promise<ChatModel>;
  check(instrument: ModelInstrument, ctx: ProviderContext, apiKey: string | undefined): Promise<ModelCheck>;
}

/**
 * Provider modules by name, each got on first use. The modules themselves are small; each
 * loads its client library (the AI SDK, llama.cpp) only when it opens a model, so a
 * command that calls no model never loads one.
 */
export type ProviderModules = Partial<Record<ProviderName, () => Promise<ProviderModule>>>;

/** The providers every surface has: the AI SDK ones and the local llama.cpp runtime. */
export const builtinProviderModules: ProviderModules = {
  // Imported when first used: the AI SDK is most of what a run would otherwise load at start.
  'openai-compatible': () => import('./openaiCompatible').then((m) => m.openAiCompatibleProvider),
  anthropic: () => import('./anthropic').then((m) => m.anthropicProvider),
  local: () => Promise.resolve(localProvider),
};

export { apiKeyName } from './names';

/** What a surface gives the registry. */
export interface ModelProviderOptions {
  /** Looks an API key up by name (the environment in the CLI; secret storage, then the environment, in VS Code). */
  readonly apiKey: (name: string) => Promise<string | undefined>;
  /** Where to say how a key is set, in this surface's words. */
  readonly howToSetKey: (name: string) => string;
  /** Provider modules by name (default: the built-in ones); the extension adds `vscode-lm`. */
  readonly modules?: ProviderModules;
}

/**
 * The ModelProvider of a surface: dispatches each instrument to its provider's module,
 * resolves its key by name (and registers it with the run's redactor), and turns every
 * "cannot be used here" into a ProviderUnavailableError that names what to do.
 */
export function createModelProvider(options: ModelProviderOptions): ModelProvider {
  const modules = options.modules ?? builtinProviderModules;
  const loaded = new Map<ProviderName, Promise<ProviderModule>>();

  const prepare = async (instrument: Instrument, ctx: ProviderContext) => {
    const spec = instrument.model;
    if (instrument.kind !== 'model' || !spec) throw new ProviderUnavailableError(`instrument ${instrument.ref} is a ${instrument.kind}, not a model`);
    const load = modules[spec.provider];
    if (!load) {
      throw new ProviderUnavailableError(
        spec.provider === 'vscode-lm'
          ? `instrument ${instrument.ref} uses VS Code's language models (vscode-lm), which only exist inside VS Code; for the CLI give it a fallback with provider openai-compatible, anthropic or local`
          : `the ${spec.provider} provider is not available here`,
      );
    }
    let module = loaded.get(spec.provider);
    if (!module) loaded.set(spec.provider, (module = load()));
    const keyName = apiKeyName(spec);
    const apiKey = keyName ? await options.apiKey(keyName) : undefined;
    if (apiKey) ctx.addSecret(apiKey);
    return { module: await module, model: instrument as ModelInstrument, keyName, apiKey };
  };

  const missingKey = (instrument: Instrument, keyName: string) =>
    new ProviderUnavailableError(`instrument ${instrument.ref} needs an API key in ${keyName}, which is not set: ${options.howToSetKey(keyName)}`);

  return {
    async open(instrument, ctx) {
      const { module, model, keyName, apiKey } = await prepare(instrument, ctx);
      if (keyName && !apiKey) throw missingKey(instrument, keyName);
      return module.open(model, ctx, apiKey);
    },
    async check(instrument, ctx) {
      try {
        const { module, model, keyName, apiKey } = await prepare(instrument, ctx);
        if (keyName && !apiKey) return { reachable: false, detail: `no API key: ${keyName} is not set — ${options.howToSetKey(keyName)}` };
        return await module.check(model, ctx, apiKey);
      } catch (e) {
        return { reachable: false, detail: (e as Error).message };
      }
    },
  };
}
