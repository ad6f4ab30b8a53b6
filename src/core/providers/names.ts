import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { ModelSpec } from '../model/instrument';

// What the loader and the set-up checks need to know of providers, without loading one:
// no client library is imported from here.

const OPENAI_HOST = 'api.openai.com';

/**
 * The name an instrument's API key goes by: its `apiKeyEnv`, else the provider's usual
 * variable — `ANTHROPIC_API_KEY`, or `OPENAI_API_KEY` for OpenAI itself. Servers that take
 * no key (Ollama, LM Studio, llama.cpp, vLLM on this machine) have none unless named. The
 * CLI reads the environment variable of that name; the extension first looks the name up
 * in its secret storage ("Symphony: Set API Key…").
 */
export function apiKeyName(spec: ModelSpec): string | undefined {
  if (spec.apiKeyEnv) return spec.apiKeyEnv;
  if (spec.provider === 'anthropic') return 'ANTHROPIC_API_KEY';
  if (spec.provider === 'openai-compatible' && (!spec.baseUrl || new URL(spec.baseUrl).hostname === OPENAI_HOST)) return 'OPENAI_API_KEY';
  return undefined;
}

/** `model.path` as an absolute path: `~` is the home folder, relative paths are the workspace's. */
export function resolveModelPath(path: string, workspaceRoot: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/') || path.startsWith('~\\')) return join(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(workspaceRoot, path);
}
