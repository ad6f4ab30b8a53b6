import { relative } from 'node:path';
import { nodeFileSystem } from '../../core/load/fs';
import { findWorkspaceRoot } from '../../core/load/workspace';
import { DEVIATIONS_FILE, describeFailure, recordDeviation, type NewDeviation } from '../../core/deviations/records';
import type { CliEnvironment } from '../options';
import { printDiagnostic } from '../print';
import { EXIT_USAGE } from '../main';

/** `symphony record-deviation --agent A --module M --severity S --expected E --discovered D --action X --reasoning R --impact I`. */
export async function recordDeviationCommand(env: CliEnvironment, input: NewDeviation): Promise<number> {
  const root = await findWorkspaceRoot(nodeFileSystem, env.cwd);
  const r = await recordDeviation(root, input);
  if (!r.ok) {
    for (const line of describeFailure(r.error, (d) => printDiagnostic(d, env.cwd, env.color))) env.stderr(`symphony: ${line}\n`);
    return r.error.reason === 'invalid' ? EXIT_USAGE : 1;
  }
  const where = relative(env.cwd, root) || '.';
  env.stdout(`recorded ${r.value.id} (${r.value.severity}, module ${r.value.module}) in ${where === '.' ? DEVIATIONS_FILE : `${where}/${DEVIATIONS_FILE}`}\n`);
  return 0;
}
