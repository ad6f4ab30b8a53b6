import { promises as fsp } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { readJsonFile } from '../load/jsonFile';
import { chambersFileSchema, type Chamber } from '../model/chamber';
import { formatDiagnostic } from '../model/diagnostic';
import { err, ok, type Result } from '../model/result';
import { writeFileAtomic } from '../store/files';
import { Git } from './git';

/**
 * Where chambers live and how they are remembered. `.symphony/chambers/` holds one
 * worktree per chamber and `chambers.json`, the list `setup-chambers` made; git is told
 * to ignore both (in `.git/info/exclude`), so they never show as changes.
 */

export const CHAMBERS_DIR = '.symphony/chambers';
/** Not a possible chamber id (ids have no dot), so it never collides with a worktree. */
export const CHAMBERS_FILE = `${CHAMBERS_DIR}/chambers.json`;
/** Held while chambers are set up or removed, so parallel callers do not lose each other's changes. */
export const CHAMBERS_LOCK = `${CHAMBERS_DIR}/chambers.lock`;
/** The folder in each worktree holding the worker's tiered context; never committed. */
export const CONTEXT_DIR = '.chamber';

export function chamberBranch(id: string): string {
  return `symphony/${id}`;
}

export function chamberPath(root: string, id: string): string {
  return join(root, CHAMBERS_DIR, id);
}

/** Whether anything is at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  return fsp.stat(path).then(
    () => true,
    () => false,
  );
}

/** The chambers `setup-chambers` made; none when it never ran. */
export async function loadChambers(root: string): Promise<Result<Chamber[], string[]>> {
  const r = await readJsonFile(chambersFileSchema, join(root, CHAMBERS_FILE), 'expected { "version": 1, "chambers": [] }');
  if (!r.ok) return err(r.error.map((d) => formatDiagnostic(d, relative(root, d.file))));
  return ok(r.value?.chambers ?? []);
}

export async function saveChambers(root: string, chambers: readonly Chamber[]): Promise<void> {
  await fsp.mkdir(join(root, CHAMBERS_DIR), { recursive: true });
  await writeFileAtomic(join(root, CHAMBERS_FILE), JSON.stringify({ version: 1, chambers }, null, 2) + '\n', { durable: false });
}

/** The repository a workspace is in. */
export interface Repository {
  /** The main worktree's git. */
  readonly git: Git;
  /** Its top folder. */
  readonly top: string;
  /** The workspace root, inside `top`. */
  readonly root: string;
}

/**
 * Opens the repository of a workspace for chamber work. Refuses inside a chamber (merging
 * and setting up happen from the main worktree) and outside a repository.
 */
export async function openRepository(root: string): Promise<Result<Repository, string>> {
  if (root.split(sep).join('/').includes(`/${CHAMBERS_DIR}/`)) {
    return err(`${root} is a chamber; run chamber commands from the main workspace`);
  }
  let git: Git;
  try {
    git = new Git(root);
  } catch (e) {
    return err(`cannot use ${root}: ${(e as Error).message}`);
  }
  const top = (await git.attempt('rev-parse', '--show-toplevel'))?.trim();
  if (!top) return err(`${root} is not in a git repository: chambers are git worktrees (run "git init" and commit first)`);
  return ok({ git, top, root });
}

/**
 * Adds lines to the repository's `info/exclude` (shared by all its worktrees) unless they
 * are there, so chamber folders and `.chamber/` contexts never show up in `git status`.
 */
export async function excludeFromGit(git: Git, lines: readonly string[]): Promise<void> {
  const common = (await git.run('rev-parse', '--path-format=absolute', '--git-common-dir')).trim();
  const file = join(common, 'info', 'exclude');
  const current = await fsp.readFile(file, 'utf8').catch(() => '');
  const have = new Set(current.split('\n').map((l) => l.trim()));
  const missing = lines.filter((l) => !have.has(l));
  if (missing.length === 0) return;
  await fsp.mkdir(join(common, 'info'), { recursive: true });
  const sep = current === '' || current.endsWith('\n') ? '' : '\n';
  await fsp.appendFile(file, `${sep}# Symphony chambers (worktrees and their context)\n${missing.join('\n')}\n`);
}
