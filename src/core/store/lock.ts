import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, promises as fsp, rmSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isErrno, readSmallFileSync } from './files';
import { processState, thisProcess, type ProcessRecord } from './processes';

/**
 * A lock file for short critical sections shared by several processes (two `symphony`
 * commands, the CLI and the extension host) — the audit log and `handoff.md` append under
 * it. Node has no portable `flock`, so the lock is a file created exclusively (`wx`);
 * whoever creates it holds the lock until they delete it. It names its holder by pid, host
 * and start time, so a lock whose holder died — or whose pid now belongs to another
 * process — is taken over at once, and one that cannot be judged fails within a second
 * instead of being waited out.
 */

/** How long to wait for a lock, and when a lock left behind counts as abandoned. */
export interface LockOptions {
  /**
   * A lock older than this is taken over whoever holds it. Critical sections are
   * milliseconds; this only has to outlast a slow fsync. Default 30 s.
   */
  readonly staleMs?: number;
  /** Give up waiting for a live holder after this long. Default 60 s. */
  readonly timeoutMs?: number;
  /**
   * How long a lock this process cannot judge — held on another host, or not written by
   * Symphony — may stay as it is before acquiring fails with LockUncheckableError. Default
   * 1 s: a real holder keeps a lock for milliseconds, so one unchanged for a second is
   * abandoned or planted, and saying so beats waiting for `staleMs`.
   */
  readonly undecidedMs?: number;
}

/** The lock could not be taken in time; names who holds it. */
export class LockTimeoutError extends Error {
  constructor(
    readonly lockPath: string,
    readonly holder: string,
  ) {
    super(`timed out waiting for ${lockPath} (held by ${holder || 'an unknown process'}); delete it if no Symphony process is running`);
    this.name = 'LockTimeoutError';
  }
}

/** The lock is held by a process this one cannot check, and did not go away within `undecidedMs`. */
export class LockUncheckableError extends Error {
  constructor(
    readonly lockPath: string,
    readonly holder: string,
  ) {
    const owner = parseOwner(holder);
    super(
      owner
        ? `${lockPath} is held by pid ${owner.pid} on host ${owner.host} since ${owner.at}, which this machine cannot check; if no Symphony process on ${owner.host} is using this workspace, delete it`
        : `${lockPath} was not written by Symphony (it holds ${JSON.stringify(holder.slice(0, 80))}); if no Symphony process is using this workspace, delete it`,
    );
    this.name = 'LockUncheckableError';
  }
}

/** What a lock file says about its owner. */
interface Owner extends ProcessRecord {
  readonly nonce: string;
  readonly at: string;
}

