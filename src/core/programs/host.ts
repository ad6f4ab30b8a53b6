import type { ProgramLookups } from './resolve';
import { detectSandbox, type SandboxSupport } from './sandbox';
import { sharedSpawner, type Spawner } from './spawner';

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

/**
 * Gets ready for a melody that may run programs, while the run is still being set up:
 * starts the spawner helper (POSIX) and, unless the melody runs its programs unsandboxed,
 * the sandbox detection — both otherwise waited for by the first node that starts a
 * program. Only ahead of time: what runs, and how, does not change.
 */
export function prepareForPrograms(
  host: ProgramHost,
  melody: { readonly permissions?: { readonly commands?: readonly string[]; readonly sandbox?: string } },
  spawner: Spawner = sharedSpawner(),
): void {
  if (!melody.permissions?.commands?.length) return;
  // As runProgram: Windows spawns programs directly, without a helper.
  if (process.platform !== 'win32') spawner.prestart();
  if (melody.permissions.sandbox !== 'off') void host.sandbox().catch(() => undefined);
}
