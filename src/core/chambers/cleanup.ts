import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { MERGE_PLAN_FILE } from '../deviations/mergePlan';
import { DEVIATIONS_FILE } from '../deviations/records';
import { err, ok, type Result } from '../model/result';
import { Git } from './git';
import { MERGE_REPORT_FILE } from './merge';
import { withFileLock } from '../store/lock';
import { chamberBranch, chamberPath, CHAMBERS_DIR, CHAMBERS_FILE, CHAMBERS_LOCK, loadChambers, openRepository, pathExists, saveChambers } from './registry';

/**
 * `cleanup-task`: ends a task. What the team learnt stays, the plans worth re-reading are
 * archived, and the task's working state — chambers, their branches, the mission, the
 * deviation records, the merge plan and report — is removed. All names are in `.symphony/`.
 */

/** Learnings kept from task to task: never touched. */
export const PRESERVED = ['GOTCHAS.md', 'CLAUDE.md', 'MODULE_CACHE.json', 'FAILURE_ANALYSIS.json'] as const;
/** Moved to `.symphony/archive/<timestamp>/` (deleted with `--no-archive`). */
export const ARCHIVED = ['BUSINESS_LOGIC.json', 'INTEGRATION_PLAN.json'] as const;
/** The task's working files, deleted. */
export const PURGED = [
  DEVIATIONS_FILE.slice('.symphony/'.length),
  MERGE_PLAN_FILE.slice('.symphony/'.length),
  MERGE_REPORT_FILE.slice('.symphony/'.length),
  'MISSION_CONTEXT.json',
  'plan.melody.yaml',
] as const;

export const ARCHIVE_DIR = '.symphony/archive';

/** A chamber, and what removing or recreating it would lose. */
export interface ChamberToRemove {
  readonly id: string;
  readonly branch: string;
  /** The branch's commit: `git branch <branch> <head>` brings it back. */
  readonly head?: string;
  /** Commits on the branch not in the current HEAD. */
  readonly unmerged: number;
  /** Uncommitted changes in its worktree (lost for good). */
  readonly dirty: boolean;
}

/** What cleanup will do (existing files only), for a confirmation and for the report. */
export interface CleanupPlan {
  readonly preserved: readonly string[];
  readonly archive: readonly string[];
  readonly purge: readonly string[];
  readonly chambers: readonly ChamberToRemove[];
}

/** What cleanup did. */
export interface CleanupReport extends CleanupPlan {
  /** The archive folder, relative to the root; undefined when nothing was archived. */
  readonly archivedTo?: string;
}

async function present(root: string, names: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const n of names) if (await pathExists(join(root, '.symphony', n))) found.push(n);
  return found;
}

/**
 * The chambers `setup-chambers` made, with what removing or recreating each would lose:
 * commits not merged into HEAD and uncommitted changes.
 */
export async function inspectChambers(root: string): Promise<Result<ChamberToRemove[], string[]>> {
  const chambers = await loadChambers(root);
  if (!chambers.ok) return chambers;
  if (chambers.value.length === 0) return ok([]);
  const repo = await openRepository(root);
  if (!repo.ok) return err([repo.error]);
  const out: ChamberToRemove[] = [];
  for (const c of chambers.value) {
    const head = await repo.value.git.commitOf(`refs/heads/${chamberBranch(c.id)}`);
    const unmerged = head ? (await repo.value.git.lines('rev-list', `HEAD..${head}`)).length : 0;
    const dir = chamberPath(root, c.id);
    const dirty = (await pathExists(dir)) && ((await new Git(dir).attempt('status', '--porcelain')) ?? '').trim() !== '';
    out.push({ id: c.id, branch: chamberBranch(c.id), ...(head ? { head } : {}), unmerged, dirty });
  }
  return ok(out);
}

/** Looks at what cleanup would remove, without removing anything. */
export async function planCleanup(root: string): Promise<Result<CleanupPlan, string[]>> {
  const chambers = await inspectChambers(root);
  if (!chambers.ok) return chambers;
  return ok({
    preserved: await present(root, PRESERVED),
    archive: await present(root, ARCHIVED),
    purge: await present(root, PURGED),
    chambers: chambers.value,
  });
}

