import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { artifactsDir } from './artifacts';
import { processAlive } from './files';
import { runIds, runPaths } from './runs';

/**
 * What a writer killed mid-way leaves in `.symphony/`: a lock's draft (`x.lock.<pid>-<nonce>.draft`,
 * written before it is linked into place) or the lock it renamed aside to break it
 * (`x.lock.stale-<pid>-<hex>`), and the temp file of an atomic write
 * (`x.<pid>-<hex>.tmp`, written before it is renamed over `x`). Each names its writer's pid,
 * so one is known to be abandoned without reading it: its writer is gone, and it is old
 * enough that no other host's process could still be writing it.
 */
const LEFTOVER = [/\.lock\.(\d+)-[0-9a-f]+\.draft$/, /\.lock\.stale-(\d+)-[0-9a-f]+$/, /\.(\d+)-[0-9a-f]+\.tmp$/];
/** Drafts of older versions named no pid; their content does. */
const LEGACY_DRAFT = /\.lock\.[0-9a-f]{16}\.draft$/;

/** How old a leftover must be before it is removed, whoever wrote it. */
export const LEFTOVER_AGE_MS = 5000;

/** The writer's pid, when `name` is a leftover. */
async function writerOf(dir: string, name: string): Promise<number | undefined> {
  for (const pattern of LEFTOVER) {
    const m = pattern.exec(name);
    if (m) return Number(m[1]);
  }
  if (!LEGACY_DRAFT.test(name)) return undefined;
  const text = await fsp.readFile(join(dir, name), 'utf8').catch(() => '');
  try {
    const pid = (JSON.parse(text) as { pid?: unknown }).pid;
    return typeof pid === 'number' ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the abandoned leftovers of one folder (not recursive); resolves with how many. */
async function sweepDir(dir: string, cutoff: number): Promise<number> {
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    const pid = await writerOf(dir, name);
    if (pid === undefined || processAlive(pid)) continue;
    const path = join(dir, name);
    const stat = await fsp.stat(path).catch(() => undefined);
    if (!stat?.isFile() || stat.mtimeMs > cutoff) continue;
    await fsp.rm(path, { force: true });
    removed++;
  }
  return removed;
}

/**
 * Removes what killed writers left in the workspace's records: in `.symphony/` (the audit
 * log's, handoff's and deviation records' locks), in the chambers registry, among the
 * artifacts, and in the folders of the given runs (`'all'`: every run — for `gc`; a new
 * run passes none, a resume its own). Cheap: a handful of folder listings, and a file is
 * only looked at when its name says it is a leftover of a dead process.
 */
export async function sweepLeftovers(workspaceRoot: string, options: { readonly runs?: readonly string[] | 'all'; readonly now?: () => number } = {}): Promise<number> {
  const cutoff = (options.now ?? Date.now)() - LEFTOVER_AGE_MS;
  const symphony = join(workspaceRoot, '.symphony');
  const shards = await fsp.readdir(artifactsDir(workspaceRoot)).catch(() => [] as string[]);
  const runs = options.runs === 'all' ? await runIds(workspaceRoot) : (options.runs ?? []);
  const dirs = [
    symphony,
    join(symphony, 'chambers'),
    ...shards.map((s) => join(artifactsDir(workspaceRoot), s)),
    ...runs.map((id) => runPaths(workspaceRoot, id).dir),
  ];
  let removed = 0;
  for (const dir of dirs) removed += await sweepDir(dir, cutoff);
  return removed;
}
