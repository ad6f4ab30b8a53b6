import { promises as fsp } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import type { Permissions } from '../model/melody';
import { isGuardedVariable } from '../programs/environment';
import { intersectScopes, writableBases } from '../programs/scopes';

/** A refused action; the message names the rule that refused it. */
export class PermissionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermissionError';
  }
}

/**
 * Paths no node may write, whatever its permissions say, each with the reason given when
 * one is refused. Each is a way to run code or to gain permissions later:
 * - git internals anywhere (a hook, a nested repository's config, a worktree's `.git` file
 *   whose `core.fsmonitor` a later `git` runs);
 * - Symphony's own records: runs, artifacts, the audit log and every lock (a run must not
 *   rewrite its trail or jam other runs), chambers' data;
 * - what Symphony or the editor would execute with other permissions than the writer's:
 *   melodies (their triggers start them on their own), instrument definitions (a script
 *   instrument's program), the Conductor's configuration and the price table (budgets);
 *   VS Code's tasks, launch configurations and settings, and `*.code-workspace` files.
 */
const NEVER_WRITABLE: readonly NeverWritable[] = [
  { globs: ['**/.git', '**/.git/**'], why: 'it belongs to git (a hook or a config written there would run code)', executes: true },
  {
    globs: ['.symphony/runs/**', '.symphony/artifacts/**', '.symphony/audit.jsonl*', '.symphony/**/*.lock', '.symphony/**/*.lock.*', '.symphony/chambers/**', '.symphony/cache/**'],
    why: "it is one of Symphony's own records",
    executes: false,
  },
  {
    globs: ['**/*.melody.yaml', '**/*.melody.yml', 'ensembles/**', '.symphony/conductor.yaml', '.symphony/prices.yaml'],
    why: 'Symphony would later run it with permissions the writer does not have (melodies, instruments, the Conductor and the prices are written by people, not by nodes)',
    executes: true,
  },
  { globs: ['.vscode/**', '**/*.code-workspace'], why: 'VS Code would run what it says (tasks, launch configurations, settings)', executes: true },
];

/** A rule of NEVER_WRITABLE. */
export interface NeverWritable {
  readonly globs: readonly string[];
  /** Said when a write is refused. */
  readonly why: string;
  /**
   * Symphony or the editor would later run it (rather than: it is a record Symphony keeps).
   * Such paths are refused even when a program creates them anew, which the OS sandbox
   * cannot prevent (it protects paths that exist).
   */
  readonly executes: boolean;
}

const toPosix = (p: string) => p.split(sep).join('/');

/** Appended to a refusal that came from a calling melody's permissions. */
const CALLER_NOTE = ' — in the melody that started this sub-melody: a sub-melody never gets more than its caller';

/** Rethrows a refusal of a caller's guard, saying whose rule it was (once, however deep). */
function asCallers(e: unknown): never {
  if (e instanceof PermissionError && !e.message.endsWith(CALLER_NOTE)) throw new PermissionError(`${e.message}${CALLER_NOTE}`);
  throw e;
}

interface NeverMatcher {
  readonly match: picomatch.Matcher;
  readonly rule: NeverWritable;
}

/** NEVER_WRITABLE as matchers: compiled once, not for every run's guard. */
let neverMatchers: readonly NeverMatcher[] | undefined;

/**
 * Enforces a melody's `permissions:` — by the engine, on real paths, not by convention.
 *
 * - Files: every path must resolve, after following symlinks, inside the workspace; `..`
 *   and symlink escapes are refused. `fs.read` / `fs.write` globs (workspace-relative)
 *   narrow that further; when a list is absent, the whole workspace is allowed.
 * - Commands: `shell` nodes may run only programs listed in `commands`. With no list,
 *   no program may run — a melody says what it executes.
 * - Environment: a node may set the variables that decide which program runs or what it
 *   loads (PATH, LD_PRELOAD, NODE_OPTIONS…) only when `env` lists them.
 */
export class PermissionGuard {
  private readonly read?: picomatch.Matcher;
  private readonly write?: picomatch.Matcher;
  /** The never-writable rules, compiled on the first check of this process (they are constant). */
  private get never(): readonly NeverMatcher[] {
    return (neverMatchers ??= NEVER_WRITABLE.map((rule) => ({ match: picomatch([...rule.globs], { dot: true, nocase: true }), rule })));
  }
  private realRoot?: Promise<string>;

