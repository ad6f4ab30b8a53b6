import { purgeMergedChambers } from '../chambers/cleanup';
import { Git } from '../chambers/git';
import { mergeChambers } from '../chambers/merge';
import { pathExists } from '../chambers/registry';
import type { MergePlan } from '../model/chamber';
import { ok } from '../model/result';
import { loadMergePlan, MERGE_PLAN_FILE } from '../deviations/mergePlan';
import { tickTasks } from '../conductor/tick';
import { writeFileAtomic } from '../store/files';
import { join } from 'node:path';
import { permanentError } from './support';
import type { NodeImplementation } from './types';

/** Files the Conductor changes in the main worktree while chambers work: committed before the merge. */
const SHEET = 'sheetMusic.md';
const TRAIL = ['handoff.md', SHEET, '.symphony/MISSION_CONTEXT.json', 'concerto.md'];

/**
 * Merges the Conductor's chambers back (merge-purge-continue): the merge plan decides per
 * module; a chamber it names nowhere is preserved. Each chamber merges all or nothing: a
 * conflict aborts that chamber's merge, fails the node, and names the chamber and files.
 * The tasks of merged chambers are ticked.
 */
export const mergeChambersNode: NodeImplementation<'merge-chambers'> = {
  kind: 'merge-chambers',
  async run(input, ctx) {
    ctx.permissions.checkCommand('git');
    const root = ctx.workspaceRoot;
    const git = new Git(root);
    const branch = (await git.attempt('symbolic-ref', '--quiet', '--short', 'HEAD'))?.trim() || 'a detached HEAD';
    if (input.branch !== undefined && branch !== input.branch) {
      throw permanentError(`the chambers were not merged: the workspace is on ${branch}, and this plan was made on ${input.branch} — check out ${input.branch}, then \`symphony resume ${ctx.runId}\` merges them (they are kept as they are)`);
    }
    // Without a merge plan of the person's, the Conductor starts one: its chambers are preserved.
    const plan = (await pathExists(join(root, MERGE_PLAN_FILE))) ? await loadMergePlan(root) : ok<MergePlan>({ version: 1, modules: {}, deviations: {} });
    if (!plan.ok) throw permanentError(`${MERGE_PLAN_FILE}: ${plan.error.join('; ')}`);
    const modules = { ...plan.value.modules };
    for (const id of input.chambers) modules[id] ??= { decision: 'preserve', reason: 'the Conductor’s assignment passed its gate' };
    await writeFileAtomic(join(root, MERGE_PLAN_FILE), `${JSON.stringify({ ...plan.value, modules }, null, 2)}\n`, { durable: false });
    const ensembleSummaries = (await import('node:fs/promises')).readdir(join(root, 'ensembles')).then((es) => es.map((e) => `ensembles/${e}/summary.txt`), () => [] as string[]);
    const merged = await mergeChambers(root, { only: input.chambers, alsoCommit: [...TRAIL, ...(await ensembleSummaries)] });
    if (!merged.ok) throw permanentError(`the chambers could not be merged: ${merged.error.join('; ')}`);
    const report = merged.value;
    for (const item of report.items) ctx.log('info', `chamber ${item.chamber}: ${item.outcome}${item.commit ? ` (${item.commit.slice(0, 7)})` : ''}${item.files.length ? ` — ${item.files.join(', ')}` : ''}\n`);
    const conflicts = report.items.filter((i) => i.outcome === 'conflict');
    const done = new Set(report.items.filter((i) => i.outcome === 'merged' || i.outcome === 'up-to-date').map((i) => i.chamber));
    const ticks = (input.tasks ?? []).filter((t) => done.has(t.chamber));
    const sheetWasClean = ((await git.attempt('status', '--porcelain', '--', SHEET)) ?? 'unknown').trim() === '';
    for (const note of await tickTasks(root, ticks, ctx.host.editText)) ctx.log('info', `${note}\n`);
    // The ticks join the merges in the history (the trail was committed just before them),
    // so the main tree is left as clean as the merge found it.
    if (ticks.length && sheetWasClean && ((await git.attempt('status', '--porcelain', '--', SHEET)) ?? '').trim()) {
      await git.run('commit', '-m', `Symphony: ${ticks.length === 1 ? 'task' : 'tasks'} ${ticks.map((t) => t.task).join(', ')} done (merged from ${ticks.length === 1 ? 'its chamber' : 'their chambers'})`, '--', SHEET);
    }
    // Merged work is in the branch now: its chambers go (merge-purge-continue); a conflicting one stays for the person.
    const purge = await purgeMergedChambers(root, [...done]);
    if (!purge.ok) ctx.log('info', `the merged chambers were not removed: ${purge.error.join('; ')}\n`);
    else for (const k of purge.value.kept) ctx.log('info', `chamber ${k.id} was kept: ${k.reason}\n`);
    if (conflicts.length) {
      const which = conflicts.map((c) => `${c.chamber} (${(c.conflicts?.length ? c.conflicts : c.files).join(', ') || c.message || 'conflict'})`).join('; ');
      throw permanentError(
        `merging stopped cleanly on a conflict: ${which}; its merge was aborted and the chamber is kept — resolve it there (merge ${branch} into its branch and commit), then \`symphony resume ${ctx.runId}\` merges it and ticks its task`,
      );
    }
    return { output: report };
  },
};
