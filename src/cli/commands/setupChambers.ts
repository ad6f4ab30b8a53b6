import { nodeFileSystem } from '../../core/load/fs';
import { findWorkspaceRoot } from '../../core/load/workspace';
import { parseWorkers, setupChambers } from '../../core/chambers/setup';
import type { CliEnvironment } from '../options';
import { EXIT_USAGE } from '../main';
import { paint } from '../print';

/**
 * `symphony setup-chambers --workers JSON [--clean-state]` — a git worktree per worker
 * under `.symphony/chambers/<id>` on branch `symphony/<id>`, each with `.chamber/` context.
 */
export async function setupChambersCommand(env: CliEnvironment, opts: { workers: string; cleanState?: boolean }): Promise<number> {
  const workers = parseWorkers(opts.workers);
  if (!workers.ok) {
    for (const line of workers.error) env.stderr(`symphony: ${line}\n`);
    return EXIT_USAGE;
  }
  const root = await findWorkspaceRoot(nodeFileSystem, env.cwd);
  const r = await setupChambers(root, workers.value, { cleanState: Boolean(opts.cleanState) });
  if (!r.ok) {
    for (const line of r.error) env.stderr(`symphony: ${line}\n`);
    return 1;
  }
  for (const c of r.value.chambers) {
    const was = c.previousHead ? paint(env.color, 'dim', ` (was at ${c.previousHead.slice(0, 12)}; \`git branch <name> ${c.previousHead.slice(0, 12)}\` recovers it)`) : '';
    env.stdout(`${paint(env.color, c.state === 'kept' ? 'dim' : 'green', c.state.padEnd(10))} ${c.id}  ${c.path}  on ${c.branch}${was}\n`);
  }
  env.stderr(`chambers start from ${r.value.base.slice(0, 12)}; each has its context in .chamber/CONTEXT.md\n`);
  return 0;
}
