import type { ModelSetup } from '../core/load/workspace';
import type { CliEnvironment } from './options';

/** How the CLI says a key is set: the environment is the only place it reads keys from. */
export const howToSetKey = (name: string): string => `set the environment variable ${name} in the shell that runs symphony (never put a key in a file)`;

/** Whether models are set up, as the CLI sees it: keys in the environment, no VS Code models. */
export function cliModelSetup(env: CliEnvironment): ModelSetup {
  return { hasApiKey: async (name) => Boolean(env.env[name]), howToSetKey };
}
