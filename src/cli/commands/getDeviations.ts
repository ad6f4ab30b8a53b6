import { nodeFileSystem } from '../../core/load/fs';
import { findWorkspaceRoot } from '../../core/load/workspace';
import { describeFailure, loadDeviations } from '../../core/deviations/records';
import { SEVERITIES, type DeviationRecord } from '../../core/model/deviation';
import type { CliEnvironment } from '../options';
import { paint, plural, printDiagnostic } from '../print';

/**
 * `symphony get-deviations [--json]` — the records of `.symphony/DEVIATIONS.json`, most
 * severe first. `--json` prints the records as stored (the schema's DeviationRecord).
 */
export async function getDeviationsCommand(env: CliEnvironment, opts: { json?: boolean }): Promise<number> {
  const root = await findWorkspaceRoot(nodeFileSystem, env.cwd);
  const r = await loadDeviations(root);
  if (!r.ok) {
    for (const line of describeFailure(r.error, (d) => printDiagnostic(d, env.cwd, env.color))) env.stderr(`symphony: ${line}\n`);
    return 1;
  }
  const order = [...SEVERITIES].reverse();
  const records = [...r.value].sort((a, b) => order.indexOf(a.severity) - order.indexOf(b.severity));
  if (opts.json) {
    env.stdout(JSON.stringify(records, null, 2) + '\n');
    return 0;
  }
  if (records.length === 0) {
    env.stdout('no deviations recorded — `symphony record-deviation` adds one; `symphony deviations scan` lists markers in the code\n');
    return 0;
  }
  for (const severity of order) {
    const group = records.filter((x) => x.severity === severity);
    if (group.length === 0) continue;
    env.stdout(`${paint(env.color, 'bold', severity)} (${group.length})\n`);
    for (const d of group) env.stdout(describeRecord(d, env.color));
  }
  const open = records.filter((x) => x.status === 'open').length;
  env.stderr(`${plural(records.length, 'deviation')}, ${open} open\n`);
  return 0;
}

function describeRecord(d: DeviationRecord, color: boolean): string {
  const status = d.status === 'open' ? paint(color, 'yellow', 'open    ') : paint(color, 'green', 'resolved');
  const lines = [`  ${d.id}  ${status}  ${d.module} · ${d.agent}`, `      discovered: ${d.discovered}`, `      expected:   ${d.expected}`, `      action:     ${d.action}`];
  if (d.markers.length) lines.push(`      markers:    ${d.markers.map((m) => `${m.file}:${m.line}`).join(', ')}`);
  return lines.join('\n') + '\n';
}
