import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { NodeRecord, RunRecord } from '../model/run';

/**
 * Node durations span a shell one-liner to a long model session: 10 ms to an hour.
 * prom-client's defaults stop at 10 s, which would put every model call in `+Inf`.
 */
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * Whether a node did anything in this run. Nodes a replay took from another run have no
 * attempts; counting them would count that work twice. Skipped and cancelled nodes never
 * run, yet they are results of this run.
 */
function isOwnResult(n: NodeRecord): n is NodeRecord & { state: 'success' | 'failure' | 'skipped' | 'cancelled' } {
  if (n.state === 'pending' || n.state === 'running') return false;
  return n.attempts > 0 || n.state === 'skipped' || n.state === 'cancelled';
}

/** A counter cannot go down; a damaged figure in one record must not fail the whole scrape. */
const amount = (x: number | undefined): number => (x !== undefined && Number.isFinite(x) && x > 0 ? x : 0);

/**
 * `symphony metrics`: Prometheus text exposition computed from run records. A fresh
 * registry per call: the figures are a pure function of the records (what is on disk),
 * not of what this process happened to run, and the global registry stays untouched.
 * Counters drop when `gc` removes runs; Prometheus reads that as a counter reset.
 */
export async function metricsText(records: readonly RunRecord[]): Promise<string> {
  const registry = new Registry();
  const registers = [registry];
  const durations = new Histogram({
    name: 'symphony_node_duration_seconds',
    help: 'Time nodes took, from first attempt to result (nodes that ran only).',
    labelNames: ['melody', 'node', 'status'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const runs = new Counter({ name: 'symphony_runs_total', help: 'Finished runs by result.', labelNames: ['melody', 'status'] as const, registers });
  // runs_total only counts finished runs (a counter must not go down when a run finishes),
  // so the ones still going get their own gauge.
  const running = new Gauge({ name: 'symphony_runs_in_progress', help: 'Runs not finished (or whose process died; see `symphony resume`).', labelNames: ['melody'] as const, registers });
  const results = new Counter({ name: 'symphony_node_results_total', help: 'Node results by status.', labelNames: ['melody', 'status'] as const, registers });
  const retries = new Counter({ name: 'symphony_node_retries_total', help: 'Attempts beyond the first, summed over nodes.', labelNames: ['melody'] as const, registers });
  const tokens = new Counter({ name: 'symphony_tokens_total', help: 'Model tokens used, by instrument and the model that answered.', labelNames: ['melody', 'instrument', 'model', 'direction'] as const, registers });
  const cost = new Counter({ name: 'symphony_cost_usd_total', help: 'Model cost in US dollars, by instrument and model.', labelNames: ['melody', 'instrument', 'model'] as const, registers });

  for (const r of records) {
    const melody = r.melody;
    if (r.state === 'running') running.inc({ melody });
    else runs.inc({ melody, status: r.state });
    for (const [node, n] of Object.entries(r.nodes)) {
      if (!isOwnResult(n)) continue;
      results.inc({ melody, status: n.state });
      if (n.attempts > 0 && n.durationMs !== undefined) durations.observe({ melody, node, status: n.state }, n.durationMs / 1000);
      // inc(0) still creates the series, so a melody with no retries reports 0 rather than nothing.
      retries.inc({ melody }, amount(n.attempts - 1));
    }
    // Runs recorded before usage events existed only know their totals: their instrument and model are unknown ("").
    const usage = r.usage?.length ? r.usage : [{ instrument: '', model: '', tokens: r.tokens, costUsd: r.costUsd }];
    for (const u of usage) {
      const labels = { melody, instrument: u.instrument, model: u.model };
      tokens.inc({ ...labels, direction: 'input' }, amount(u.tokens.input));
      tokens.inc({ ...labels, direction: 'output' }, amount(u.tokens.output));
      cost.inc(labels, amount(u.costUsd));
    }
  }
  return registry.metrics();
}