  /**
   * @param caller The guard of the run that started this one (a sub-melody): every access
   *   must pass it too, so a sub-melody never gets more than the melody that started it —
   *   its permissions are the intersection of its own and its callers'.
   */
  constructor(
    readonly root: string,
    readonly permissions: Permissions = {},
    private readonly caller?: PermissionGuard,
  ) {
    const globs = permissions.fs;
    if (globs?.read) this.read = picomatch(globs.read, { dot: true });
    if (globs?.write) this.write = picomatch(globs.write, { dot: true });
  }

  /**
   * The same permissions — this melody's and every caller's — over another tree with the
   * same layout: a chamber (a git worktree of the workspace) is worked in under the rules
   * of the workspace.
   */
  rebase(root: string): PermissionGuard {
    return new PermissionGuard(root, this.permissions, this.caller?.rebase(root));
  }

  private rootReal(): Promise<string> {
    this.realRoot ??= fsp.realpath(this.root).catch(() => resolve(this.root));
    return this.realRoot;
  }

  /** The permissions of this guard and of every caller's above it, innermost first. */
  get chain(): readonly Permissions[] {
    return [this.permissions, ...(this.caller?.chain ?? [])];
  }

  /** Resolves a path for reading; the file must exist. Returns its real absolute path. */
  async resolveRead(path: string): Promise<string> {
    const { real, rel } = await this.locate(path, 'read');
    if (this.read && !this.read(rel)) {
      throw new PermissionError(`permissions.fs.read does not allow reading ${rel} (allowed: ${this.permissions.fs!.read!.join(', ')})`);
    }
    await this.caller?.resolveRead(path).catch(asCallers);
    return real;
  }

  /** Resolves a path for writing (it may not exist yet). Returns its real absolute path. */
  async resolveWrite(path: string): Promise<string> {
    const { real, rel } = await this.locate(path, 'write');
    const never = this.neverWritable(rel);
    if (never) throw new PermissionError(`writing ${rel} is never allowed: ${never.why}`);
    if (this.write && !this.write(rel)) {
      throw new PermissionError(`permissions.fs.write does not allow writing ${rel} (allowed: ${this.permissions.fs!.write!.join(', ')})`);
    }
    await this.caller?.resolveWrite(path).catch(asCallers);
    return real;
  }

  /** The rule that makes `rel` (workspace-relative, `/`-separated) never writable, if one does. */
  neverWritable(rel: string): NeverWritable | undefined {
    return this.never.find((n) => n.match(rel))?.rule;
  }

  /**
   * The folders (and single files) the OS sandbox lets programs write: for each
   * `fs.write` glob, the deepest path its static part names (`src/**` → `src/`,
   * created when missing; a literal path that does not exist yet → its folder), the whole
   * workspace without a list — narrowed to what every calling melody allows. Real
   * absolute paths. Coarser than the globs, which Symphony's own file nodes still match
   * exactly; never-writable paths inside are made read-only again by the sandbox.
   */
  async writableScopes(): Promise<string[]> {
    const root = await this.rootReal();
    const globs = this.permissions.fs?.write;
    const own = globs ? await writableBases(root, globs, (rel) => this.neverWritable(rel) !== undefined) : [root];
    return this.caller ? intersectScopes(own, await this.caller.writableScopes()) : own;
  }

  /** Whether programs run without the OS sandbox: only when this melody and every one above it say `sandbox: off`. */
  get unsandboxed(): boolean {
    return this.permissions.sandbox === 'off' && (this.caller?.unsandboxed ?? true);
  }

  /**
   * The network programs may have: none; some hosts (each connection checked by
   * checkNetwork, so by every calling melody too); or all of it — `*` here and above.
   */
  networkScope(): 'none' | 'hosts' | 'all' {
    const hosts = this.permissions.network ?? [];
    const own = hosts.length === 0 ? 'none' : hosts.includes('*') ? 'all' : 'hosts';
    const up = this.caller?.networkScope() ?? 'all';
    return own === 'none' || up === 'none' ? 'none' : own === 'all' && up === 'all' ? 'all' : 'hosts';
  }

