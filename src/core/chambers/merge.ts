import { promises as fsp } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { loadMergePlan, MERGE_PLAN_FILE, resolvePlan, unionRecords, type ChamberPlan, type DeviationDecision } from '../deviations/mergePlan';
import { DEVIATIONS_FILE, loadDeviations, parseDeviations } from '../deviations/records';
import type { MergeDecision } from '../model/chamber';
import type { DeviationRecord } from '../model/deviation';
import { formatDiagnostic } from '../model/diagnostic';
import { err, ok, type Result } from '../model/result';
import { writeFileAtomic } from '../store/files';
import { Git } from './git';
import { chamberPath, loadChambers, openRepository, type Repository } from './registry';

/**
 * `merge-chambers`: applies `.symphony/MERGE_PLAN.json` to the chambers' branches.
 * Preserved and adapted work is merged (one merge commit per chamber, adapted work
 * flagged); purged work is left out; files of purged deviations are restored to their
 * state before the merge. Each chamber merges entirely or not at all: on a conflict its
 * merge is aborted, so the repository is never left half-merged. What was removed, and
 * why, goes into the merge commits and `.symphony/MERGE_REPORT.json`.
 */

export const MERGE_REPORT_FILE = '.symphony/MERGE_REPORT.json';

/** What happened to one chamber. */
export interface MergeItem {
  readonly chamber: string;
  readonly module: string;
  readonly branch: string;
  readonly decision?: MergeDecision;
  /**
   * merged: its work is in a merge commit · dropped: purged, not merged · skipped: the plan
   * has no decision for its module · up-to-date: nothing new on its branch · conflict:
   * its merge was aborted, nothing of it was merged.
   */
  readonly outcome: 'merged' | 'dropped' | 'skipped' | 'up-to-date' | 'conflict';
  /** The merge commit. */
  readonly commit?: string;
  /** The chamber's commits that were not in the target before (`abc1234 subject`). */
  readonly commits: readonly string[];
  /** Files its work changed (relative to the repository). */
  readonly files: readonly string[];
  /** Files taken back out of a merge because a deviation was purged. */
  readonly purged: readonly { readonly deviation: string; readonly reason: string; readonly files: readonly string[] }[];
  /** Merged work that must be reworked (decision adapt, on the module or a deviation). */
  readonly adapt: readonly { readonly reason: string; readonly notes?: string; readonly files: readonly string[] }[];
  readonly conflicts?: readonly string[];
  /** Work found uncommitted in the chamber, committed on its branch before merging. */
  readonly committedLeftovers?: boolean;
  readonly message?: string;
}

/** The whole merge, as written to MERGE_REPORT.json. */
export interface MergeReport {
  readonly at: string;
  /** The branch merged into (or "HEAD" when detached). */
  readonly into: string;
  readonly before: string;
  readonly after: string;
  readonly items: readonly MergeItem[];
  readonly warnings: readonly string[];
}

/** True when the report has a chamber that could not be merged. */
export function hasConflicts(report: MergeReport): boolean {
  return report.items.some((i) => i.outcome === 'conflict');
}

/** The plan as it applies now, for a confirmation before merging. */
export interface MergePreview {
  readonly plan: readonly ChamberPlan[];
  readonly warnings: readonly string[];
}

/** Git paths are relative to the repository top; plans and records to the workspace root. */
const toRepo = (repo: Repository, file: string) => relative(repo.top, join(repo.root, file)).split(sep).join('/');

/** Paths printed by a git command run with `-z` (added after the subcommand, before any `--`). */
async function paths(git: Git, command: string, ...args: string[]): Promise<string[]> {
  return (await git.run(command, '-z', ...args)).split('\0').filter(Boolean);
}

/** The records on a branch's DEVIATIONS.json; undefined when it has none or it does not parse. */
async function recordsAt(repo: Repository, rev: string): Promise<DeviationRecord[] | undefined> {
  const text = await repo.git.attempt('show', `${rev}:${toRepo(repo, DEVIATIONS_FILE)}`);
  if (text === undefined) return undefined;
  const r = parseDeviations(text, DEVIATIONS_FILE);
  return r.ok ? r.value.deviations : undefined;
}

