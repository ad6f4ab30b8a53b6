/**
 * The environment a program of a melody starts with. Not everything Symphony's own
 * process has — an editor's or a shell's environment holds tokens nobody named — but the
 * few variables programs need to behave, plus what the node's `env:` sets.
 */

/** Variables passed on from the environment Symphony started in, on every platform. */
const BASE_NAMES = ['PATH', 'HOME', 'LANG', 'TMPDIR', 'TEMP', 'TMP', 'TERM', 'USER', 'LOGNAME'];
/** …and every `LC_*` (locale categories: LC_ALL, LC_CTYPE…). */
const BASE_PREFIXES = ['LC_'];
/**
 * Windows needs a few more: without SystemRoot, Winsock and the crypto libraries fail to
 * load; ComSpec names the cmd.exe that runs `.cmd` shims such as npm.cmd; PATHEXT is how a
 * program finds `npm` as `npm.cmd`; USERPROFILE, APPDATA and LOCALAPPDATA are Windows'
 * HOME, where npm, git and their kin keep configuration and caches.
 */
const WINDOWS_NAMES = ['SystemRoot', 'windir', 'ComSpec', 'PATHEXT', 'USERPROFILE', 'APPDATA', 'LOCALAPPDATA'];

/**
 * Variables that decide which program runs or what it loads: set by a node, they would
 * turn an allowed program into any program (a planted `node` first on PATH, a library
 * preloaded into it, a `--require` of a file the melody wrote). A node may set them only
 * when `permissions.env` lists them.
 */
const GUARDED_NAMES = ['PATH', 'PATHEXT', 'COMSPEC', 'NODE_OPTIONS', 'BASH_ENV'];
const GUARDED_PREFIXES = ['LD_', 'DYLD_'];

/**
 * Whether a node setting `name` needs `permissions.env`. Case does not matter: Windows
 * reads `Path` as PATH, and a melody means the same on every machine.
 */
export function isGuardedVariable(name: string): boolean {
  const upper = name.toUpperCase();
  return GUARDED_NAMES.includes(upper) || GUARDED_PREFIXES.some((p) => upper.startsWith(p));
}

/** The guarded variables, in words, for messages and documentation. */
export const GUARDED_VARIABLES_TEXT = 'PATH, PATHEXT, ComSpec, NODE_OPTIONS, BASH_ENV, LD_* and DYLD_*';

/**
 * The part of `startEnv` every program gets: PATH, HOME, LANG and LC_*, the temporary
 * folder, TERM, USER (and on Windows what programs cannot start without). Names are
 * compared without case on Windows, where the environment has none.
 */
export function baseEnvironment(startEnv: Readonly<Record<string, string>>, platform: NodeJS.Platform): Record<string, string> {
  const windows = platform === 'win32';
  const names = new Set((windows ? [...BASE_NAMES, ...WINDOWS_NAMES] : BASE_NAMES).map((n) => (windows ? n.toUpperCase() : n)));
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(startEnv)) {
    const key = windows ? name.toUpperCase() : name;
    if (names.has(key) || BASE_PREFIXES.some((p) => key.startsWith(p))) env[name] = value;
  }
  return env;
}

/** The value of `name` in an environment, without case on Windows. */
export function variable(env: Readonly<Record<string, string>>, name: string, platform: NodeJS.Platform): string | undefined {
  if (platform !== 'win32') return env[name];
  const upper = name.toUpperCase();
  return Object.entries(env).find(([k]) => k.toUpperCase() === upper)?.[1];
}
