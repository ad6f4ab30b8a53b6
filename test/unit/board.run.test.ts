import * as assert from 'node:assert/strict';
import type { NodeRecord, RunEvent } from '../../src/core/model/run';
import { isHostMessage, parseBoardMessage } from '../../src/protocol/board';
import {
  CONSOLE_LIMIT,
  NO_RUN,
  consoleLines,
  edgeRunState,
  foldRunEvents,
  nodeRunLine,
  nodeRunWords,
  nodeState,
  runSummary,
  runView,
  wasPinned,
} from '../../src/protocol/boardRun';
import { formatCost, formatTokens, nodeFacts } from '../../src/protocol/runText';

// The Harmony Board's run overlay as data: the messages, the one fold of the engine's
// events both sides use, and what cards, toolbar and console say. No VS Code, no DOM.

const at = (s: number) => `2026-03-01T10:00:${String(s).padStart(2, '0')}.000Z`;

function started(runId: string, extra: Partial<Extract<RunEvent, { type: 'run-started' }>> = {}): RunEvent {
  return { type: 'run-started', runId, at: at(0), melody: 'build', file: 'melodies/build.melody.yaml', definitionHash: 'h', inputs: {}, trigger: { kind: 'manual' }, ...extra };
}
const nodeStarted = (runId: string, nodeId: string, s = 1): RunEvent => ({ type: 'node-started', runId, at: at(s), nodeId, attempt: 1, iteration: 0, provenance: 'p' });
const nodeLog = (runId: string, nodeId: string, text: string): RunEvent => ({ type: 'node-log', runId, at: at(1), nodeId, stream: 'stdout', text });
function finished(runId: string, nodeId: string, extra: Partial<Extract<RunEvent, { type: 'node-finished' }>> = {}): RunEvent {
  return { type: 'node-finished', runId, at: at(2), nodeId, status: 'success', attempts: 1, iterations: 0, durationMs: 1200, output: `${nodeId} out`, ...extra };
}
const runFinished = (runId: string, status: 'success' | 'failure' | 'cancelled' = 'success'): RunEvent => ({
  type: 'run-finished',
  runId,
  at: at(3),
  status,
  tokens: { input: 1000, output: 234 },
  costUsd: 0.0123,
  durationMs: 3400,
});

describe('board run protocol', () => {
  it('accepts the run intents the board sends', () => {
    const intents: unknown[] = [
      { kind: 'run' },
      { kind: 'run', inputs: { greeting: 'Hi', count: '3' }, preview: true },
      { kind: 'cancel-run' },
      { kind: 'set-breakpoints', nodes: ['a', 'b'] },
      { kind: 'debug', action: 'step' },
      { kind: 'debug', action: 'continue' },
      { kind: 'pin-output', node: 'a', pin: { source: 'typed', output: { url: 'x', n: [1, null] } } },
      { kind: 'pin-output', node: 'a', pin: { source: 'typed', output: null } },
      { kind: 'pin-output', node: 'a', pin: { source: 'run', runId: '20260301-100000-1f4a2c' } },
      { kind: 'pin-output', node: 'a' },
      { kind: 'open-run-document', runId: 'r1', node: 'a', document: 'output' },
    ];
    for (const intent of intents) {
      const r = parseBoardMessage({ type: 'intent', id: 1, intent });
      assert.ok(r.ok, `${JSON.stringify(intent)}: ${r.ok ? '' : r.error}`);
    }
  });

  it('refuses run ids that could name a path outside the runs folder, and unknown debug actions', () => {
    for (const intent of [
      { kind: 'open-run-document', runId: '../../etc', node: 'a', document: 'log' },
      { kind: 'open-run-document', runId: '..', node: 'a', document: 'log' },
      { kind: 'pin-output', node: 'a', pin: { source: 'run', runId: 'a/b' } },
      { kind: 'pin-output', node: 'a', pin: { source: 'file', path: '/etc/passwd' } },
      { kind: 'debug', action: 'eval' },
      { kind: 'run', preview: 'yes' },
    ]) {
      assert.ok(!parseBoardMessage({ type: 'intent', id: 1, intent }).ok, JSON.stringify(intent));
    }
  });

  it('tells the run messages the host sends', () => {
    assert.ok(isHostMessage({ type: 'run-events', events: [] }));
    assert.ok(isHostMessage({ type: 'run-controls', controls: { breakpoints: [] } }));
    assert.ok(isHostMessage({ type: 'pins', pins: {} }));
    assert.ok(!isHostMessage({ type: 'run-event', event: started('r') }), 'events come in batches');
  });
});

