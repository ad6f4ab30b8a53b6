import { mergeChambers } from '../chambers/merge';
import { loadMergePlan, MERGE_PLAN_FILE } from '../deviations/mergePlan';
import { tickTasks } from '../conductor/tick';
import { writeFileAtomic } from '../store/files';
import { join } from 'node:path';
import { permanentError } from './support';
import type { NodeImplementation } from './types';

/** Files the Conductor changes in the main worktree while chambers work: committed before the merge. */
const TRAIL = ['handoff.md', 'sheetMusic.md', '.symphony/MISSION_CONTEXT.json', 'concerto.md'];

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
    const plan = await loadMergePlan(root);
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
    for (const note of await tickTasks(root, (input.tasks ?? []).filter((t) => done.has(t.chamber)), ctx.host.editText)) ctx.log('info', `${note}\n`);
    if (conflicts.length) {
      const which = conflicts.map((c) => `${c.chamber} (${(c.conflicts?.length ? c.conflicts : c.files).join(', ') || c.message || 'conflict'})`).join('; ');
      throw permanentError(`merging stopped cleanly on a conflict: ${which}; its merge was aborted and the chamber is kept — resolve it there, then run \`symphony merge-chambers\``);
    }
    return { output: report };
  },
};
