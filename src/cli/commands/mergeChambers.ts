import { nodeFileSystem } from '../../core/load/fs';
import { findWorkspaceRoot } from '../../core/load/workspace';
import { hasConflicts, mergeChambers, MERGE_REPORT_FILE, type MergeItem } from '../../core/chambers/merge';
import type { CliEnvironment } from '../options';
import { paint, plural } from '../print';

const STYLE = { merged: 'green', dropped: 'yellow', skipped: 'dim', 'up-to-date': 'dim', conflict: 'red' } as const;

/** The lines of one chamber's outcome. */
function describeItem(i: MergeItem, color: boolean): string[] {
  const decision = i.decision ? `${i.decision.decision} — ${i.decision.reason}` : 'no decision';
  const lines = [`${paint(color, STYLE[i.outcome], i.outcome.padEnd(10))} ${i.chamber} (module ${i.module}): ${decision}`];
  if (i.committedLeftovers) lines.push('           committed the work left uncommitted in the chamber first');
  if (i.outcome === 'dropped') lines.push(`           not merged: ${plural(i.commits.length, 'commit')}, ${plural(i.files.length, 'file')} (${i.files.join(', ') || 'none'})`);
  for (const p of i.purged) if (p.files.length) lines.push(`           purged for deviation ${p.deviation} (${p.reason}): ${p.files.join(', ')}`);
  for (const a of i.adapt) lines.push(`           needs adapting — ${a.reason}${a.notes ? `: ${a.notes}` : ''}: ${a.files.join(', ') || 'no files'}`);
  if (i.outcome === 'conflict') lines.push(`           ${i.conflicts?.length ? `conflicts in ${i.conflicts.join(', ')}; ` : ''}${i.message ?? ''}`);
  if (i.outcome === 'skipped' && i.message) lines.push(`           ${i.message}`);
  return lines;
}

/**
 * `symphony merge-chambers` — applies `.symphony/MERGE_PLAN.json`. Exit 0 when every
 * decided chamber merged (or was dropped), 1 when one conflicted or nothing could start.
 */
export async function mergeChambersCommand(env: CliEnvironment): Promise<number> {
  const root = await findWorkspaceRoot(nodeFileSystem, env.cwd);
  const r = await mergeChambers(root);
  if (!r.ok) {
    for (const line of r.error) env.stderr(`symphony: ${line}\n`);
    return 1;
  }
  for (const w of r.value.warnings) env.stderr(`${paint(env.color, 'yellow', 'warning:')} ${w}\n`);
  for (const i of r.value.items) env.stdout(describeItem(i, env.color).join('\n') + '\n');
  env.stderr(`into ${r.value.into}: ${r.value.before.slice(0, 12)} → ${r.value.after.slice(0, 12)}; report in ${MERGE_REPORT_FILE}\n`);
  if (hasConflicts(r.value)) {
    env.stderr('the chambers in conflict were not merged and the repository is clean: resolve them in their chambers (or change the plan) and run merge-chambers again\n');
    return 1;
  }
  return 0;
}
