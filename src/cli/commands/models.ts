import { nodeFileSystem } from '../../core/load/fs';
import { findWorkspaceRoot, loadWorkspaceModel } from '../../core/load/workspace';
import { checkInstruments } from '../../core/providers/check';
import { cliModels } from '../host';
import type { CliEnvironment } from '../options';
import { paint, plural } from '../print';

/**
 * `symphony models [--json]` — every instrument of the workspace, its provider and model,
 * and whether it can be reached now (a model list, a load, the program on PATH), with why
 * not. Exit 0 when every instrument is reachable, 1 otherwise, so a CI job can gate on it.
 */
export async function modelsCommand(env: CliEnvironment, options: { json?: boolean }): Promise<number> {
  const root = await findWorkspaceRoot(nodeFileSystem, env.cwd);
  const workspace = await loadWorkspaceModel(nodeFileSystem, root);
  const instruments = workspace.ensembles.ensembles.flatMap((e) => e.instruments);
  const checks = await checkInstruments(cliModels(env), instruments, { workspaceRoot: root, env: env.env });
  const ok = checks.every((c) => c.reachable);
  if (options.json) {
    env.stdout(JSON.stringify({ ok, instruments: checks }, null, 2) + '\n');
    return ok ? 0 : 1;
  }
  if (checks.length === 0) {
    env.stdout('no instruments yet — add one under ensembles/<ensemble>/<instrument>.yaml (symphony init writes examples)\n');
    return 0;
  }
  for (const c of checks) {
    const mark = c.reachable ? paint(env.color, 'green', '✓') : paint(env.color, 'red', '✗');
    env.stdout(`${mark} ${c.instrument} (${c.nickname}) — ${c.provider}${c.model ? ` ${c.model}` : ''}: ${c.detail}\n`);
  }
  const bad = checks.filter((c) => !c.reachable).length;
  env.stderr((bad ? paint(env.color, 'red', `${plural(bad, 'instrument')} of ${checks.length} cannot be reached`) : paint(env.color, 'green', `all ${plural(checks.length, 'instrument')} reachable`)) + '\n');
  return ok ? 0 : 1;
}
