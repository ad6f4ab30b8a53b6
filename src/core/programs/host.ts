/**
 * How programs start on this machine — built once per engine by the shell that runs
 * melodies (CLI, extension) and handed to every node through its context, never read from
 * globals: the environment Symphony started with.
 */
export interface ProgramHost {
  /**
   * The environment Symphony started with. Programs are found on its PATH, whatever a
   * node's `env:` says, and get its PATH, HOME, LANG… — never all of it.
   */
  readonly startEnv: Readonly<Record<string, string>>;
  readonly platform: NodeJS.Platform;
}

/** The program host of a process started with `startEnv`. */
export function programHost(startEnv: Readonly<Record<string, string>>, platform: NodeJS.Platform = process.platform): ProgramHost {
  return { startEnv, platform };
}