describe('board run fold', () => {
  it('follows the latest top-level run and folds its events into a record', () => {
    let view = foldRunEvents(NO_RUN, [started('r1'), nodeStarted('r1', 'a')]);
    assert.equal(view.run?.runId, 'r1');
    assert.equal(view.run?.nodes.a?.state, 'running');
    view = foldRunEvents(view, [finished('r1', 'a'), nodeStarted('r1', 'b')]);
    assert.deepEqual([view.run?.nodes.a?.state, view.run?.nodes.b?.state], ['success', 'running']);
    assert.equal(view.events.length, 4);

    const next = foldRunEvents(view, [started('r2')]);
    assert.equal(next.run?.runId, 'r2', 'a new run of the melody replaces the old one');
    assert.deepEqual(next.events.map((e) => e.type), ['run-started']);
    assert.deepEqual(Object.keys(next.run!.nodes), [], 'no nodes yet (the record has no prototype: node ids are its only keys)');
  });

  it('ignores events of other runs, sub-melody runs and anything before a run started', () => {
    assert.equal(foldRunEvents(NO_RUN, [nodeStarted('r1', 'a')]), NO_RUN);
    const view = foldRunEvents(NO_RUN, [started('r1')]);
    assert.equal(foldRunEvents(view, [nodeStarted('other', 'a'), started('child', { parent: { runId: 'r1', nodeId: 'sub' } })]), view, 'nothing changed, the same view');
  });

  it('keeps untouched nodes’ records, so only changed cards redraw', () => {
    const view = foldRunEvents(NO_RUN, [started('r1'), nodeStarted('r1', 'a'), finished('r1', 'a'), nodeStarted('r1', 'b')]);
    const next = foldRunEvents(view, [finished('r1', 'b')]);
    assert.equal(next.run?.nodes.a, view.run?.nodes.a);
    assert.notEqual(next.run?.nodes.b, view.run?.nodes.b);
    assert.equal(view.run?.nodes.b?.state, 'running', 'the earlier view is not mutated');
  });

  it('keeps the last events for the console and counts the dropped ones', () => {
    const logs = Array.from({ length: CONSOLE_LIMIT + 10 }, (_, i) => nodeLog('r1', 'a', `line ${i}\n`));
    let view = foldRunEvents(NO_RUN, [started('r1'), nodeStarted('r1', 'a')]);
    view = foldRunEvents(view, logs);
    assert.equal(view.events.length, CONSOLE_LIMIT);
    assert.equal(view.dropped, 12);
    const last = view.events.at(-1);
    assert.ok(last?.type === 'node-log' && last.text === `line ${CONSOLE_LIMIT + 9}\n`, 'the newest are kept');
    const rebuilt = runView(view.run, [started('r1'), ...logs], 5);
    assert.equal(rebuilt.dropped, 5 + 11);
  });
});

