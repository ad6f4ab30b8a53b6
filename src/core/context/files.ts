import { promises as fsp } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import picomatch from 'picomatch';
import { errorMessage, permanentError, readWorkspaceFile, realWorkspaceRoot } from '../nodes/support';
import type { NodeContext } from '../nodes/types';

/**
 * Workspace files for a prompt: which files globs match (walking only the folders they can
 * reach) and reading each through the permission guard, so that what a melody may not
 * read never reaches a model.
 */

/** Folders never packed: dependencies, git internals, Symphony's own records. */
export const SKIPPED_FOLDERS: ReadonlySet<string> = new Set(['node_modules', '.git', '.symphony']);

/** What reading files needs of a node's context. */
export type FilesContext = Pick<NodeContext, 'workspaceRoot' | 'permissions' | 'signal'>;

/**
 * Workspace-relative paths of the files matching `globs`, sorted. Only the folders the
 * globs can reach are walked (`src/**` walks `src`), and a glob that reaches outside the
 * workspace is refused rather than walked (a permanent NodeError naming `field`). A glob
 * naming a folder means everything in it.
 */
export async function matchingFiles(ctx: Pick<FilesContext, 'workspaceRoot' | 'signal'>, globs: readonly string[], field = 'files'): Promise<string[]> {
  const root = await realWorkspaceRoot(ctx.workspaceRoot);
  const patterns: string[] = [];
  const bases = new Set<string>();
  for (const glob of globs) {
    const { base, isGlob } = picomatch.scan(glob);
    const rel = relative(root, resolve(root, base));
    if (isAbsolute(glob) || rel.startsWith('..') || isAbsolute(rel)) {
      throw permanentError(`${field}: ${glob} reaches outside the workspace; globs are relative to the workspace root`);
    }
    const isFolder = !isGlob && (await fsp.stat(join(root, base)).then((s) => s.isDirectory(), () => false));
    patterns.push(isFolder ? `${glob.replace(/\/+$/, '')}/**` : glob);
    bases.add(rel.split('\\').join('/'));
  }
  const matches = picomatch(patterns);
  const found = new Set<string>();
  for (const base of bases) {
    for await (const path of walk(root, base, ctx.signal)) if (matches(path)) found.add(path);
  }
  return [...found].sort();
}

/** Files under `rel` (a file or a folder), workspace-relative; skipped folders and folder links are not entered. */
async function* walk(root: string, rel: string, signal: AbortSignal): AsyncGenerator<string> {
  signal.throwIfAborted();
  const abs = join(root, rel);
  const entries = await fsp.readdir(abs, { withFileTypes: true }).catch(() => undefined);
  if (!entries) {
    // Not a folder: the base of a glob may be the one file it names.
    if (rel && (await fsp.lstat(abs).then((s) => !s.isDirectory(), () => false))) yield rel;
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (!SKIPPED_FOLDERS.has(entry.name)) yield* walk(root, path, signal);
    } else if (entry.isFile()) {
      yield path;
    } else if (entry.isSymbolicLink() && (await fsp.stat(join(abs, entry.name)).then((s) => s.isFile(), () => false))) {
      // A link to a file is offered; the guard then refuses it if it leads outside.
      yield path;
    }
  }
}

/** A file read for a prompt, or why it could not be. */
export type ContextFile = { readonly ok: true; readonly path: string; readonly text: string } | { readonly ok: false; readonly path: string; readonly reason: string };

/**
 * Reads a workspace file through the permission guard. A refusal, a read error or a binary
 * file (one holding a NUL) is a reason, not an exception: the prompt says it is missing.
 */
export async function readContextFile(ctx: FilesContext, path: string): Promise<ContextFile> {
  ctx.signal.throwIfAborted();
  try {
    const { rel, text } = await readWorkspaceFile(ctx, path);
    return text.includes('\u0000') ? { ok: false, path: rel, reason: 'binary' } : { ok: true, path: rel, text };
  } catch (e) {
    // The guard's and the reader's messages name the file.
    return { ok: false, path, reason: errorMessage(e) };
  }
}