  /** Checks that a `shell` node may run `command`. */
  checkCommand(command: string): void {
    const allowed = this.permissions.commands;
    if (!allowed) {
      throw new PermissionError(`this melody does not allow running programs: add "${command}" to permissions.commands`);
    }
    if (!allowed.includes(command)) {
      throw new PermissionError(`permissions.commands does not allow "${command}" (allowed: ${allowed.join(', ') || 'none'})`);
    }
    try {
      this.caller?.checkCommand(command);
    } catch (e) {
      asCallers(e);
    }
  }

  /**
   * Checks that a program may be started with these variables set by the node: those that
   * decide which program runs or what it loads (PATH, LD_PRELOAD, NODE_OPTIONS…) must be
   * listed in `permissions.env`.
   */
  checkEnv(names: Iterable<string>): void {
    const allowed = (this.permissions.env ?? []).map((n) => n.toUpperCase());
    for (const name of names) {
      if (!isGuardedVariable(name) || allowed.includes(name.toUpperCase())) continue;
      throw new PermissionError(`setting ${name} for a program is not allowed: it decides which program runs or what it loads; list it in permissions.env to allow it`);
    }
    try {
      this.caller?.checkEnv(names);
    } catch (e) {
      asCallers(e);
    }
  }

  /**
   * Checks that a node may reach `url` (a service instrument, a webhook call): its host —
   * or `host:port` — must be listed in `permissions.network`. With no list, no host may be
   * reached. Model providers are not checked here: their endpoints are part of the
   * instrument, not of what the melody does.
   */
  checkNetwork(url: string): void {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new PermissionError(`${url} is not a URL`);
    }
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    const allowed = this.permissions.network;
    if (!allowed) throw new PermissionError(`this melody does not allow network access: add "${host}" to permissions.network`);
    const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
    const ok = allowed.some((entry) => {
      const e = entry.toLowerCase().replace(/^\[|\]$/g, '');
      return e === '*' || e === host.toLowerCase() || e === `${host.toLowerCase()}:${port}`;
    });
    if (!ok) throw new PermissionError(`permissions.network does not allow ${host}${parsed.port ? `:${parsed.port}` : ''} (allowed: ${allowed.join(', ') || 'none'})`);
    try {
      this.caller?.checkNetwork(url);
    } catch (e) {
      asCallers(e);
    }
  }

  /**
   * The real path of `path` and its workspace-relative form. For a path that does not exist
   * yet, the nearest existing ancestor is resolved, so a symlinked folder cannot smuggle a
   * write outside the workspace.
   */
  private async locate(path: string, purpose: 'read' | 'write'): Promise<{ real: string; rel: string }> {
    const root = await this.rootReal();
    const abs = isAbsolute(path) ? path : resolve(this.root, path);
    let real: string;
    try {
      real = await fsp.realpath(abs);
    } catch (e) {
      if (purpose === 'read') throw new PermissionError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
      real = await realpathOfNew(await danglingTarget(abs));
    }
    const rel = relative(root, real);
    // The root itself may be read (a working directory, "all files"), never written as a file.
    if ((rel === '' && purpose === 'write') || rel.startsWith('..') || isAbsolute(rel)) {
      throw new PermissionError(`${path} is outside the workspace (${this.root}); melodies may only touch files inside it`);
    }
    return { real, rel: toPosix(rel) };
  }
}

/**
 * Where writing `abs` would land when it is a symlink to a file that does not exist yet:
 * the link's target (followed through further links), judged instead of the link itself.
 */
async function danglingTarget(abs: string): Promise<string> {
  let at = abs;
  for (let hops = 0; hops < 40; hops++) {
    const stat = await fsp.lstat(at).catch(() => undefined);
    if (!stat?.isSymbolicLink()) return at;
    at = resolve(dirname(at), await fsp.readlink(at));
  }
  throw new PermissionError(`${abs} is a loop of symbolic links`);
}

/** The real path a not-yet-existing file would have: its deepest existing ancestor, resolved. */
async function realpathOfNew(abs: string): Promise<string> {
  const tail: string[] = [];
  let dir = abs;
  for (;;) {
    tail.unshift(basename(dir));
    const parent = dirname(dir);
    if (parent === dir) return abs;
    dir = parent;
    try {
      return join(await fsp.realpath(dir), ...tail);
    } catch {
      // keep climbing
    }
  }
}
