import * as assert from 'node:assert/strict';
import { register } from 'prom-client';
import { replayEvents, type RunEvent, type RunRecord } from '../../src/core/model/run';
import { metricsText } from '../../src/core/store/metrics';
import { AT, sampleRun } from './storeFixtures';

function record(events: readonly RunEvent[]): RunRecord {
  return replayEvents(events)!;
}

/** The sample samples of a metric (name{labels} value), sorted: exact and order-free. */
function samples(text: string, metric: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${metric}{`) || l.startsWith(`${metric} `))
    .sort();
}

describe('metricsText', () => {
  const finished = record(sampleRun('r1', 'build'));
  const second = record(sampleRun('r2', 'build').map((e) => (e.type === 'run-finished' ? { ...e, status: 'success' as const, tokens: { input: 100, output: 50 }, costUsd: 0.5 } : e)));
  // Still going: node a done, b started.
  const running = record(sampleRun('r3', 'review').slice(0, 5));
  // A replay took node a from another run (no attempts of its own) and skipped b.
  const replay = record([
    sampleRun('r4', 'review')[0]!,
    { type: 'node-finished', runId: 'r4', at: AT, nodeId: 'a', status: 'success', attempts: 0, iterations: 0, durationMs: 0, reason: 'taken from run r3' },
    { type: 'node-finished', runId: 'r4', at: AT, nodeId: 'b', status: 'skipped', attempts: 0, iterations: 0, durationMs: 0 },
    { type: 'run-finished', runId: 'r4', at: AT, status: 'success', tokens: { input: 0, output: 0 }, costUsd: 0, durationMs: 5 },
  ]);

  it('counts runs, node results, retries, tokens and cost per melody', async () => {
    const text = await metricsText([finished, second, running, replay]);
    assert.deepEqual(samples(text, 'symphony_runs_total'), [
      'symphony_runs_total{melody="build",status="failure"} 1',
      'symphony_runs_total{melody="build",status="success"} 1',
      'symphony_runs_total{melody="review",status="success"} 1',
    ]);
    assert.deepEqual(samples(text, 'symphony_runs_in_progress'), ['symphony_runs_in_progress{melody="review"} 1']);
    assert.deepEqual(samples(text, 'symphony_node_results_total'), [
      'symphony_node_results_total{melody="build",status="failure"} 2',
      'symphony_node_results_total{melody="build",status="success"} 2',
      'symphony_node_results_total{melody="review",status="skipped"} 1',
      'symphony_node_results_total{melody="review",status="success"} 1',
    ]);
    assert.deepEqual(samples(text, 'symphony_node_retries_total'), ['symphony_node_retries_total{melody="build"} 2', 'symphony_node_retries_total{melody="review"} 0']);
    assert.deepEqual(samples(text, 'symphony_tokens_total'), [
      'symphony_tokens_total{melody="build",instrument="",model="",direction="input"} 110',
      'symphony_tokens_total{melody="build",instrument="",model="",direction="output"} 55',
      'symphony_tokens_total{melody="review",instrument="",model="",direction="input"} 10',
      'symphony_tokens_total{melody="review",instrument="",model="",direction="output"} 5',
    ]);
    assert.deepEqual(samples(text, 'symphony_cost_usd_total'), ['symphony_cost_usd_total{melody="build",instrument="",model=""} 0.51', 'symphony_cost_usd_total{melody="review",instrument="",model=""} 0.01']);
    assert.match(text, /# TYPE symphony_node_duration_seconds histogram/);
  });

  it('counts tokens and cost by instrument and the model that answered', async () => {
    const run = sampleRun('r5', 'agent');
    const usage = (nodeId: string, instrument: string, model: string, input: number, costUsd: number): RunEvent => ({ type: 'node-usage', runId: 'r5', at: AT, nodeId, instrument, model, tokens: { input, output: 1 }, costUsd });
    const text = await metricsText([record([run[0]!, usage('a', 'core/coder', 'gpt-4o-mini', 100, 0.25), usage('a', 'core/coder', 'gpt-4o-mini', 50, 0.25), usage('b', 'core/local', 'tiny', 7, 0), run[run.length - 1]!])]);
    assert.deepEqual(samples(text, 'symphony_tokens_total'), [
      'symphony_tokens_total{melody="agent",instrument="core/coder",model="gpt-4o-mini",direction="input"} 150',
      'symphony_tokens_total{melody="agent",instrument="core/coder",model="gpt-4o-mini",direction="output"} 2',
      'symphony_tokens_total{melody="agent",instrument="core/local",model="tiny",direction="input"} 7',
      'symphony_tokens_total{melody="agent",instrument="core/local",model="tiny",direction="output"} 1',
    ]);
    assert.deepEqual(samples(text, 'symphony_cost_usd_total'), ['symphony_cost_usd_total{melody="agent",instrument="core/coder",model="gpt-4o-mini"} 0.5', 'symphony_cost_usd_total{melody="agent",instrument="core/local",model="tiny"} 0']);
  });

  it('observes the duration of nodes that ran, by melody, node and status', async () => {
    const text = await metricsText([finished, second, replay]);
    const a = '{melody="build",node="a",status="success"}';
    assert.ok(text.includes(`symphony_node_duration_seconds_count${a} 2`));
    assert.ok(text.includes(`symphony_node_duration_seconds_sum${a} 3`));
    // 1.5 s falls in the 2.5 s bucket, not the 1 s one.
    assert.ok(text.includes('symphony_node_duration_seconds_bucket{le="1",melody="build",node="a",status="success"} 0'));
    assert.ok(text.includes('symphony_node_duration_seconds_bucket{le="2.5",melody="build",node="a",status="success"} 2'));
    assert.ok(text.includes('symphony_node_duration_seconds_count{melody="build",node="b",status="failure"} 2'));
    assert.ok(!text.includes('symphony_node_duration_seconds_count{melody="review"'), 'nodes taken from another run or skipped are not timed');
  });

  it('builds a fresh registry each time and leaves the global one alone', async () => {
    const first = await metricsText([finished]);
    assert.equal(await metricsText([finished]), first);
    assert.equal(register.getSingleMetric('symphony_runs_total'), undefined);
    assert.doesNotMatch(await metricsText([]), /symphony_runs_total\{/);
  });
});
