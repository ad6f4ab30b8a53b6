import { builtinNodes } from '../nodes';
import type { Host } from '../nodes/types';
import type { ModelProvider } from '../providers/types';
import type { RunEvent } from '../model/run';
import { FileArtifactStore } from '../store/artifacts';
import { FileAuditLog } from '../store/audit';
import { sweepLeftovers } from '../store/leftovers';
import { FileRunStorage } from '../store/runs';
import { Engine, type EngineOptions } from './engine';

/** What differs between the shells that run melodies (CLI, extension). */
export interface WorkspaceEngineOptions {
  readonly host: Host;
  readonly secrets?: (name: string) => Promise<string | undefined>;
  readonly env?: Readonly<Record<string, string>>;
  readonly models?: ModelProvider;
  readonly onEvent?: (event: RunEvent) => void;
  readonly maxParallel?: number;
  readonly workspace?: EngineOptions['workspace'];
  /** How programs start (default: from `env`). */
  readonly programs?: EngineOptions['programs'];
}

/**
 * An engine over a workspace's `.symphony/` records with the built-in node kinds — the
 * one way both the CLI and the extension build it.
 */
export function createWorkspaceEngine(root: string, options: WorkspaceEngineOptions): Engine {
  return new Engine({
    workspaceRoot: root,
    storage: new FileRunStorage(root),
    artifacts: new FileArtifactStore(root),
    audit: new FileAuditLog(root),
    nodes: builtinNodes,
    // What killed writers left: in `.symphony/`, and in the folder of a run being resumed.
    housekeeping: async (run) => void (await sweepLeftovers(root, { runs: run.resumed ? [run.runId] : [] })),
    ...options,
  });
}

/** The environment this process started with (defined values only): what programs are found with and take their PATH, HOME, LANG… from. */
export function processEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return env;
}
