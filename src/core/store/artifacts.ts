import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { canonicalJson, sha256 } from '../engine/hash';
import { cacheDir, gcCache } from './cache';
import { isErrno, readSmallFileSync, syncDir, writeFileAtomic } from './files';
import { runIds, runPaths } from './runs';
import type { ArtifactStore, RunStorage } from './types';

/** `.symphony/artifacts/sha256`: blobs fanned out by the first two hex digits of their hash. */
export function artifactsDir(workspaceRoot: string): string {
  return join(workspaceRoot, '.symphony', 'artifacts', 'sha256');
}

/** Hashes become file names, so only a real sha256 is ever turned into a path. */
const HASH = /^[0-9a-f]{64}$/;

function blobPath(dir: string, hash: string): string {
  if (!HASH.test(hash)) throw new Error(`invalid artifact hash ${JSON.stringify(hash)}`);
  return join(dir, hash.slice(0, 2), hash);
}

function toBytes(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return Buffer.from(canonicalJson(value), 'utf8');
}

/**
 * Content-addressed blobs. JSON values are stored as canonical JSON, so equal values share
 * one blob whatever their key order; no type marker is kept — `getJson` just parses.
 */
export class FileArtifactStore implements ArtifactStore {
  private readonly dir: string;

  constructor(workspaceRoot: string) {
    this.dir = artifactsDir(workspaceRoot);
  }

  async put(value: unknown, options: { readonly durable?: boolean } = {}): Promise<string> {
    const durable = options.durable ?? true;
    const bytes = toBytes(value);
    const hash = sha256(bytes);
    const path = blobPath(this.dir, hash);
    // Already stored: refresh its time so a concurrent `gc` counts it as new (see gcArtifacts).
    const now = new Date();
    if (await fsp.utimes(path, now, now).then(() => true, () => false)) return hash;
    await fsp.mkdir(dirname(path), { recursive: true });
    try {
      // Durable before it gets its name: the journal line naming this hash is flushed right
      // after, and must never point at a blob a power loss emptied.
      await writeFileAtomic(path, bytes, { durable });
    } catch (e) {
      // A concurrent put of the same content won the rename (Windows refuses to replace an
      // open file); the blob is there, and it is the same bytes.
      if (!(await this.has(hash))) throw e;
    }
    if (durable) await syncDir(dirname(path));
    return hash;
  }

  /** The stored bytes, checked against their hash so a damaged blob is never used silently. */
  async getBytes(hash: string): Promise<Buffer> {
    let bytes: Buffer;
    const path = blobPath(this.dir, hash);
    try {
      bytes = readSmallFileSync(path) ?? (await fsp.readFile(path));
    } catch (e) {
      if (isErrno(e, 'ENOENT')) throw new Error(`no artifact ${hash} in ${this.dir}`);
      throw e;
    }
    if (sha256(bytes) !== hash) throw new Error(`artifact ${hash} is damaged: its content no longer matches its hash`);
    return bytes;
  }

  async getJson(hash: string): Promise<unknown> {
    const bytes = await this.getBytes(hash);
    try {
      return JSON.parse(bytes.toString('utf8')) as unknown;
    } catch {
      throw new Error(`artifact ${hash} is not JSON (it was stored as bytes)`);
    }
  }

  async has(hash: string): Promise<boolean> {
    if (!HASH.test(hash)) return false;
    return fsp.stat(blobPath(this.dir, hash)).then(
      (s) => s.isFile(),
      () => false,
    );
  }
}

/** Options of the garbage collectors. */
export interface GcOptions {
  /**
   * Artifacts (and leftover temp files) younger than this are kept even when unreferenced:
   * a running node stores its output a moment before the journal line that names it is
   * written, and `gc` must not fall into that gap. Default one hour.
   */
  readonly minAgeMs?: number;
  readonly now?: () => number;
}

/** What a collection freed. */
export interface GcResult {
  readonly runsRemoved: number;
  readonly artifactsRemoved: number;
  /** Node cache entries no kept run names. */
  readonly cacheEntriesRemoved: number;
  readonly bytesFreed: number;
}

/**
 * Matches outputRef in a journal line and in the pretty-printed run.json alike. Scanning
 * the raw text instead of parsing events keeps references of a damaged journal too: a
 * false match only keeps a blob, a missed one would lose it.
 */
