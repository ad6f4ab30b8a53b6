import * as assert from 'node:assert/strict';
import * as fc from 'fast-check';
import { nameRecord } from '../../src/core/model/names';
import { applyEvent, NO_TOKENS, replayEvents, RunRecordBuilder, type AttemptRecord, type NodeRecord, type RunEvent, type RunRecord, type TokenUsage } from '../../src/core/model/run';

/**
 * The fold as it was first written: every event copies the node's record with a spread.
 * run.json is JSON.stringify of the record, so the builder that changes records in place
 * must give the same keys, in the same order, with the same (also undefined) values.
 */
function reference(record: RunRecord | undefined, e: RunEvent): RunRecord {
  const EMPTY: NodeRecord = { state: 'pending', attempts: 0, iterations: 0, timeline: [] };
  const add = (a: TokenUsage, b: TokenUsage | undefined): TokenUsage => (b ? { input: a.input + b.input, output: a.output + b.output } : a);
  if (e.type === 'run-started') {
    return {
      runId: e.runId,
      melody: e.melody,
      file: e.file,
      definitionHash: e.definitionHash,
      state: 'running',
      startedAt: e.at,
      inputs: e.inputs,
      trigger: e.trigger,
      parent: e.parent,
      replayOf: e.replayOf,
      nodes: nameRecord(),
      tokens: NO_TOKENS,
      costUsd: 0,
      resumes: 0,
    };
  }
  const r = { ...record!, nodes: nameRecord(Object.entries(record!.nodes)) } as { -readonly [K in keyof RunRecord]: RunRecord[K] } & { nodes: Record<string, NodeRecord> };
  const node = (id: string) => r.nodes[id] ?? EMPTY;
  const closeLast = (n: NodeRecord, at: string, error?: string): readonly AttemptRecord[] => {
    const last = n.timeline[n.timeline.length - 1];
    return last && !last.endedAt ? [...n.timeline.slice(0, -1), { ...last, endedAt: at, error }] : n.timeline;
  };
  switch (e.type) {
    case 'run-resumed':
      r.resumes += 1;
      break;
    case 'node-started': {
      const n = node(e.nodeId);
      r.nodes[e.nodeId] = {
        ...n,
        state: 'running',
        attempts: Math.max(n.attempts, e.attempt),
        iterations: Math.max(n.iterations, e.iteration + 1),
        startedAt: n.startedAt ?? e.at,
        provenance: e.provenance,
        instrument: e.instrument ?? n.instrument,
        timeline: [...n.timeline, { attempt: e.attempt, iteration: e.iteration, startedAt: e.at, instrument: e.instrument }],
      };
      break;
    }
    case 'node-retried':
    case 'node-fallback': {
      const n = node(e.nodeId);
      r.nodes[e.nodeId] = { ...n, timeline: closeLast(n, e.at, e.error) };
      break;
    }
    case 'node-usage': {
      const n = node(e.nodeId);
      r.nodes[e.nodeId] = { ...n, tokens: add(n.tokens ?? NO_TOKENS, e.tokens), costUsd: (n.costUsd ?? 0) + e.costUsd };
      r.tokens = add(r.tokens, e.tokens);
      r.costUsd += e.costUsd;
      const instrument = e.instrument ?? '';
      const model = e.model ?? '';
      const usage = [...(r.usage ?? [])];
      const i = usage.findIndex((u) => u.instrument === instrument && u.model === model);
      const was = i >= 0 ? usage[i]! : { instrument, model, calls: 0, tokens: NO_TOKENS, costUsd: 0 };
      const now = { instrument, model, calls: was.calls + 1, tokens: add(was.tokens, e.tokens), costUsd: was.costUsd + e.costUsd };
      if (i >= 0) usage[i] = now;
      else usage.push(now);
      r.usage = usage;
      break;
    }
    case 'node-finished': {
      const n = node(e.nodeId);
      const extra = { input: Math.max(0, (e.tokens?.input ?? 0) - (n.tokens?.input ?? 0)), output: Math.max(0, (e.tokens?.output ?? 0) - (n.tokens?.output ?? 0)) };
      const extraCost = Math.max(0, (e.costUsd ?? 0) - (n.costUsd ?? 0));
      r.nodes[e.nodeId] = {
        ...n,
        state: e.status,
        attempts: e.attempts,
        iterations: e.iterations,
        startedAt: n.startedAt ?? e.at,
        endedAt: e.at,
        durationMs: e.durationMs,
        output: e.output,
        outputRef: e.outputRef,
        error: e.error,
        reason: e.reason,
        tokens: e.tokens ?? n.tokens,
        costUsd: e.costUsd ?? n.costUsd,
        provenance: e.provenance ?? n.provenance,
        ...(e.cached ? { cached: true } : {}),
        timeline: closeLast(n, e.at, e.error),
      };
      r.tokens = add(r.tokens, extra);
      r.costUsd += extraCost;
      break;
    }
    case 'run-finished':
      Object.assign(r, { state: e.status, endedAt: e.at, durationMs: e.durationMs, tokens: e.tokens, costUsd: e.costUsd, error: e.error });
      if (e.auditHead) r.auditHead = e.auditHead;
      if (e.auditError !== undefined) r.auditError = e.auditError;
      break;
    case 'node-tool': {
      const n = node(e.nodeId);
      r.nodes[e.nodeId] = { ...n, toolCalls: (n.toolCalls ?? 0) + 1 };
      break;
    }
    default:
      break;
  }
  return r;
}

