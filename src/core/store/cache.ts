import { createHash } from 'node:crypto';
import { closeSync, fstatSync, opendirSync, openSync, promises as fsp, readFileSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { runPaths } from './runs';
import { isErrno, OPEN_SYNC_READ, readSmallFileSync, writeFileAtomic } from './files';

/**
 * A workspace file a cached node read, as the permission guard resolved it: its path
 * relative to the workspace root and the sha256 of its content when it was read (`null`
 * for a folder, a working directory say, whose content is not the node's input).
 */
export interface CacheRead {
  readonly path: string;
  readonly sha256: string | null;
}

/**
 * One node cache entry, `.symphony/cache/<key>.json`. The key is a hash of everything the
 * node was given (see the engine's `cacheKey`), never the inputs themselves: an entry holds
 * no input and no secret, only which files were read and where the output is.
 */
export interface CacheEntry {
  readonly key: string;
  readonly reads: readonly CacheRead[];
  /** sha256 of the output in the artifact store. */
  readonly outputRef: string;
  readonly storedAt: string;
}

/** Where nodes' outputs are remembered between runs. */
export interface NodeCache {
  get(key: string): Promise<CacheEntry | undefined>;
  put(entry: CacheEntry): Promise<void>;
  /** Whether no entry is stored at all: a run then knows every cached node will run. */
  isEmpty?(): boolean;
}

const KEY = /^[0-9a-f]{64}$/;

export function cacheDir(workspaceRoot: string): string {
  return join(workspaceRoot, '.symphony', 'cache');
}

/** The node cache under `.symphony/cache`, one small JSON file per key. */
export class FileNodeCache implements NodeCache {
  constructor(private readonly workspaceRoot: string) {}

  async get(key: string): Promise<CacheEntry | undefined> {
    if (!KEY.test(key)) return undefined;
    const path = join(cacheDir(this.workspaceRoot), `${key}.json`);
    let text: string;
    try {
      // An entry is a few hundred bytes: read at once, not in four trips to the thread
      // pool — a run that finds every node cached reads one per node.
      text = (readSmallFileSync(path) ?? (await fsp.readFile(path))).toString('utf8');
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return undefined;
      throw e;
    }
    try {
      const entry = JSON.parse(text) as CacheEntry;
      // A damaged or foreign file is a miss: the node runs and the entry is written again.
      return entry.key === key && Array.isArray(entry.reads) && typeof entry.outputRef === 'string' && KEY.test(entry.outputRef) ? entry : undefined;
    } catch {
      return undefined;
    }
  }

  isEmpty(): boolean {
    let dir;
    try {
      dir = opendirSync(cacheDir(this.workspaceRoot));
    } catch {
      return true;
    }
    try {
      // Read until the first entry: however many there are, this is one folder read.
      for (let e = dir.readSync(); e; e = dir.readSync()) if (e.name.endsWith('.json')) return false;
      return true;
    } finally {
      dir.closeSync();
    }
  }

  async put(entry: CacheEntry): Promise<void> {
    const dir = cacheDir(this.workspaceRoot);
    await fsp.mkdir(dir, { recursive: true });
    // Not fsynced: a lost entry is only a miss next time.
    await writeFileAtomic(join(dir, `${entry.key}.json`), JSON.stringify(entry, null, 1) + '\n', { durable: false });
  }
}

/** Files up to this size are read and hashed synchronously; larger ones through the thread pool. */
const HASH_AT_ONCE = 1024 * 1024;

/** A file's content hash with the stat of the open file it was read from, taken before the read. */
async function statAndDigest(absolutePath: string): Promise<{ readonly digest: string | null; readonly stat: Stats }> {
  let small: { bytes: Buffer; stat: Stats } | undefined;
  try {
    const fd = openSync(absolutePath, OPEN_SYNC_READ);
    try {
      const stat = fstatSync(fd);
      if (stat.isFile() && stat.size <= HASH_AT_ONCE) small = { bytes: readFileSync(fd), stat };
    } finally {
      closeSync(fd);
    }
  } catch {
    // A folder on Windows, say: the way below says what is wrong, if anything is.
  }
  if (small) return { digest: createHash('sha256').update(small.bytes).digest('hex'), stat: small.stat };
  const stat = await fsp.stat(absolutePath);
  if (stat.isDirectory()) return { digest: null, stat };
  const handle = await fsp.open(absolutePath, 'r');
  try {
    const opened = await handle.stat();
    return { digest: createHash('sha256').update(await handle.readFile()).digest('hex'), stat: opened };
  } finally {
    await handle.close();
  }
}

/**
 * How recently a file may have changed and still have its hash remembered. A write within
 * the same tick of the file system's clock can leave size and times as they were (git's
 * "racy" index entries); a file changed this recently is hashed again every time.
 */
const RACY_MS = 3000;

/** What a file looked like when it was hashed. */
interface Hashed {
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly digest: string | null;
}

const sameFile = (a: Hashed, b: Stats) => a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;

/**
 * The content hashes of the files one run's cached nodes read or rely on: a file is read
 * and hashed once, and again only when its stat says it may have changed — another size,
 * another modification or change time, another inode (a file replaced by a rename). A file
 * changed within the last RACY_MS when it was hashed is never remembered, so a write that
 * keeps all of those still makes it hashed again. One per run: a later run hashes afresh.
 */
export class FileDigests {
  private readonly known = new Map<string, Hashed>();

  constructor(private readonly now: () => number = Date.now) {}

  /** sha256 of a file's content, or null for a folder; rejects when the file cannot be read. */
  async digest(absolutePath: string): Promise<string | null> {
    const before = this.known.get(absolutePath);
    // A stat is all a file hashed before costs (synchronous: microseconds, no thread pool trip).
    if (before && sameFile(before, statSync(absolutePath))) return before.digest;
    const hashedAt = this.now();
    const { digest, stat } = await statAndDigest(absolutePath);
    if (hashedAt - Math.max(stat.mtimeMs, stat.ctimeMs) > RACY_MS) {
      this.known.set(absolutePath, { dev: stat.dev, ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, digest });
    } else {
      this.known.delete(absolutePath);
    }
    return digest;
  }
}

const CACHE_KEY = /"cacheKey":\s*"([0-9a-f]{64})"/g;

/**
 * Deletes the cache entries no kept run names (by `cacheKey` in its journal or run.json):
 * the runs that stored or used an entry are what keep it, so `symphony gc --keep-last`
 * ages the cache with the runs. Anything younger than `minAgeMs` stays (a run may be
 * writing it). Returns the entries removed and the bytes freed.
 */
export async function gcCache(
  workspaceRoot: string,
  keepRunIds: readonly string[],
  options: { readonly now?: () => number; readonly minAgeMs?: number } = {},
): Promise<{ readonly entriesRemoved: number; readonly bytesFreed: number }> {
  const keep = new Set<string>();
  for (const id of keepRunIds) {
    const { journal, record } = runPaths(workspaceRoot, id);
    for (const file of [journal, record]) {
      const text = await fsp.readFile(file, 'utf8').catch((e: unknown) => {
        if (isErrno(e, 'ENOENT')) return '';
        throw e;
      });
      for (const m of text.matchAll(CACHE_KEY)) keep.add(m[1]!);
    }
  }
  const cutoff = (options.now ?? Date.now)() - (options.minAgeMs ?? 60 * 60 * 1000);
  const dir = cacheDir(workspaceRoot);
  const names = await fsp.readdir(dir).catch((e: unknown) => {
    if (isErrno(e, 'ENOENT')) return [] as string[];
    throw e;
  });
  let entriesRemoved = 0;
  let bytesFreed = 0;
  for (const name of names) {
    const key = name.endsWith('.json') ? name.slice(0, -5) : undefined;
    if (key !== undefined && keep.has(key)) continue;
    if (key === undefined && !name.endsWith('.tmp')) continue;
    const path = join(dir, name);
    const stat = await fsp.stat(path).catch(() => undefined);
    if (!stat?.isFile() || stat.mtimeMs > cutoff) continue;
    await fsp.rm(path, { force: true });
    bytesFreed += stat.size;
    if (key !== undefined) entriesRemoved++;
  }
  return { entriesRemoved, bytesFreed };
}