/** `2026-11-22T10-15-30Z`: a folder name that sorts by time and is valid everywhere. */
function stamp(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

/** Cleans up the task: archives, purges, removes the chambers and their branches. */
export async function cleanupTask(root: string, options: { readonly archive: boolean; readonly now?: Date }): Promise<Result<CleanupReport, string[]>> {
  const plan = await planCleanup(root);
  if (!plan.ok) return plan;
  const { archive, purge, chambers } = plan.value;
  let archivedTo: string | undefined;
  if (options.archive && archive.length) {
    const base = `${ARCHIVE_DIR}/${stamp(options.now ?? new Date())}`;
    archivedTo = base;
    for (let n = 2; await pathExists(join(root, archivedTo)); n++) archivedTo = `${base}-${n}`;
    await fsp.mkdir(join(root, archivedTo), { recursive: true });
    for (const f of archive) await fsp.rename(join(root, '.symphony', f), join(root, archivedTo, f));
  } else {
    for (const f of archive) await fsp.rm(join(root, '.symphony', f), { force: true });
  }
  for (const f of purge) await fsp.rm(join(root, '.symphony', f), { force: true });
  if (chambers.length) {
    const repo = await openRepository(root);
    if (!repo.ok) return err([repo.error]);
    const { git } = repo.value;
    for (const c of chambers) {
      const dir = chamberPath(root, c.id);
      if (await pathExists(dir)) await git.run('worktree', 'remove', '--force', dir);
      if (c.head) await git.run('branch', '-D', c.branch);
    }
    await git.run('worktree', 'prune');
  }
  await fsp.rm(join(root, CHAMBERS_FILE), { force: true });
  await fsp.rmdir(join(root, CHAMBERS_DIR)).catch(() => undefined);
  return ok({ ...plan.value, ...(options.archive ? { archivedTo } : { archive: [], purge: [...archive, ...purge] }) });
}

/** What purging merged chambers did. */
export interface PurgeReport {
  readonly purged: readonly string[];
  /** Chambers left in place, and why. */
  readonly kept: readonly { readonly id: string; readonly reason: string }[];
}

/**
 * Removes chambers whose work is merged (merge-purge-continue): the worktree, its branch
 * and its entry in chambers.json. Only what can be lost by nothing is removed: a chamber
 * with uncommitted changes, or a branch with commits the current HEAD does not have, is
 * kept and said so.
 */
export async function purgeMergedChambers(root: string, ids: readonly string[]): Promise<Result<PurgeReport, string[]>> {
  if (!ids.length) return ok({ purged: [], kept: [] });
  const repo = await openRepository(root);
  if (!repo.ok) return err([repo.error]);
  const { git } = repo.value;
  return withFileLock(join(root, CHAMBERS_LOCK), async () => {
    const known = await loadChambers(root);
    if (!known.ok) return known;
    const purged: string[] = [];
    const kept: { id: string; reason: string }[] = [];
    for (const id of ids) {
      const branch = chamberBranch(id);
      const head = await git.commitOf(`refs/heads/${branch}`);
      const unmerged = head ? (await git.lines('rev-list', `HEAD..${head}`)).length : 0;
      const dir = chamberPath(root, id);
      const dirty = (await pathExists(dir)) && ((await new Git(dir).attempt('status', '--porcelain')) ?? '').trim() !== '';
      if (unmerged || dirty) {
        kept.push({ id, reason: unmerged ? `${branch} has ${unmerged} commit(s) not merged` : 'it has uncommitted changes' });
        continue;
      }
      // Only ignored files (its .chamber/ context) are left: nothing of the work is lost.
      if (await pathExists(dir)) await git.run('worktree', 'remove', '--force', dir);
      if (head) await git.run('branch', '-D', branch);
      purged.push(id);
    }
    await git.run('worktree', 'prune');
    const gone = new Set(purged);
    await saveChambers(root, known.value.filter((c) => !gone.has(c.id)));
    return ok({ purged, kept });
  });
}