/** Opens the repository, the plan, the chambers and every known record (the workspace's and the chambers'). */
async function prepare(root: string): Promise<Result<{ repo: Repository; preview: MergePreview }, string[]>> {
  const repo = await openRepository(root);
  if (!repo.ok) return err([repo.error]);
  const chambers = await loadChambers(root);
  if (!chambers.ok) return chambers;
  if (chambers.value.length === 0) return err(['there are no chambers to merge: run `symphony setup-chambers` first']);
  const plan = await loadMergePlan(root);
  if (!plan.ok) return plan;
  const local = await loadDeviations(root);
  if (!local.ok && local.error.reason === 'corrupt') return err(local.error.diagnostics.map((d) => formatDiagnostic(d, relative(root, d.file))));
  let records = local.ok ? local.value : [];
  for (const c of chambers.value) records = unionRecords(records, (await recordsAt(repo.value, c.branch)) ?? []);
  const resolved = resolvePlan(plan.value, chambers.value, records);
  return ok({ repo: repo.value, preview: { plan: resolved.chambers, warnings: resolved.warnings } });
}

/** What merging would do, without doing it. */
export async function previewMerge(root: string): Promise<Result<MergePreview, string[]>> {
  const r = await prepare(root);
  return r.ok ? ok(r.value.preview) : r;
}

/**
 * Merges the chambers per the plan into the current branch of the main worktree. Refuses
 * to start while a merge is under way or tracked files have uncommitted changes (other
 * than the plan and the records, which are committed first so the decisions are in the
 * history next to the merges they explain).
 */
export async function mergeChambers(
  root: string,
  options: {
    readonly now?: Date;
    /** Only these chambers, in this order (the Conductor merges its own, not a person's chambers in progress). */
    readonly only?: readonly string[];
    /** Workspace files Symphony itself changed (the Conductor's trail), committed with the plan before merging. */
    readonly alsoCommit?: readonly string[];
  } = {},
): Promise<Result<MergeReport, string[]>> {
  const prepared = await prepare(root);
  if (!prepared.ok) return prepared;
  const { repo } = prepared.value;
  // `only` also gives the order: the Conductor merges its chambers in the order of their tasks.
  const preview = options.only ? { ...prepared.value.preview, plan: options.only.flatMap((id) => prepared.value.preview.plan.filter((p) => p.chamber.id === id)) } : prepared.value.preview;
  const { git } = repo;
  if (!(await git.commitOf('HEAD'))) return err(['the repository has no commit yet']);
  if (await git.mergeInProgress()) return err(['a merge is already in progress in the main worktree: finish it or run `git merge --abort`, then try again']);
  const ownFiles = [MERGE_PLAN_FILE, DEVIATIONS_FILE, ...(options.alsoCommit ?? [])].map((f) => toRepo(repo, f));
  const dirty = (await paths(git, 'status', '--porcelain', '--untracked-files=no')).map((l) => l.slice(3)).filter((f) => !ownFiles.includes(f));
  if (dirty.length) return err([`commit or stash your changes first; merging chambers needs a clean working tree (changed: ${dirty.join(', ')})`]);
  const pending = (await paths(git, 'status', '--porcelain', '--', ...ownFiles)).map((l) => l.slice(3));
  if (pending.length) {
    await git.run('add', '--', ...pending);
    await git.run('commit', '-m', options.alsoCommit?.length ? 'Symphony: the Conductor\'s records before merging its chambers' : 'Symphony: merge plan and deviation records before merging chambers', '--', ...pending);
  }

  const before = (await git.commitOf('HEAD'))!;
  const into = (await git.attempt('symbolic-ref', '--short', '-q', 'HEAD'))?.trim() || 'HEAD';
  const items: MergeItem[] = [];
  for (const p of preview.plan) items.push(await mergeOne(repo, p));
  const report: MergeReport = {
    at: (options.now ?? new Date()).toISOString(),
    into,
    before,
    after: (await git.commitOf('HEAD'))!,
    items,
    warnings: preview.warnings,
  };
  await fsp.mkdir(join(root, '.symphony'), { recursive: true });
  await writeFileAtomic(join(root, MERGE_REPORT_FILE), JSON.stringify(report, null, 2) + '\n', { durable: false });
  return ok(report);
}

/** Commits what a worker left uncommitted in its chamber, so it is part of the merge. */
async function commitLeftovers(root: string, id: string): Promise<boolean> {
  const chamber = new Git(chamberPath(root, id));
  if ((await chamber.run('status', '--porcelain')).trim() === '') return false;
  await chamber.run('add', '--all');
  await chamber.run('commit', '-m', `Symphony: work left uncommitted in chamber ${id}`);
  return true;
}