const OUTPUT_REF = /"outputRef":\s*"([0-9a-f]{64})"/g;

async function referencedBy(workspaceRoot: string, runIds: readonly string[]): Promise<Set<string>> {
  const refs = new Set<string>();
  for (const id of runIds) {
    const { journal, record } = runPaths(workspaceRoot, id);
    for (const file of [journal, record]) {
      const text = await fsp.readFile(file, 'utf8').catch((e: unknown) => {
        if (isErrno(e, 'ENOENT')) return '';
        throw e;
      });
      for (const m of text.matchAll(OUTPUT_REF)) refs.add(m[1]!);
    }
  }
  // The node cache's entries keep the outputs they point at.
  const dir = cacheDir(workspaceRoot);
  for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith('.json')) continue;
    const text = await fsp.readFile(join(dir, name), 'utf8').catch(() => '');
    for (const m of text.matchAll(OUTPUT_REF)) refs.add(m[1]!);
  }
  return refs;
}

/**
 * Deletes the artifacts no kept run refers to (by `outputRef` in its journal or run.json),
 * and temp files left by interrupted writes. Anything younger than `minAgeMs` stays.
 */
export async function gcArtifacts(
  workspaceRoot: string,
  keepRunIds: readonly string[],
  options: GcOptions = {},
): Promise<{ readonly artifactsRemoved: number; readonly bytesFreed: number }> {
  const refs = await referencedBy(workspaceRoot, keepRunIds);
  const cutoff = (options.now ?? Date.now)() - (options.minAgeMs ?? 60 * 60 * 1000);
  const root = artifactsDir(workspaceRoot);
  let artifactsRemoved = 0;
  let bytesFreed = 0;
  const shards = await fsp.readdir(root).catch((e: unknown) => {
    if (isErrno(e, 'ENOENT')) return [] as string[];
    throw e;
  });
  for (const shard of shards) {
    const names = await fsp.readdir(join(root, shard)).catch(() => [] as string[]);
    for (const name of names) {
      const isBlob = HASH.test(name);
      if (isBlob ? refs.has(name) : !name.endsWith('.tmp')) continue;
      const path = join(root, shard, name);
      const stat = await fsp.stat(path).catch(() => undefined);
      if (!stat?.isFile() || stat.mtimeMs > cutoff) continue;
      await fsp.rm(path, { force: true });
      bytesFreed += stat.size;
      if (isBlob) artifactsRemoved++;
    }
    // Shard folders are left in place: removing one could race a put that just created it.
  }
  return { artifactsRemoved, bytesFreed };
}

async function folderBytes(dir: string): Promise<number> {
  const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
  let total = 0;
  for (const e of entries) {
    const path = join(dir, e.name);
    total += e.isDirectory() ? await folderBytes(path) : ((await fsp.stat(path).catch(() => undefined))?.size ?? 0);
  }
  return total;
}

/**
 * `symphony gc --keep-last N`: removes every run but the newest `keepLast` — never one
 * still running, however old — then the artifacts no remaining run refers to. Runs whose
 * journal cannot be read are neither counted nor removed, and their references are kept.
 */
export async function collectGarbage(workspaceRoot: string, storage: RunStorage, keepLast: number, options: GcOptions = {}): Promise<GcResult> {
  if (!Number.isInteger(keepLast) || keepLast < 0) throw new RangeError(`--keep-last needs a whole number of runs, not ${keepLast}`);
  const doomed = (await storage.list()).slice(keepLast).filter((r) => r.state !== 'running');
  let bytesFreed = 0;
  for (const run of doomed) {
    bytesFreed += await folderBytes(runPaths(workspaceRoot, run.runId).dir);
    await storage.remove(run.runId);
  }
  // Every folder still there, listed or not, keeps its artifacts and the cache entries it
  // names; the entries left keep their outputs.
  const kept = await runIds(workspaceRoot);
  const cache = await gcCache(workspaceRoot, kept, options);
  const artifacts = await gcArtifacts(workspaceRoot, kept, options);
  return {
    runsRemoved: doomed.length,
    artifactsRemoved: artifacts.artifactsRemoved,
    cacheEntriesRemoved: cache.entriesRemoved,
    bytesFreed: bytesFreed + cache.bytesFreed + artifacts.bytesFreed,
  };
}
