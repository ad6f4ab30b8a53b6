import { ProviderUnavailableError, type ModelProvider } from './types';

/**
 * The models of an engine built without providers (tests of other node kinds, tools that
 * never call a model): every instrument is unavailable, so fallbacks still apply.
 */
export const unavailableModels: ModelProvider = {
  open: (instrument) => Promise.reject(new ProviderUnavailableError(`no model providers are configured in this engine, so instrument ${instrument.ref} cannot be called`)),
  check: () => Promise.resolve({ reachable: false, detail: 'no model providers are configured in this engine' }),
};
