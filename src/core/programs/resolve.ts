import { promises as fsp, constants } from 'node:fs';
import { delimiter as hostDelimiter, isAbsolute, join, resolve, win32 } from 'node:path';

/** Where a program is looked for when Symphony's environment has no PATH (as execvp and Node do). */
const DEFAULT_PATH = '/usr/bin:/bin';
const DEFAULT_PATHEXT = '.COM;.EXE;.BAT;.CMD';

/** How to find programs: Symphony's own PATH, never a node's. */
export interface ProgramSearch {
  /** The PATH Symphony started with; undefined when it had none. */
  readonly path: string | undefined;
  /** Windows: which extensions make a file a program (PATHEXT). */
  readonly pathext?: string;
  readonly platform: NodeJS.Platform;
}

/**
 * The absolute path of the file `command` names, or undefined when there is none. A name
 * with a slash is a path relative to `cwd`; a bare name is looked up on `search.path` —
 * only its absolute entries: an empty or relative entry would be the working directory,
 * that is the workspace, where a melody can plant a program of any name.
 */
export async function resolveProgram(command: string, cwd: string, search: ProgramSearch): Promise<string | undefined> {
  const windows = search.platform === 'win32';
  const hasSlash = windows ? /[\\/]/.test(command) : command.includes('/');
  const candidates = hasSlash || isAbsolute(command)
    ? [resolve(cwd, command)]
    : (search.path ?? (windows ? '' : DEFAULT_PATH))
        .split(windows ? ';' : hostDelimiter)
        .filter((dir) => (windows ? win32.isAbsolute(dir) : dir.startsWith('/')))
        .map((dir) => join(dir, command));
  const extensions = windows ? windowsExtensions(command, search.pathext) : [''];
  for (const candidate of candidates) {
    for (const ext of extensions) {
      if (await isProgram(candidate + ext)) return candidate + ext;
    }
  }
  return undefined;
}

/**
 * resolveProgram with the PATH lookups of one run remembered: a bare name found on the
 * PATH is looked for once per run, not once per node (each lookup is a stat and an access
 * per PATH entry until one fits, and on a loaded machine those wait behind the journal's
 * fsyncs). Only bare names that were found are kept: a name with a slash is relative to a
 * node's working directory, and a program a node installs is found by the nodes after it.
 * A program removed since it was found fails to start, as one missing would.
 */
export class ProgramLookups {
  private readonly found = new Map<string, Promise<string | undefined>>();

  resolve(command: string, cwd: string, search: ProgramSearch): Promise<string | undefined> {
    const bare = !(search.platform === 'win32' ? /[\\/]/.test(command) : command.includes('/')) && !isAbsolute(command);
    if (!bare) return resolveProgram(command, cwd, search);
    const key = [command, search.path ?? '', search.pathext ?? '', search.platform].join('\0');
    const known = this.found.get(key);
    if (known) return known;
    const lookup = resolveProgram(command, cwd, search);
    this.found.set(key, lookup);
    // Not found (yet): the next node looks again.
    void lookup.then((path) => {
      if (path === undefined && this.found.get(key) === lookup) this.found.delete(key);
    });
    return lookup;
  }
}

/** `npm` is `npm.cmd` on Windows: the name as typed when it has an extension, then each of PATHEXT. */
function windowsExtensions(command: string, pathext: string | undefined): string[] {
  const exts = (pathext || DEFAULT_PATHEXT).split(';').filter(Boolean).map((e) => e.toLowerCase());
  return exts.some((e) => command.toLowerCase().endsWith(e)) ? ['', ...exts] : exts;
}

async function isProgram(path: string): Promise<boolean> {
  try {
    if (!(await fsp.stat(path)).isFile()) return false;
    await fsp.access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