const runId = 'r1';
const nodeId = fc.constantFrom('a', 'b', 'c', 'constructor');
const at = fc.integer({ min: 0, max: 10 ** 6 }).map((ms) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString());
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const tokens = fc.record({ input: fc.nat(1000), output: fc.nat(1000) });
const started: fc.Arbitrary<RunEvent> = fc.record({
  type: fc.constant('run-started' as const),
  runId: fc.constant(runId),
  at,
  melody: fc.constant('m'),
  file: fc.constant('m.melody.yaml'),
  definitionHash: fc.constant('h'),
  inputs: fc.constant({}),
  trigger: fc.constant({ kind: 'manual' as const }),
  parent: maybe(fc.constant({ runId: 'p', nodeId: 'n' })),
});
const later: fc.Arbitrary<RunEvent> = fc.oneof(
  fc.record({ type: fc.constant('run-resumed' as const), runId: fc.constant(runId), at, pid: fc.nat() }),
  fc.record({ type: fc.constant('node-started' as const), runId: fc.constant(runId), at, nodeId, attempt: fc.integer({ min: 1, max: 4 }), iteration: fc.nat(3), instrument: maybe(fc.constantFrom('e/x', 'e/y')), provenance: fc.constantFrom('', 'p1', 'p2') }),
  fc.record({ type: fc.constant('node-retried' as const), runId: fc.constant(runId), at, nodeId, attempt: fc.nat(4), delayMs: fc.nat(), error: fc.constantFrom('boom', 'late') }),
  fc.record({ type: fc.constant('node-fallback' as const), runId: fc.constant(runId), at, nodeId, from: fc.constant('e/x'), to: fc.constant('e/y'), error: fc.constant('down') }),
  fc.record({ type: fc.constant('node-usage' as const), runId: fc.constant(runId), at, nodeId, instrument: maybe(fc.constantFrom('e/x', 'e/y')), model: maybe(fc.constant('m1')), tokens, costUsd: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ type: fc.constant('node-tool' as const), runId: fc.constant(runId), at, nodeId, step: fc.nat(5), tool: fc.constant('read_file'), args: fc.constant({}), ok: fc.boolean(), resultChars: fc.nat(), durationMs: fc.nat() }),
  fc.record({ type: fc.constant('node-log' as const), runId: fc.constant(runId), at, nodeId, stream: fc.constant('stdout' as const), text: fc.constant('x') }),
  fc.record(
    {
      type: fc.constant('node-finished' as const),
      runId: fc.constant(runId),
      at,
      nodeId,
      status: fc.constantFrom('success' as const, 'failure' as const, 'skipped' as const, 'cancelled' as const),
      attempts: fc.nat(4),
      iterations: fc.nat(3),
      output: fc.jsonValue({ maxDepth: 2 }),
      outputRef: fc.constant('sha'),
      error: fc.constant('bad'),
      reason: fc.constant('why'),
      tokens,
      costUsd: fc.double({ min: 0, max: 1, noNaN: true }),
      durationMs: fc.nat(),
      provenance: fc.constant('p3'),
      cached: fc.boolean(),
      cacheKey: fc.constant('k'),
    },
    { requiredKeys: ['type', 'runId', 'at', 'nodeId', 'status', 'attempts', 'iterations', 'durationMs'] },
  ),
  fc.record(
    { type: fc.constant('run-finished' as const), runId: fc.constant(runId), at, status: fc.constantFrom('success' as const, 'failure' as const), tokens, costUsd: fc.double({ min: 0, max: 1, noNaN: true }), durationMs: fc.nat(), error: fc.constant('e'), auditHead: fc.constant({ seq: 3, hash: 'h' }), auditError: fc.constant('no') },
    { requiredKeys: ['type', 'runId', 'at', 'status', 'tokens', 'costUsd', 'durationMs'] },
  ),
);
const journal = fc.tuple(started, fc.array(later, { maxLength: 40 })).map(([s, rest]) => [s, ...rest]);

