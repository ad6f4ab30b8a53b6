import type { ProgramLookups } from './resolve';
import { detectSandbox, type SandboxSupport } from './sandbox';

/**
 * How programs start on this machine — built once per engine by the shell that runs
 * melodies (CLI, extension) and handed to every node through its context, never read from
 * globals: the environment Symphony started with, and the OS sandbox.
 */
export interface ProgramHost {
  /**
   * The environment Symphony started with. Programs are found on its PATH, whatever a
   * node's `env:` says, and get its PATH, HOME, LANG… — never all of it.
   */
  readonly startEnv: Readonly<Record<string, string>>;
  readonly platform: NodeJS.Platform;
  /**
   * Symphony's own Node, which runs the network helper inside the sandbox, and what it
   * needs in its environment to act as Node (ELECTRON_RUN_AS_NODE in desktop VS Code,
   * whose extension host is Electron).
   */
  readonly node: { readonly path: string; readonly env: Readonly<Record<string, string>> };
  /** The sandbox: detected on first use, once. */
  sandbox(): Promise<SandboxSupport>;
  /** The programs found on the PATH so far in this run (each run has its own); absent, every node looks them up. */
  readonly lookups?: ProgramLookups;
}

/** The program host of this process, started with `startEnv`. */
export function programHost(startEnv: Readonly<Record<string, string>>, platform: NodeJS.Platform = process.platform): ProgramHost {
  let detected: Promise<SandboxSupport> | undefined;
  return {
    startEnv,
    platform,
    node: { path: process.execPath, env: process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {} },
    sandbox: () => (detected ??= detectSandbox(startEnv, platform)),
  };
}
