import { randomBytes } from 'node:crypto';
import { closeSync, constants, fdatasync, fstatSync, openSync, promises as fsp, readSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/**
 * File primitives shared by the stores: atomic replace, directory sync, whole writes and
 * reading the tail of an append-only file. Kept here so the journal, the audit log, the
 * artifact store and the handoff log agree on what "durable" and "complete line" mean.
 */

/** True when `e` is a Node system error with this `code` (ENOENT, EEXIST…). */
export function isErrno(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as NodeJS.ErrnoException).code === code;
}

/** Where `readSmallFileSync` reads; one is enough, since nothing else runs while it reads. */
const scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * How a file is opened for a synchronous read: without blocking, so a FIFO planted where a
 * file was expected reads as empty (or fails) at once instead of stopping the event loop; a
 * regular file reads as usual. Windows has no such flag.
 */
export const OPEN_SYNC_READ = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * A small file's bytes read synchronously, or `undefined` when it has 64 KiB or more — the
 * caller then reads it the usual way. For the many small files a run reads one by one
 * (node cache entries, their outputs): open, read, close — microseconds, where
 * `fsp.readFile` takes four trips to the thread pool. Throws what `open` and `read` throw
 * (ENOENT, EISDIR…).
 */
export function readSmallFileSync(path: string): Buffer | undefined {
  const fd = openSync(path, OPEN_SYNC_READ);
  try {
    let length = 0;
    for (;;) {
      const read = readSync(fd, scratch, length, scratch.length - length, null);
      if (read === 0) return Buffer.from(scratch.subarray(0, length));
      length += read;
      if (length === scratch.length) return undefined;
    }
  } finally {
    closeSync(fd);
  }
}

/** A unique sibling of `path` for a temp file, so concurrent writers never share one. */
export function tempPathFor(path: string): string {
  return `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
}

/**
 * Replaces `path` with `data` atomically: a reader sees the old file or the new one, never a
 * mix. With `durable`, the bytes are on disk before the rename makes them visible — needed
 * when the name itself is a promise about the content (a content-addressed blob); not
 * needed for a derived file that is checked on read and rebuilt when wrong.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: { readonly durable: boolean }): Promise<void> {
  const temp = tempPathFor(path);
  const fd = await fsp.open(temp, 'wx');
  try {
    try {
      await fd.writeFile(data);
      if (options.durable) await fd.datasync();
    } finally {
      await fd.close();
    }
    await fsp.rename(temp, path);
  } catch (e) {
    await fsp.rm(temp, { force: true }).catch(() => undefined);
    throw e;
  }
}

/**
 * `writeFileAtomic` without `durable`, synchronously: for a small file written on the way to
 * something waiting (a run's claim), where the trips through the thread pool of an
 * open, a write, a close and a rename were most of the wait.
 */
export function writeFileAtomicSync(path: string, data: string): void {
  const temp = tempPathFor(path);
  try {
    writeFileSync(temp, data, { flag: 'wx' });
    renameSync(temp, path);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}

/**
 * fsyncs a directory, so a file just created or renamed in it keeps its name after a power
 * loss. Best effort: Windows cannot open a directory, and there the rename is journaled by
 * NTFS anyway.
 */
export async function syncDir(dir: string): Promise<void> {
  let fd: FileHandle | undefined;
  try {
    fd = await fsp.open(dir, 'r');
    await fd.sync();
  } catch {
    // Not supported on this platform or file system; the data itself is already synced.
  } finally {
    await fd?.close().catch(() => undefined);
  }
}

/**
 * Writes all of `data` through `fd` (opened for appending). One `write` call in practice;
 * the loop only matters for a short write (a full disk), where it still finishes or throws.
 */
export async function writeAll(fd: FileHandle, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await fd.write(data, offset, data.length - offset);
    if (bytesWritten <= 0) throw new Error('write made no progress');
    offset += bytesWritten;
  }
}

const NEWLINE = 0x0a;
const CHUNK = 64 * 1024;

/** The offset of the last "\n" before `before`, or -1; reads backwards in chunks. */
function lastNewlineBefore(fd: number, before: number): number {
  const buf = Buffer.alloc(Math.min(CHUNK, before));
  let end = before;
  while (end > 0) {
    const start = Math.max(0, end - CHUNK);
    const bytesRead = readSync(fd, buf, 0, end - start, start);
    const i = buf.subarray(0, bytesRead).lastIndexOf(NEWLINE);
    if (i >= 0) return start + i;
    end = start;
  }
  return -1;
}

/** The tail of a line-oriented file: see `readLastLine`. */
export interface FileTail {
  /** The last complete line (without its "\n"), or undefined when there is none. */
  readonly line: string | undefined;
  /** Where complete lines end: bytes past this are a torn line from an interrupted write. */
  readonly end: number;
  readonly size: number;
}

/**
 * Reads only the end of an append-only file: its last complete line, and where complete
 * lines end. A line is complete when it ends with "\n" — each append writes a line and its
 * newline in one write, so a missing newline means the writer died mid-write.
 *
 * Synchronous: a stat and a read or two of a file's last block, microseconds, where each
 * step through the thread pool is a trip of its own. `fd` is open for reading — with
 * `OPEN_SYNC_READ`'s O_NONBLOCK when it might not be a regular file.
 */
export function readLastLine(fd: number): FileTail {
  const { size } = fstatSync(fd);
  const last = lastNewlineBefore(fd, size);
  if (last < 0) return { line: undefined, end: 0, size };
  const start = lastNewlineBefore(fd, last) + 1;
  const buf = Buffer.alloc(last - start);
  readSync(fd, buf, 0, buf.length, start);
  return { line: buf.toString('utf8'), end: last + 1, size };
}

/** `fdatasync` of a numeric descriptor, through the thread pool: the one step of an append that takes milliseconds. */
export function datasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));
}

/** Writes all of `data` at the end of `fd` (opened for appending): see `writeAll`. */
export function writeAllSync(fd: number, data: Uint8Array): void {
  let offset = 0;
  while (offset < data.length) {
    const written = writeSync(fd, data, offset, data.length - offset);
    if (written <= 0) throw new Error('write made no progress');
    offset += written;
  }
}

/** Where the complete lines of `data` end (just past its last "\n"); 0 when there is none. */
export function completeLinesEnd(data: Uint8Array): number {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).lastIndexOf(NEWLINE) + 1;
}

/** Whether a process of this host is alive (EPERM: it exists, we just may not signal it). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return isErrno(e, 'EPERM');
  }
}