describe('board run presentation', () => {
  const record = (extra: Partial<NodeRecord>): NodeRecord => ({ state: 'success', attempts: 1, iterations: 0, timeline: [], durationMs: 1200, ...extra });

  it('says duration, attempts, tokens and cost on the card — only what there is', () => {
    assert.equal(nodeRunLine(record({})), '1.2s');
    assert.equal(nodeRunLine(record({ attempts: 3, tokens: { input: 1000, output: 234 }, costUsd: 0.0123 })), '1.2s · 3 attempts · 1,234 tokens · $0.0123');
    assert.equal(nodeRunLine(record({ state: 'skipped', attempts: 0, reason: 'its condition is false: x' })), 'its condition is false: x');
    assert.equal(nodeRunLine(record({ cached: true })), 'cached', 'a node taken from the node cache says so instead of a duration');
    const pinned = record({ attempts: 0, reason: 'pinned: the output was given, the node did not run' });
    assert.ok(wasPinned(pinned));
    assert.equal(nodeRunLine(pinned), 'pinned output');
    assert.equal(nodeRunWords('failure', record({ state: 'failure', attempts: 2 })), 'last run: failure, 1.2s, 2 attempts');
    assert.deepEqual([formatTokens(undefined), formatTokens({ input: 1, output: 0 }), formatCost(0), formatCost(0.5)], [undefined, '1 token', undefined, '$0.5000']);
    assert.deepEqual(nodeFacts(record({ state: 'running', attempts: 2, durationMs: undefined })), ['attempt 2']);
  });

  it('shows nodes not started yet as pending while the run goes, and nothing without a run', () => {
    const running = foldRunEvents(NO_RUN, [started('r1'), nodeStarted('r1', 'a')]).run;
    assert.equal(nodeState(running, 'a', true), 'running');
    assert.equal(nodeState(running, 'b', true), 'pending');
    assert.equal(nodeState(running, 'revert', false), undefined, 'the compensation node is not part of the graph');
    assert.equal(nodeState(undefined, 'a', true), undefined);
  });

  it('sums a run up for the toolbar', () => {
    let view = foldRunEvents(NO_RUN, [started('r1'), nodeStarted('r1', 'a'), finished('r1', 'a'), nodeStarted('r1', 'b')]);
    assert.equal(runSummary(view.run!, 3), 'running · 1 of 3 done');
    view = foldRunEvents(view, [finished('r1', 'b', { status: 'failure', error: 'boom' }), runFinished('r1', 'failure')]);
    assert.equal(runSummary(view.run!, 3), 'failure in 3.4s · 1 failed · 1,234 tokens · $0.0123');
  });

  it('lights edges out of finished nodes', () => {
    const view = foldRunEvents(NO_RUN, [started('r1'), nodeStarted('r1', 'a'), finished('r1', 'a'), nodeStarted('r1', 'b'), nodeStarted('r1', 'x'), finished('r1', 'x', { status: 'failure' })]);
    assert.equal(edgeRunState(view.run, 'a', 'b'), 'flowing');
    assert.equal(edgeRunState(view.run, 'a', 'c'), 'done');
    assert.equal(edgeRunState(view.run, 'x', 'c'), 'failed');
    assert.equal(edgeRunState(view.run, 'b', 'c'), undefined);
    assert.equal(edgeRunState(undefined, 'a', 'b'), undefined);
  });

  it('filters the console by text or node, with or without log lines, newest kept', () => {
    const view = foldRunEvents(NO_RUN, [started('r1'), nodeStarted('r1', 'lint'), nodeLog('r1', 'lint', 'one\ntwo\n'), finished('r1', 'lint', { status: 'failure', error: 'bad' }), nodeStarted('r1', 'test'), runFinished('r1', 'failure')]);
    const all = consoleLines(view, { text: '', logs: true });
    assert.deepEqual(
      all.map((l) => `${l.tone} ${l.text}`),
      ['event ▶ build (melodies/build.melody.yaml) run r1 — manual', 'event ▸ lint attempt 1', 'log   │ lint: one', 'log   │ lint: two', 'error ■ lint failure in 1.2s: bad', 'event ▸ test attempt 1', 'error ■ run failure in 3.4s'],
    );
    assert.equal(new Set(all.map((l) => l.key)).size, all.length, 'keys are unique');
    assert.deepEqual(consoleLines(view, { text: 'LINT', logs: false }).map((l) => l.text), ['▸ lint attempt 1', '■ lint failure in 1.2s: bad']);
    assert.deepEqual(consoleLines(view, { text: 'two', logs: true }).map((l) => l.nodeId), ['lint']);
    assert.deepEqual(consoleLines(view, { text: '', logs: true }, 2).map((l) => l.text), ['▸ test attempt 1', '■ run failure in 3.4s']);
  });
});
