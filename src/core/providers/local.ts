import { ProviderUnavailableError } from './types';
import type { ProviderModule } from './registry';

/** Placeholder until the provider lands: every call says it is not built yet. */
export const localProvider: ProviderModule = {
  open: (instrument) => Promise.reject(new ProviderUnavailableError(`the ${instrument.model.provider} provider is not built yet`)),
  check: (instrument) => Promise.resolve({ reachable: false, detail: `the ${instrument.model.provider} provider is not built yet` }),
};