async function mergeOne(repo: Repository, p: ChamberPlan): Promise<MergeItem> {
  const { git } = repo;
  const c = p.chamber;
  const base = { chamber: c.id, module: c.module, branch: c.branch, purged: [], adapt: [] } as const;
  const ahead = async () => git.lines('log', '--format=%h %s', `HEAD..${c.branch}`);
  if (!p.decision) {
    return { ...base, outcome: 'skipped', commits: await ahead(), files: [], message: `${MERGE_PLAN_FILE} has no decision for module "${c.module}"; the chamber was left as it is` };
  }
  const decision = p.decision;
  let committedLeftovers = false;
  if (decision.decision !== 'purge') {
    try {
      committedLeftovers = await commitLeftovers(repo.root, c.id);
    } catch (e) {
      return { ...base, decision, outcome: 'conflict', commits: await ahead(), files: [], conflicts: [], message: `could not commit the work left in the chamber: ${(e as Error).message}` };
    }
  }
  const commits = await ahead();
  const files = await paths(git, 'diff', '--name-only', `HEAD...${c.branch}`);
  if (decision.decision === 'purge') return { ...base, decision, outcome: 'dropped', commits, files };
  if (commits.length === 0) return { ...base, decision, outcome: 'up-to-date', commits, files, committedLeftovers };

  const recordsFile = toRepo(repo, DEVIATIONS_FILE);
  const ours = await recordsAt(repo, 'HEAD');
  let refused = '';
  try {
    await git.run('merge', '--no-ff', '--no-commit', c.branch);
  } catch (e) {
    // Conflicts are listed below; a merge git refused to start leaves nothing behind.
    refused = (e as Error).message;
  }
  if (!(await git.mergeInProgress())) {
    return { ...base, decision, outcome: 'conflict', commits, files, conflicts: [], committedLeftovers, message: `git did not merge: ${refused}` };
  }
  if (files.includes(recordsFile)) {
    // Records from both sides, whatever git made of the text.
    const theirs = await recordsAt(repo, c.branch);
    if (ours && theirs) {
      await fsp.writeFile(join(repo.top, recordsFile), JSON.stringify({ version: 1, deviations: unionRecords(ours, theirs) }, null, 2) + '\n');
      await git.run('add', '--', recordsFile);
    }
  }
  const conflicts = await paths(git, 'diff', '--name-only', '--diff-filter=U');
  if (conflicts.length) {
    await git.run('merge', '--abort');
    return { ...base, decision, outcome: 'conflict', commits, files, conflicts, committedLeftovers, message: 'the merge was aborted; nothing of this chamber was merged' };
  }

  const changed = new Set(await paths(git, 'diff', '--cached', '--name-only', 'HEAD'));
  const purged: MergeItem['purged'][number][] = [];
  const adapt: MergeItem['adapt'][number][] = [];
  if (decision.decision === 'adapt') adapt.push({ reason: decision.reason, ...(decision.notes ? { notes: decision.notes } : {}), files: [...changed] });
  for (const d of p.deviations) {
    const touched = d.files.map((f) => toRepo(repo, f)).filter((f) => changed.has(f));
    if (d.decision === 'purge') {
      for (const f of touched) await restoreFromHead(git, f);
      purged.push({ deviation: d.deviation, reason: d.reason, files: touched });
    } else if (d.decision === 'adapt') {
      adapt.push({ reason: `deviation ${d.deviation}: ${d.reason}`, ...(d.notes ? { notes: d.notes } : {}), files: touched });
    }
  }
  try {
    await git.run('commit', '-m', commitMessage(p, purged, adapt));
  } catch (e) {
    await git.run('merge', '--abort');
    return { ...base, decision, outcome: 'conflict', commits, files, conflicts: [], committedLeftovers, message: `the merge commit failed, so the merge was aborted: ${(e as Error).message}` };
  }
  const commit = (await git.commitOf('HEAD'))!;
  return { ...base, decision, outcome: 'merged', commit, commits, files, purged, adapt, committedLeftovers };
}

/** Takes a file's change back out of the merge: its content before the merge, or gone if it is new. */
async function restoreFromHead(git: Git, file: string): Promise<void> {
  const spec = `:(literal)${file}`;
  if ((await git.attempt('cat-file', '-e', `HEAD:${file}`)) !== undefined) await git.run('checkout', 'HEAD', '--', spec);
  else await git.run('rm', '-f', '--quiet', '--', spec);
}

/** The merge commit says what was decided, what was removed and why, and what needs adapting. */
function commitMessage(p: ChamberPlan, purged: MergeItem['purged'], adapt: MergeItem['adapt']): string {
  const d = p.decision!;
  const lines = [`Merge chamber ${p.chamber.id} (module ${p.chamber.module}): ${d.decision}`, '', d.reason];
  for (const x of purged) if (x.files.length) lines.push('', `Purged for deviation ${x.deviation} (${x.reason}):`, ...x.files.map((f) => `- ${f}`));
  for (const x of adapt) lines.push('', `Needs adapting — ${x.reason}${x.notes ? `: ${x.notes}` : ''}`, ...x.files.map((f) => `- ${f}`));
  lines.push('', `Symphony-Chamber: ${p.chamber.id}`);
  return lines.join('\n');
}