function parseOwner(text: string): Owner | undefined {
  try {
    const o = JSON.parse(text) as Partial<Owner>;
    return typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.nonce === 'string' ? (o as Owner) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What to do about a lock another holds: wait for a live holder; take over a stale lock
 * (its holder is dead or is not the process that was recorded — a recycled pid —, or it is
 * older than `staleMs`); and for a lock that cannot be judged, watch it for `undecidedMs`
 * (`unsure`). A lock naming a live pid of this host without the start time every lock of
 * this Symphony records (`legacy`) is an older Symphony's or a planted one: an older
 * Symphony holds it for milliseconds, so it is taken over once it has not changed for
 * `undecidedMs`.
 */
async function judge(text: string, mtimeMs: number, staleMs: number): Promise<'wait' | 'stale' | 'unsure' | 'legacy'> {
  if (Date.now() - mtimeMs > staleMs) return 'stale';
  const owner = parseOwner(text);
  if (!owner) return 'unsure';
  const { state, legacy } = await processState(owner);
  if (state === 'dead') return 'stale';
  if (state === 'unknown') return 'unsure';
  return legacy ? 'legacy' : 'wait';
}

async function readLock(path: string): Promise<{ text: string; mtimeMs: number } | undefined> {
  let fd: FileHandle | undefined;
  try {
    // One handle for both, so the content and the age are of the same file.
    fd = await fsp.open(path, 'r');
    const [text, stat] = await Promise.all([fd.readFile('utf8'), fd.stat()]);
    return { text, mtimeMs: stat.mtimeMs };
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  } finally {
    await fd?.close().catch(() => undefined);
  }
}

/**
 * Removes the lock judged abandoned (`seen` is what was judged); true when the caller should
 * try again at once.
 *
 * Two waiters can judge the same lock stale at once; if one removes it and takes a new lock
 * before the other acts, the other must not delete that new lock. So the lock is first
 * renamed aside (atomic: only one waiter gets a given file) and only deleted if it is still
 * the one that was judged; a lock taken by mistake is linked back into place.
 */
async function breakLock(path: string, seen: string): Promise<boolean> {
  const aside = `${path}.stale-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    await fsp.rename(path, aside);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return true;
    throw e;
  }
  const moved = await fsp.readFile(aside, 'utf8').catch(() => undefined);
  if (moved === seen) {
    await fsp.rm(aside, { force: true });
    return true;
  }
  await fsp.link(aside, path).catch(() => undefined);
  await fsp.rm(aside, { force: true });
  return false;
}

async function acquire(path: string, options: LockOptions): Promise<() => Promise<void>> {
  const staleMs = options.staleMs ?? 30_000;
  const undecidedMs = options.undecidedMs ?? 1000;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const owner: Owner = { ...(await thisProcess()), nonce: randomBytes(8).toString('hex'), at: new Date().toISOString() };
  let delay = 1;
  // The lock is created with its content already in it — written to a private file, then
  // hard-linked into place, which fails if the lock exists. A lock created empty (open 'wx',
  // then write) would, if its process died in between, say nothing about its owner and
  // could only be judged by age. The draft's name carries our pid, so one left behind by a
  // kill is recognised as abandoned without reading it (see leftovers.ts).
  const draft = `${path}.${process.pid}-${owner.nonce}.draft`;
  const content = JSON.stringify(owner);
  // The lock we could not judge, and since when it has been there unchanged.
  let unsure: { text: string; since: number } | undefined;
  for (;;) {
    // Synchronous: a lock is taken for every batch of the audit log, and these few small
    // metadata calls take microseconds, where a trip through the thread pool apiece made
    // up most of the time the lock was held. Only waiting for another holder is async.
    try {
      writeFileSync(draft, content);
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
      mkdirSync(dirname(path), { recursive: true });
      continue;
    }
    let taken = false;
    try {
      linkSync(draft, path);
      taken = true;
    } catch (e) {
      if (!isErrno(e, 'EEXIST')) throw e;
    } finally {
      rmSync(draft, { force: true });
    }
    if (taken) return () => release(path, owner.nonce);
    const seen = await readLock(path);
    if (!seen) continue;
    const verdict = await judge(seen.text, seen.mtimeMs, staleMs);
    if (verdict === 'stale' && (await breakLock(path, seen.text))) continue;
    if (verdict === 'unsure' || verdict === 'legacy') {
      if (unsure?.text !== seen.text) unsure = { text: seen.text, since: Date.now() };
      else if (Date.now() - unsure.since > undecidedMs) {
        if (verdict === 'unsure') throw new LockUncheckableError(path, seen.text);
        if (await breakLock(path, seen.text)) continue;
      }
    }
    if (Date.now() > deadline) throw new LockTimeoutError(path, (await readLock(path))?.text ?? '');
    // Jittered exponential backoff, capped low: holders keep the lock for milliseconds.
    await sleep(delay * (0.5 + Math.random()));
    delay = Math.min(delay * 2, 50);
  }
}

/** Deletes the lock only if it is still ours: after a stale takeover it belongs to someone else. */
async function release(path: string, nonce: string): Promise<void> {
  let text: string | undefined;
  try {
    // Without blocking (a FIFO planted in its place reads as nothing); a lock of 64 KiB or more is not ours.
    text = readSmallFileSync(path)?.toString('utf8');
  } catch {
    return;
  }
  if (text !== undefined && parseOwner(text)?.nonce === nonce) rmSync(path, { force: true });
}

/** Per lock path, the tail of this process's queue of holders. */
const queues = new Map<string, Promise<void>>();

/**
 * Runs `fn` while holding the lock file `lockPath`, across processes. Callers in this
 * process queue up in order before touching the file, so they do not poll against each
 * other; only other processes are waited for by retrying with backoff.
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const key = resolve(lockPath);
  const before = queues.get(key) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((r) => (done = r));
  const tail = before.then(() => mine);
  queues.set(key, tail);
  await before;
  try {
    const release = await acquire(key, options);
    try {
      return await fn();
    } finally {
      await release();
    }
  } finally {
    done();
    if (queues.get(key) === tail) queues.delete(key);
  }
}
