import { promises as fsp, realpathSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { parseJsonWith, readJsonFile } from '../load/jsonFile';
import { chamberWorkersSchema, type Chamber, type ChamberWorker } from '../model/chamber';
import { formatDiagnostic } from '../model/diagnostic';
import { missionContextSchema, type MissionContext } from '../model/mission';
import { err, ok, type Result } from '../model/result';
import { loadDeviations } from '../deviations/records';
import type { DeviationRecord } from '../model/deviation';
import { chamberContext, renderContext } from './context';
import type { Git } from './git';
import { withFileLock } from '../store/lock';
import { chamberBranch, chamberPath, CHAMBERS_DIR, CHAMBERS_LOCK, CONTEXT_DIR, excludeFromGit, loadChambers, openRepository, pathExists, saveChambers, type Repository } from './registry';

/**
 * `setup-chambers`: one git worktree per worker under `.symphony/chambers/<id>`, on branch
 * `symphony/<id>`, with the worker's tiered context in `.chamber/`.
 */

/** What happened to one chamber. */
export interface ChamberOutcome {
  readonly id: string;
  readonly branch: string;
  /** Relative to the workspace root. */
  readonly path: string;
  /**
   * created: new branch and worktree · kept: it existed and was left as it was (its
   * context refreshed) · reattached: its branch existed, the worktree was made again ·
   * recreated: `--clean-state` reset it to the current commit.
   */
  readonly state: 'created' | 'kept' | 'reattached' | 'recreated';
  /** With `recreated`: the commit the branch was at before, to recover discarded work. */
  readonly previousHead?: string;
}

/** The result of setting up chambers. */
export interface SetupReport {
  /** The commit new and recreated chambers start from. */
  readonly base: string;
  readonly chambers: readonly ChamberOutcome[];
}

/** Parses the `--workers` JSON; problems come back as sentences. */
export function parseWorkers(json: string): Result<ChamberWorker[], string[]> {
  const r = parseJsonWith(chamberWorkersSchema, json, '--workers', 'expected a list like [{"id":"auth-impl","module":"auth","scope":"src/auth/**"}]');
  if (!r.ok) return err(r.error.map((d) => formatDiagnostic(d)));
  return ok(r.value);
}

/** The mission and the deviation records every chamber's context is built from. */
async function workspaceKnowledge(root: string): Promise<Result<{ mission: MissionContext | undefined; records: DeviationRecord[] }, string[]>> {
  const problems: string[] = [];
  const mission = await readJsonFile(missionContextSchema, join(root, '.symphony', 'MISSION_CONTEXT.json'), 'expected { original_request, current_understanding, discovered_requirements }');
  if (!mission.ok) problems.push(...mission.error.map((d) => formatDiagnostic(d, relative(root, d.file))));
  const records = await loadDeviations(root);
  if (!records.ok && records.error.reason === 'corrupt') problems.push(...records.error.diagnostics.map((d) => formatDiagnostic(d, relative(root, d.file))));
  if (problems.length) return err(problems);
  return ok({ mission: mission.ok ? mission.value : undefined, records: records.ok ? records.value : [] });
}

/** Worktree folders git knows, as real paths. */
async function worktreePaths(git: Git): Promise<Set<string>> {
  const out = await git.lines('worktree', 'list', '--porcelain');
  return new Set(out.filter((l) => l.startsWith('worktree ')).map((l) => realPath(l.slice('worktree '.length))));
}

function realPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * Creates (or refreshes) a chamber per worker. With `cleanState`, existing chambers are
 * reset to the current commit — the merged state — discarding what was in them; the
 * report names the commit each was at, so that work can still be recovered.
 */
export async function setupChambers(
  root: string,
  workers: readonly ChamberWorker[],
  options: { readonly cleanState?: boolean; readonly now?: Date } = {},
): Promise<Result<SetupReport, string[]>> {
  const repo = await openRepository(root);
  if (!repo.ok) return err([repo.error]);
  if (!(await repo.value.git.commitOf('HEAD'))) return err(['the repository has no commit yet; commit once, then set up chambers from it']);
  // One at a time: parallel assignments of the Conductor each set up their chamber, and
  // chambers.json (read, changed, written) and git's worktree list are shared.
  await fsp.mkdir(join(root, CHAMBERS_DIR), { recursive: true });
  return withFileLock(join(root, CHAMBERS_LOCK), () => setUp(root, repo.value, workers, options));
}

async function setUp(root: string, repo: Repository, workers: readonly ChamberWorker[], options: { readonly cleanState?: boolean; readonly now?: Date }): Promise<Result<SetupReport, string[]>> {
  const { git, top } = repo;
  const base = (await git.commitOf('HEAD'))!;
  const knowledge = await workspaceKnowledge(root);
  if (!knowledge.ok) return knowledge;
  const known = await loadChambers(root);
  if (!known.ok) return known;

  const chambersRel = relative(top, join(root, CHAMBERS_DIR)).split(sep).join('/');
  await excludeFromGit(git, [`/${chambersRel}/`, `${CONTEXT_DIR}/`]);
  await git.run('worktree', 'prune');
  const existing = await worktreePaths(git);
  const now = (options.now ?? new Date()).toISOString();

  const outcomes: ChamberOutcome[] = [];
  const chambers: Chamber[] = [];
  for (const w of workers) {
    const path = chamberPath(root, w.id);
    const branch = chamberBranch(w.id);
    const branchHead = await git.commitOf(`refs/heads/${branch}`);
    const isWorktree = existing.has(realPath(path));
    let state: ChamberOutcome['state'];
    let previousHead: string | undefined;
    if (isWorktree && !options.cleanState) {
      state = 'kept';
    } else {
      if (isWorktree) await git.run('worktree', 'remove', '--force', path);
      if (await pathExists(path)) return err([`${relative(root, path)} is in the way: it is not a worktree of this repository; move it, then try again`]);
      if (branchHead && !options.cleanState) {
        await git.run('worktree', 'add', path, branch);
        state = 'reattached';
      } else {
        // -B resets a branch left from an earlier task to the merged state.
        await git.run('worktree', 'add', '-B', branch, path, base);
        state = branchHead ? 'recreated' : 'created';
        if (branchHead && branchHead !== base) previousHead = branchHead;
      }
    }
    const previous = known.value.find((c) => c.id === w.id);
    const keepsBase = state === 'kept' || state === 'reattached';
    chambers.push({ ...w, branch, path: relative(root, path).split(sep).join('/'), base: keepsBase && previous ? previous.base : base, createdAt: keepsBase && previous ? previous.createdAt : now });
    outcomes.push({ id: w.id, branch, path: relative(root, path).split(sep).join('/'), state, ...(previousHead ? { previousHead } : {}) });
  }

  const ids = new Set(workers.map((w) => w.id));
  const all = [...known.value.filter((c) => !ids.has(c.id)), ...chambers];
  for (const c of chambers) await writeContext(chamberPath(root, c.id), c, all, knowledge.value.mission, knowledge.value.records);
  await saveChambers(root, all);
  return ok({ base, chambers: outcomes });
}

/** Writes `.chamber/CONTEXT.md` and `.chamber/context.json` into a chamber's worktree. */
async function writeContext(dir: string, c: Chamber, all: readonly Chamber[], mission: MissionContext | undefined, records: readonly DeviationRecord[]): Promise<void> {
  const ctx = chamberContext(c, all, mission, records);
  const target = join(dir, CONTEXT_DIR);
  await fsp.mkdir(target, { recursive: true });
  await fsp.writeFile(join(target, 'CONTEXT.md'), renderContext(ctx));
  await fsp.writeFile(join(target, 'context.json'), JSON.stringify(ctx, null, 2) + '\n');
}
