import { promises as fsp } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { SKIPPED_DIRS } from '../load/fs';
import type { NeverWritable } from '../engine/permissions';

/**
 * What the OS sandbox makes writable, from the globs of `permissions.fs.write`. A mount
 * cannot follow a glob, so the sandbox binds folders: coarser than the globs, never wider
 * than the workspace, and with never-writable paths inside made read-only again.
 */

const toPosix = (p: string) => p.split(sep).join('/');
const within = (path: string, scope: string) => path === scope || path.startsWith(scope.endsWith(sep) ? scope : scope + sep);

/**
 * The real paths the globs' static parts name, inside `root`: `out/**` → `<root>/out`
 * (created when missing, so a glob over a folder that does not exist yet does not widen to
 * the whole workspace); a literal path → itself when it exists, else its folder (created);
 * a negated glob or one without a static part (`**`, `*.txt`) → the root. Paths `never`
 * refuses are not created, and no scope outside the workspace is returned.
 */
export async function writableBases(root: string, globs: readonly string[], never: (rel: string) => boolean): Promise<string[]> {
  const scopes: string[] = [];
  for (const glob of globs) {
    const scan = picomatch.scan(glob);
    const base = scan.negated ? '' : scan.base.replace(/\/+$/, '');
    const abs = resolve(root, base);
    if (!within(abs, root)) continue;
    const exists = await fsp.stat(abs).then(() => true, () => false);
    const folder = scan.isGlob || scan.negated ? abs : exists ? undefined : dirname(abs);
    if (folder !== undefined && !never(toPosix(relative(root, folder)) + '/_')) await fsp.mkdir(folder, { recursive: true }).catch(() => undefined);
    const real = await fsp.realpath(folder ?? abs).catch(() => undefined);
    if (real && within(real, root)) scopes.push(real);
  }
  return outermost(scopes);
}

/**
 * The paths writable under both lists: where one scope lies inside a scope of the other
 * list, the inner one — the intersection of the two sets of trees.
 */
export function intersectScopes(a: readonly string[], b: readonly string[]): string[] {
  return outermost([...a.filter((x) => b.some((y) => within(x, y))), ...b.filter((y) => a.some((x) => within(y, x)))]);
}

/** The scopes that lie inside no other, once each. */
function outermost(scopes: readonly string[]): string[] {
  const unique = [...new Set(scopes)];
  return unique.filter((s) => !unique.some((t) => t !== s && within(s, t)));
}

/** A path nodes may never write, found inside a writable scope. */
export interface ProtectedPath {
  /** Workspace-relative, `/`-separated. */
  readonly rel: string;
  readonly abs: string;
  readonly rule: NeverWritable;
}

/**
 * The never-writable paths that exist inside the writable scopes: `.git` anywhere (as a
 * whole), melodies, `ensembles/`, `.vscode/`, Symphony's records… A folder that is never
 * writable as a whole is returned once, not walked. Folders melody discovery skips
 * (node_modules, dist…) are not walked either: a melody there is never run.
 */
export async function protectedPaths(root: string, scopes: readonly string[], never: (rel: string) => NeverWritable | undefined): Promise<ProtectedPath[]> {
  const found: ProtectedPath[] = [];
  /** A folder is never writable as a whole when any name inside it would be (`.vscode/**`). */
  const rule = (rel: string, isDir: boolean) => never(rel) ?? (isDir ? never(`${rel}/_`) : undefined);
  /** Whether `rel` is never writable (then it is found, not walked); its path is `abs`. */
  const protect = (abs: string, rel: string, isDir: boolean): boolean => {
    // Symphony's own folder is protected as a whole: its locks and drafts come and go while
    // programs run, and a path that vanishes between the walk and the mount would fail it.
    const r = rel === '.symphony' && isDir ? never('.symphony/audit.jsonl') : rel ? rule(rel, isDir) : undefined;
    if (r) found.push({ rel, abs, rule: r });
    return r !== undefined;
  };
  // Depth first, one folder read at a time (the thread pool also serves the run's journal);
  // a file costs no read and no await, only its name's match.
  const walk = async (abs: string, rel: string): Promise<void> => {
    const entries = await fsp.readdir(abs, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const isFolder = e.isDirectory();
      if (isFolder && SKIPPED_DIRS.has(e.name) && e.name !== '.git') continue;
      const path = join(abs, e.name);
      const name = rel ? `${rel}/${e.name}` : e.name;
      if (!protect(path, name, isFolder) && isFolder) await walk(path, name);
    }
  };
  for (const scope of scopes) {
    const stat = await fsp.lstat(scope).catch(() => undefined);
    if (!stat) continue;
    const rel = toPosix(relative(root, scope));
    if (!protect(scope, rel, stat.isDirectory()) && stat.isDirectory()) await walk(scope, rel);
  }
  return found;
}

/**
 * protectedPaths for the programs of one guard, with walks asked for at the same moment done
 * once: the nodes of a level start (and end) together, and each would walk the same scopes
 * for itself. A caller joins only a walk that has not begun: every caller gets a walk that
 * began after it asked, so it finds what a walk of its own would find — a path created
 * before the caller asked is in it. Callers share the result and must not change it.
 */
export class ProtectedWalks {
  /** The walk of each root and scopes that will begin once this turn of the event loop ends. */
  private readonly next = new Map<string, Promise<ProtectedPath[]>>();

  constructor(private readonly never: (rel: string) => NeverWritable | undefined) {}

  find(root: string, scopes: readonly string[]): Promise<ProtectedPath[]> {
    const key = JSON.stringify([root, scopes]);
    const waiting = this.next.get(key);
    if (waiting) return waiting;
    const walk = new Promise<void>((begin) => setImmediate(begin)).then(() => {
      // From here on a caller waits for the next walk: this one may have passed its path.
      this.next.delete(key);
      return protectedPaths(root, scopes, this.never);
    });
    this.next.set(key, walk);
    return walk;
  }
}

/**
 * Renames paths a program created although no node may write them (a melody, a `.git`, a
 * `.vscode/` folder: things Symphony or the editor would run) to `<name>.refused`, so
 * nothing runs them and nothing of them is lost. Returns the paths renamed, each with its
 * new name, workspace-relative. A path already gone is skipped: the check of another node
 * that ended at the same moment renamed it first.
 */
export async function refuseCreated(root: string, created: readonly ProtectedPath[]): Promise<{ path: ProtectedPath; renamed: string }[]> {
  const renamed: { path: ProtectedPath; renamed: string }[] = [];
  for (const p of created) {
    let target = `${p.abs}.refused`;
    for (let n = 2; await fsp.lstat(target).then(() => true, () => false); n++) target = `${p.abs}.refused-${n}`;
    try {
      await fsp.rename(p.abs, target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    renamed.push({ path: p, renamed: toPosix(relative(root, target)) });
  }
  return renamed;
}
