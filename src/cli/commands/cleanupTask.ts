import { nodeFileSystem } from '../../core/load/fs';
import { findWorkspaceRoot } from '../../core/load/workspace';
import { cleanupTask } from '../../core/chambers/cleanup';
import type { CliEnvironment } from '../options';
import { paint } from '../print';

/**
 * `symphony cleanup-task [--no-archive]` — keeps the learnings (GOTCHAS.md, CLAUDE.md,
 * MODULE_CACHE.json, FAILURE_ANALYSIS.json), archives BUSINESS_LOGIC.json and
 * INTEGRATION_PLAN.json, removes the task's files, chambers and their branches.
 */
export async function cleanupTaskCommand(env: CliEnvironment, opts: { archive: boolean }): Promise<number> {
  const root = await findWorkspaceRoot(nodeFileSystem, env.cwd);
  const r = await cleanupTask(root, { archive: opts.archive });
  if (!r.ok) {
    for (const line of r.error) env.stderr(`symphony: ${line}\n`);
    return 1;
  }
  const say = (verb: string, style: 'green' | 'yellow' | 'dim', what: string) => env.stdout(`${paint(env.color, style, verb.padEnd(9))} ${what}\n`);
  for (const f of r.value.preserved) say('kept', 'dim', `.symphony/${f}`);
  for (const f of r.value.archive) say('archived', 'green', `.symphony/${f} → ${r.value.archivedTo}/${f}`);
  for (const f of r.value.purge) say('removed', 'yellow', `.symphony/${f}`);
  for (const c of r.value.chambers) {
    const lost = [c.unmerged ? `${c.unmerged} unmerged commit${c.unmerged === 1 ? '' : 's'}` : '', c.dirty ? 'uncommitted changes' : ''].filter(Boolean).join(' and ');
    const recover = c.head ? ` (${c.branch} was at ${c.head.slice(0, 12)}${lost ? `, with ${lost}` : ''})` : '';
    say('removed', 'yellow', `chamber ${c.id} and its branch${recover}`);
  }
  if (!r.value.archive.length && !r.value.purge.length && !r.value.chambers.length) env.stderr('nothing to clean up\n');
  return 0;
}
