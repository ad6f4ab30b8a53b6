import { constants, promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { errorMessage, permanentError, workspacePath } from './support';
import { NodeError, type NodeImplementation } from './types';

/**
 * O_NOFOLLOW closes a gap the guard cannot: a dangling symlink has no real path, so the
 * guard judges the link's own location (inside the workspace), while a plain write would
 * follow the link to wherever it points. With O_NOFOLLOW the write refuses any link at
 * the last step; the guard already resolved every real link before it. (Windows has no
 * such flag; it also needs privileges to create symlinks.)
 */
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * Writes (or appends to) a workspace file the melody may write, creating its folders.
 * Strings are written as they are; anything else as pretty JSON with a final newline.
 * Output: `{ path, bytes }` with the workspace-relative path.
 */
export const writeFileNode: NodeImplementation<'write-file'> = {
  kind: 'write-file',
  async run(input, ctx) {
    if (input.content === undefined) throw permanentError('write-file needs `content` (use "" for an empty file)');
    const abs = await ctx.permissions.resolveWrite(input.path);
    const path = await workspacePath(ctx, abs);
    const data = typeof input.content === 'string' ? input.content : `${JSON.stringify(input.content, null, 2)}\n`;
    const flags = constants.O_WRONLY | constants.O_CREAT | NO_FOLLOW | (input.append ? constants.O_APPEND : constants.O_TRUNC);
    try {
      await fsp.mkdir(dirname(abs), { recursive: true });
      const handle = await fsp.open(abs, flags, 0o666);
      try {
        await handle.writeFile(data, 'utf8');
      } finally {
        await handle.close();
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw permanentError(`${path} is a symbolic link; write-file does not follow links it cannot check`, e);
      if (code === 'EISDIR') throw permanentError(`${path} is a folder`, e);
      // A full disk or a busy file may clear up; a refused one will not.
      const retryable = !(code === 'EACCES' || code === 'EPERM' || code === 'ENOTDIR' || code === 'EROFS');
      throw new NodeError(`cannot write ${path}: ${errorMessage(e)}`, { retryable, cause: e });
    }
    return { output: { path, bytes: Buffer.byteLength(data, 'utf8') } };
  },
};
