import { nodeFileSystem } from '../../core/load/fs';
import { findWorkspaceRoot, isWorkspaceRoot } from '../../core/load/workspace';
import type { RunRecord } from '../../core/model/run';
import { collectGarbage } from '../../core/store/artifacts';
import { verifyAudit } from '../../core/store/audit';
import { sweepLeftovers } from '../../core/store/leftovers';
import { metricsText } from '../../core/store/metrics';
import { FileRunStorage } from '../../core/store/runs';
import type { CliEnvironment } from '../options';
import { paint, plural } from '../print';

/** The commands over a workspace's run records: runs, gc, audit verify, metrics. */

async function storageFor(env: CliEnvironment): Promise<{ root: string; storage: FileRunStorage }> {
  const root = await findWorkspaceRoot(nodeFileSystem, env.cwd);
  return { root, storage: new FileRunStorage(root) };
}

const duration = (r: RunRecord) => (r.durationMs === undefined ? '' : r.durationMs < 1000 ? `${r.durationMs}ms` : `${(r.durationMs / 1000).toFixed(1)}s`);

/** `symphony runs [--json]` — every run of the workspace, newest first. */
export async function runsCommand(env: CliEnvironment, options: { json?: boolean }): Promise<number> {
  const { root, storage } = await storageFor(env);
  // "No runs yet" would suggest running one here, where nothing can run.
  if (!(await isWorkspaceRoot(nodeFileSystem, root))) {
    env.stderr(`symphony: ${env.cwd} is not a Symphony workspace (no sheetMusic.md, .symphony/ or ensembles/ here or above): cd into one, or create one with \`symphony init\`\n`);
    return 1;
  }
  const records = await storage.list();
  if (options.json) {
    const rows = records.map((r) => ({
      runId: r.runId,
      melody: r.melody,
      status: r.state,
      startedAt: r.startedAt,
      endedAt: r.endedAt ?? null,
      durationMs: r.durationMs ?? null,
      trigger: r.trigger,
      parentRunId: r.parent?.runId ?? null,
      nodes: Object.fromEntries(Object.entries(r.nodes).map(([id, n]) => [id, n.state])),
    }));
    env.stdout(JSON.stringify(rows, null, 2) + '\n');
    return 0;
  }
  if (records.length === 0) {
    env.stdout('no runs yet — start one with `symphony run <melody>`\n');
    return 0;
  }
  for (const r of records) {
    const nodes = Object.values(r.nodes);
    const ok = nodes.filter((n) => n.state === 'success').length;
    const style = r.state === 'success' ? 'green' : r.state === 'failure' ? 'red' : r.state === 'running' ? 'cyan' : 'yellow';
    const state = paint(env.color, style, r.state.padEnd(9));
    const parent = r.parent ? paint(env.color, 'dim', ` (child of ${r.parent.runId})`) : '';
    env.stdout(`${r.runId}  ${state} ${r.melody.padEnd(20)} ${`${ok}/${nodes.length} nodes`.padEnd(12)} ${duration(r).padStart(7)}  ${r.startedAt}${parent}\n`);
  }
  const stuck = records.filter((r) => r.state === 'running').length;
  if (stuck) env.stderr(`${plural(stuck, 'run')} still marked running: if its process died, continue it with \`symphony resume <runId>\`\n`);
  return 0;
}

/** `symphony gc [--keep-last N]` — removes old runs, unreferenced artifacts and what killed writers left. */
export async function gcCommand(env: CliEnvironment, options: { keepLast: number }): Promise<number> {
  const { root, storage } = await storageFor(env);
  const r = await collectGarbage(root, storage, options.keepLast);
  const leftovers = await sweepLeftovers(root, { runs: 'all' });
  const swept = leftovers ? ` and ${plural(leftovers, 'file')} killed writers left` : '';
  env.stdout(`removed ${plural(r.runsRemoved, 'run')}, ${r.cacheEntriesRemoved} cache ${r.cacheEntriesRemoved === 1 ? 'entry' : 'entries'} and ${plural(r.artifactsRemoved, 'artifact')}${swept}, freed ${(r.bytesFreed / 1024).toFixed(1)} KiB (kept the newest ${options.keepLast} runs)\n`);
  return 0;
}

/** `symphony audit verify` — exit 1 naming the first bad record. */
export async function auditVerifyCommand(env: CliEnvironment): Promise<number> {
  const { root } = await storageFor(env);
  const v = await verifyAudit(root);
  if (v.ok) {
    const anchors = v.anchored ? `, the anchors of ${plural(v.anchored, 'run')} in place` : '';
    env.stdout(`${paint(env.color, 'green', '✓')} audit log intact: ${plural(v.records, 'record')}${anchors}, head ${v.head}\n`);
    return 0;
  }
  env.stdout(`${paint(env.color, 'red', '✗')} .symphony/audit.jsonl:${v.line}: ${v.reason}\n`);
  return 1;
}

/** `symphony metrics` — Prometheus text over every stored run. */
export async function metricsCommand(env: CliEnvironment): Promise<number> {
  const { storage } = await storageFor(env);
  env.stdout(await metricsText(await storage.list()));
  return 0;
}
