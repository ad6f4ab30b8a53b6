import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { runPaths } from './runs';
import { isErrno, writeFileAtomic } from './files';

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
    const text = await fsp.readFile(join(cacheDir(this.workspaceRoot), `${key}.json`), 'utf8').catch((e: unknown) => {
      if (isErrno(e, 'ENOENT')) return undefined;
      throw e;
    });
    if (text === undefined) return undefined;
    try {
      const entry = JSON.parse(text) as CacheEntry;
      // A damaged or foreign file is a miss: the node runs and the entry is written again.
      return entry.key === key && Array.isArray(entry.reads) && typeof entry.outputRef === 'string' && KEY.test(entry.outputRef) ? entry : undefined;
    } catch {
      return undefined;
    }
  }

  async put(entry: CacheEntry): Promise<void> {
    const dir = cacheDir(this.workspaceRoot);
    await fsp.mkdir(dir, { recursive: true });
    // Not fsynced: a lost entry is only a miss next time.
    await writeFileAtomic(join(dir, `${entry.key}.json`), JSON.stringify(entry, null, 1) + '\n', { durable: false });
  }
}

/** sha256 of a file's content, or null for a folder. */
export async function contentDigest(absolutePath: string): Promise<string | null> {
  const stat = await fsp.stat(absolutePath);
  if (stat.isDirectory()) return null;
  return createHash('sha256').update(await fsp.readFile(absolutePath)).digest('hex');
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