describe('RunRecordBuilder', () => {
  it('folds any journal into the record, key for key and byte for byte, that a copy per event made', () => {
    fc.assert(
      fc.property(journal, fc.nat(40), (events, cut) => {
        let expected: RunRecord | undefined;
        for (const e of events) expected = reference(expected, e);
        const folded = replayEvents(events)!;
        assert.equal(JSON.stringify(folded, null, 2), JSON.stringify(expected, null, 2));
        assert.deepStrictEqual(folded, expected);
        // Event by event (a builder per event), and a builder that starts from a record halfway.
        let stepped: RunRecord | undefined;
        for (const e of events) stepped = applyEvent(stepped, e);
        assert.deepStrictEqual(stepped, expected);
        const head = replayEvents(events.slice(0, Math.max(1, cut)))!;
        const headText = JSON.stringify(head);
        const resumed = new RunRecordBuilder(head);
        for (const e of events.slice(Math.max(1, cut))) resumed.apply(e);
        assert.equal(JSON.stringify(resumed.record, null, 2), JSON.stringify(expected, null, 2));
        // …without changing the record it started from.
        assert.equal(JSON.stringify(head), headText);
      }),
      { numRuns: 300 },
    );
  });

  it('gives a node a new record only when an event changes it, and never changes a record it started from', () => {
    const events: RunEvent[] = [
      { type: 'run-started', runId, at: 't0', melody: 'm', file: 'f', definitionHash: 'h', inputs: {}, trigger: { kind: 'manual' } },
      { type: 'node-started', runId, at: 't1', nodeId: 'a', attempt: 1, iteration: 0, provenance: 'p' },
      { type: 'node-started', runId, at: 't1', nodeId: 'b', attempt: 1, iteration: 0, provenance: 'p' },
    ];
    const before = replayEvents(events)!;
    const a = before.nodes.a!;
    const b = before.nodes.b!;
    const builder = new RunRecordBuilder(before);
    builder.apply({ type: 'node-finished', runId, at: 't2', nodeId: 'a', status: 'success', attempts: 1, iterations: 0, durationMs: 1 });
    const after = builder.record!;
    assert.notEqual(after.nodes.a, a);
    assert.equal(after.nodes.b, b);
    assert.equal(a.state, 'running');
    assert.equal(a.timeline[0]!.endedAt, undefined);
    assert.equal(after.nodes.a!.state, 'success');
    assert.equal(after.nodes.a!.timeline[0]!.endedAt, 't2');
  });

  it('never changes a node record once `record` has handed it out', () => {
    const builder = new RunRecordBuilder();
    builder.apply({ type: 'run-started', runId, at: 't0', melody: 'm', file: 'f', definitionHash: 'h', inputs: {}, trigger: { kind: 'manual' } });
    builder.apply({ type: 'node-started', runId, at: 't1', nodeId: 'a', attempt: 1, iteration: 0, provenance: 'p' });
    const seen = builder.record!.nodes.a!;
    const text = JSON.stringify(seen);
    builder.apply({ type: 'node-usage', runId, at: 't2', nodeId: 'a', tokens: { input: 1, output: 2 }, costUsd: 0.5 });
    builder.apply({ type: 'node-finished', runId, at: 't3', nodeId: 'a', status: 'success', attempts: 1, iterations: 0, durationMs: 2 });
    assert.equal(JSON.stringify(seen), text);
    const now = builder.record!.nodes.a!;
    assert.equal(now.state, 'success');
    assert.deepEqual(now.tokens, { input: 1, output: 2 });
  });
});
