import { resolve } from 'node:path';
import { createWorkspaceEngine } from '../core/engine/workspaceEngine';
import type { Engine } from '../core/engine/engine';
import type { RunEvent } from '../core/model/run';
import type { Host } from '../core/nodes/types';
import { programHost, type ProgramHost } from '../core/programs/host';
import { createModelProvider } from '../core/providers/registry';
import type { ModelProvider } from '../core/providers/types';
import type { CliEnvironment } from './options';
import { paint } from './print';
import { howToSetKey } from './modelSetup';

/** Options of the commands that run melodies. */
export interface RunOptions {
  /** Approve every approval node without asking. */
  readonly yes?: boolean;
}

/**
 * The CLI as the engine's host: approvals are asked on the terminal (or granted by --yes;
 * with neither, the node fails saying so), notifications go to stderr.
 */
export function cliHost(env: CliEnvironment, options: RunOptions): Host {
  return {
    name: 'cli',
    async approve(request, signal) {
      if (options.yes) return true;
      if (!env.interactive) {
        throw new Error(`"${request.message}" needs approval: run again with --yes to approve it, or run it in a terminal to be asked`);
      }
      signal.throwIfAborted();
      const answer = await env.ask(`${paint(env.color, 'yellow', '?')} ${request.nodeId}: ${request.message} — approve? [y/N] `);
      return /^y(es)?$/i.test(answer.trim());
    },
    notify(notice) {
      const style = notice.level === 'error' ? 'red' : notice.level === 'warning' ? 'yellow' : 'cyan';
      env.stderr(paint(env.color, style, `[${notice.level}] ${notice.message}`) + '\n');
    },
  };
}

/**
 * The CLI's model providers: API keys from the environment variable each instrument names
 * (`apiKeyEnv`, or the provider's usual one) — never from a file.
 */
export function cliModels(env: CliEnvironment): ModelProvider {
  return createModelProvider({
    apiKey: async (name) => env.env[name] || undefined,
    howToSetKey,
  });
}

/** How the CLI's programs start: found and given their environment from the one the CLI started in. */
export function cliPrograms(env: CliEnvironment): ProgramHost {
  return programHost(childEnvironment(env));
}

/** The engine over `root` as the CLI runs it: secrets and child environment from env vars. */
export function cliEngine(env: CliEnvironment, root: string, options: RunOptions & { onEvent?: (e: RunEvent) => void; programs?: ProgramHost }): Engine {
  return createWorkspaceEngine(resolve(root), {
    host: cliHost(env, options),
    secrets: async (name) => env.env[name],
    env: childEnvironment(env),
    programs: options.programs ?? cliPrograms(env),
    models: cliModels(env),
    onEvent: options.onEvent,
  });
}

function childEnvironment(env: CliEnvironment): Record<string, string> {
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env.env)) if (v !== undefined) childEnv[k] = v;
  return childEnv;
}
