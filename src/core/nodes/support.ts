import { promises as fsp } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { NodeError, type NodeContext } from './types';

/**
 * Small helpers shared by the node kinds, so that every kind names paths, credits
 * nicknames and reads workspace files the same way.
 */

/** A failure that trying again cannot fix (bad input, a refused action, a missing program). */
export function permanentError(message: string, cause?: unknown): NodeError {
  return new NodeError(message, { retryable: false, cause });
}

/** The message of anything thrown, for wrapping it in a NodeError. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The workspace root with symlinks resolved. PermissionGuard returns real paths, so
 * relative paths must be taken against the real root too (on macOS `/tmp` is a symlink,
 * and a workspace opened through a link is common).
 */
export function realWorkspaceRoot(root: string): Promise<string> {
  return fsp.realpath(root).catch(() => resolve(root));
}

/**
 * Whether a `with:` path names the workspace root itself (`.`, `./`, the root's absolute
 * path). The guard refuses the root as a file, so kinds that accept a folder ask this first.
 */
export function isWorkspaceRoot(root: string, path: string): boolean {
  return resolve(root, path) === resolve(root);
}

/** `abs` (a real path from PermissionGuard) as a workspace-relative path with `/` separators. */
export async function workspacePath(ctx: Pick<NodeContext, 'workspaceRoot'>, abs: string): Promise<string> {
  return relative(await realWorkspaceRoot(ctx.workspaceRoot), abs).split(sep).join('/');
}

/**
 * Who gets the credit in commit messages and handoff entries: the name the node gives,
 * else the nickname of the node's instrument, else the melody (a script-only melody has
 * no instrument, and the melody is then the author).
 */
export function creditedNickname(given: string | undefined, ctx: Pick<NodeContext, 'instrument' | 'melodyName'>): string {
  return given ?? ctx.instrument?.nickname ?? ctx.melodyName;
}

/** A workspace file read through the permission guard. */
export interface WorkspaceFile {
  /** Real absolute path. */
  readonly abs: string;
  /** Workspace-relative, `/`-separated: what messages show. */
  readonly rel: string;
  readonly text: string;
}

/** Reads a UTF-8 file the melody may read (`permissions.fs.read`, no escapes). */
export async function readWorkspaceFile(ctx: Pick<NodeContext, 'workspaceRoot' | 'permissions'>, path: string): Promise<WorkspaceFile> {
  const abs = await ctx.permissions.resolveRead(path);
  const rel = await workspacePath(ctx, abs);
  let text: string;
  try {
    text = await fsp.readFile(abs, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // A folder or a file that vanished will not read better on a second try.
    throw permanentError(`cannot read ${rel}: ${code === 'EISDIR' ? 'it is a folder' : errorMessage(e)}`, e);
  }
  return { abs, rel, text };
}
