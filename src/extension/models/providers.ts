import * as vscode from 'vscode';
import { builtinProviderModules, createModelProvider } from '../../core/providers/registry';
import type { ModelProvider } from '../../core/providers/types';
import { API_KEY_KEYS, SecretVault } from '../runs/secrets';
import { localProvider } from '../../core/providers/local';
import { useLocalRuntimeFolder, withInstallOffer } from './localRuntime';
import { extensionModelSetup, howToSetKey } from './setup';
import { vscodeLmProvider } from './vscodeLm';
import type { ModelSetup } from '../../core/load/workspace';

/** The extension's model providers and the API keys they read. */
export interface ExtensionModels {
  readonly models: ModelProvider;
  /** API keys by name (`OPENAI_API_KEY`), in VS Code's secret storage. */
  readonly apiKeys: SecretVault;
  /** Whether each model is set up here, told without calling it (the Melodies view's warnings, triggers). */
  readonly setup: ModelSetup;
}

/**
 * The providers as the extension runs them: every built-in one plus `vscode-lm`, with API
 * keys from VS Code's secret storage ("Symphony: Set API Key…") and, failing that, the
 * environment the editor was started with — never from a file.
 */
export function extensionModels(extension: vscode.ExtensionContext): ExtensionModels {
  const apiKeys = new SecretVault(extension.secrets, extension.globalState, API_KEY_KEYS);
  const lm = vscodeLmProvider(vscode);
  useLocalRuntimeFolder(extension);
  const local = withInstallOffer(localProvider, extension);
  const models = createModelProvider({
    apiKey: async (name) => (await apiKeys.get(name)) ?? (process.env[name] || undefined),
    howToSetKey,
    modules: { ...builtinProviderModules, 'vscode-lm': () => Promise.resolve(lm), local: () => Promise.resolve(local) },
  });
  return { models, apiKeys, setup: extensionModelSetup(apiKeys) };
}
