import * as assert from 'node:assert/strict';
import { RunRecordBuilder, type RunEvent, type RunRecord } from '../../src/core/model/run';
import { FileRunStorage, runIds } from '../../src/core/store/runs';
import { RunHistory, type RunSource } from '../../src/extension/runs/history';
import { collectInputs, inputPrompts } from '../../src/extension/runs/inputs';
import {
  fenced,
  formatDuration,
  nodeDescription,
  nodeLogText,
  outputDocument,
  parseRunDocumentPath,
  runDescription,
  runDocumentPath,
  runTranscript,
  type RunDocument,
} from '../../src/extension/runs/present';
import { API_KEY_KEYS, SecretVault, secretNameProblem, type VaultKeys } from '../../src/extension/runs/secrets';
import { nodeFacts } from '../../src/protocol/runText';
import { ensureTrusted, MANAGE_TRUST } from '../../src/extension/runs/trust';
import { tempDir } from './helpers';

// The pure parts of the extension's run surfaces: none of these files imports `vscode`.

const T0 = '2026-03-01T10:00:00.000Z';
const T1 = '2026-03-01T10:00:01.500Z';

/** The events of a run: `a` succeeds, then `b` ends with `last` (or the run is left running). */
function runEvents(runId: string, options: { parent?: { runId: string; nodeId: string }; end?: 'success' | 'failure' | 'running'; at?: string } = {}): RunEvent[] {
  const at = options.at ?? T0;
  const events: RunEvent[] = [
    { type: 'run-started', runId, at, melody: `m-${runId}`, file: 'melodies/m.melody.yaml', definitionHash: 'h', inputs: {}, trigger: { kind: 'manual' }, parent: options.parent },
    { type: 'node-started', runId, at, nodeId: 'a', attempt: 1, iteration: 0, provenance: 'p' },
    { type: 'node-log', runId, at, nodeId: 'a', stream: 'stdout', text: 'hello\n' },
    { type: 'node-finished', runId, at: T1, nodeId: 'a', status: 'success', attempts: 1, iterations: 0, output: { n: 1 }, durationMs: 1500 },
  ];
  const end = options.end ?? 'success';
  if (end === 'running') return events;
  events.push(
    { type: 'node-started', runId, at: T1, nodeId: 'b', attempt: 1, iteration: 0, provenance: 'p' },
    { type: 'node-finished', runId, at: T1, nodeId: 'b', status: end, attempts: 1, iterations: 0, error: end === 'failure' ? 'b broke' : undefined, durationMs: 5 },
    { type: 'run-finished', runId, at: T1, status: end, tokens: { input: 0, output: 0 }, costUsd: 0, durationMs: 1500, error: end === 'failure' ? 'b failed' : undefined },
  );
  return events;
}

function fold(events: readonly RunEvent[]): RunRecord {
  const b = new RunRecordBuilder();
  for (const e of events) b.apply(e);
  return b.record!;
}

/** A run source over records in memory that counts what it reads. */
class FakeSource implements RunSource {
  readonly records = new Map<string, RunRecord>();
  /** Runs another process has open. */
  readonly owned = new Set<string>();
  reads: string[] = [];
  add(...records: RunRecord[]): void {
    for (const r of records) this.records.set(r.runId, r);
  }
  async ids(): Promise<string[]> {
    return [...this.records.keys()].sort().reverse();
  }
  async record(runId: string): Promise<RunRecord | undefined> {
    this.reads.push(runId);
    return this.records.get(runId);
  }
  async runningElsewhere(runId: string): Promise<boolean> {
    return this.owned.has(runId);
  }
}

describe('extension runs: history', () => {
  it('reads a finished run once, and a run marked dirty again', async () => {
    const source = new FakeSource();
    source.add(fold(runEvents('r1')), fold(runEvents('r2', { end: 'running' })));
    const history = new RunHistory(source, 10);
    await history.refresh();
    assert.deepEqual(source.reads.sort(), ['r1', 'r2']);
    source.reads = [];
    await history.refresh();
    assert.deepEqual(source.reads, [], 'nothing changed, nothing read');
    source.add(fold(runEvents('r2')));
    history.markDirty('r2');
    await history.refresh();
    assert.deepEqual(source.reads, ['r2']);
    assert.equal(history.snapshot().get('r2')?.state, 'success');
    history.markDirty();
    source.reads = [];
    await history.refresh();
    assert.deepEqual(source.reads.sort(), ['r1', 'r2'], 'markDirty() without an id re-reads all');
  });

  it('keeps the newest top-level runs up to the limit, with the sub-melody runs of those', async () => {
    const source = new FakeSource();
    source.add(
      fold(runEvents('r1')),
      fold(runEvents('r2')),
      fold(runEvents('r3', { parent: { runId: 'r2', nodeId: 'a' } })),
      fold(runEvents('r4')),
    );
    const history = new RunHistory(source, 2);
    await history.refresh();
    const snap = history.snapshot();
    assert.deepEqual(
      snap.runs.map((r) => r.runId),
      ['r4', 'r2'],
    );
    assert.deepEqual(
      snap.children('r2', 'a').map((r) => r.runId),
      ['r3'],
    );
    assert.equal(snap.get('r1'), undefined, 'older runs are not kept');
  });

  it('reads only as far as the limit needs (in batches), however long the history', async () => {
    const source = new FakeSource();
    for (let i = 0; i < 100; i++) source.add(fold(runEvents(`r${String(i).padStart(3, '0')}`)));
    const history = new RunHistory(source, 3);
    await history.refresh();
    assert.deepEqual(
      history.snapshot().runs.map((r) => r.runId),
      ['r099', 'r098', 'r097'],
    );
    assert.equal(source.reads.length, 16, 'one batch of reads, not a hundred');
  });

  it('overlays live events, lists planned nodes as pending, and snapshots do not change afterwards', async () => {
    const history = new RunHistory(new FakeSource(), 10);
    const [started, ...rest] = runEvents('live', { end: 'running' });
    history.plan('live', ['a', 'b']);
    assert.equal(history.apply(started!), true);
    const before = history.snapshot();
    assert.equal(before.phase('live'), 'live');
    assert.deepEqual(
      before.nodes('live').map((n) => `${n.id}:${n.node.state}`),
      ['a:pending', 'b:pending'],
    );
    for (const e of rest) history.apply(e);
    assert.equal(history.apply({ type: 'node-log', runId: 'live', at: T0, nodeId: 'a', stream: 'stdout', text: 'x' }), false, 'a log line changes no row');
    assert.deepEqual(
      history.snapshot().nodes('live').map((n) => `${n.id}:${n.node.state}`),
      ['a:success', 'b:pending'],
    );
    assert.deepEqual(
      before.nodes('live').map((n) => n.node.state),
      ['pending', 'pending'],
      'an earlier snapshot stays as it was',
    );
  });

  it('a live run that ended stays (it is what is on disk) and is not read from disk while live', async () => {
    const source = new FakeSource();
    const events = runEvents('r1');
    source.add(fold(events.slice(0, 2)));
    const history = new RunHistory(source, 10);
    for (const e of events.slice(0, 2)) history.apply(e);
    await history.refresh();
    assert.deepEqual(source.reads, [], 'a live run is never read');
    for (const e of events.slice(2)) history.apply(e);
    await history.refresh();
    const snap = history.snapshot();
    assert.equal(snap.get('r1')?.state, 'success');
    assert.equal(snap.phase('r1'), 'ended');
  });

  it('tells a run another process executes from one whose process died, asking again at each refresh', async () => {
    const source = new FakeSource();
    source.add(fold(runEvents('cli', { end: 'running' })), fold(runEvents('dead', { end: 'running' })), fold(runEvents('done')));
    source.owned.add('cli');
    const history = new RunHistory(source, 10);
    await history.refresh();
    let snap = history.snapshot();
    assert.deepEqual(
      ['cli', 'dead', 'done'].map((id) => snap.phase(id)),
      ['elsewhere', 'interrupted', 'ended'],
    );
    assert.deepEqual(snap.elsewhere, ['cli']);
    source.owned.delete('cli'); // killed outright: no file changes, only its claim is stale
    await history.refresh();
    snap = history.snapshot();
    assert.equal(snap.phase('cli'), 'interrupted');
    assert.deepEqual(snap.elsewhere, []);
  });

  it('folds a resumed run onto its stored record', async () => {
    const source = new FakeSource();
    const events = runEvents('r1', { end: 'running' });
    source.add(fold(events));
    const history = new RunHistory(source, 10);
    await history.refresh();
    assert.equal(history.apply({ type: 'run-resumed', runId: 'r1', at: T1, pid: 1 }), true);
    history.apply({ type: 'run-finished', runId: 'r1', at: T1, status: 'success', tokens: { input: 0, output: 0 }, costUsd: 0, durationMs: 9 });
    const r = history.snapshot().get('r1');
    assert.equal(r?.state, 'success');
    assert.equal(r?.resumes, 1);
    assert.equal(r?.nodes.a?.state, 'success', 'what happened before the resume is kept');
    assert.equal(history.apply({ type: 'run-resumed', runId: 'unknown', at: T1, pid: 1 }), false, 'a run never read cannot be folded');
  });

  it('works over the real run storage', async () => {
    const root = tempDir();
    const storage = new FileRunStorage(root);
    for (const id of ['20260301-100000-aaaaaa', '20260301-100001-bbbbbb']) {
      const journal = await storage.create(id);
      for (const e of runEvents(id)) await journal.append(e);
      await journal.close();
    }
    const history = new RunHistory({ ids: () => runIds(root), record: (id) => storage.record(id), runningElsewhere: (id) => storage.isLive(id) }, 10);
    await history.refresh();
    assert.deepEqual(
      history.snapshot().runs.map((r) => `${r.runId} ${r.state}`),
      ['20260301-100001-bbbbbb success', '20260301-100000-aaaaaa success'],
    );
  });
});

describe('extension runs: presentation', () => {
  it('formats durations for rows', () => {
    assert.deepEqual(
      [12.4, 999, 1500, 59_940, 125_000, 3_720_000].map(formatDuration),
      ['12ms', '999ms', '1.5s', '59.9s', '2m 05s', '1h 02m'],
    );
  });

  it('describes nodes state first', () => {
    const r = fold([...runEvents('r', { end: 'failure' })]);
    assert.equal(nodeDescription(r.nodes.a!), 'success · 1.5s');
    assert.equal(nodeDescription({ ...r.nodes.a!, cached: true }), 'success · cached');
    assert.equal(nodeDescription({ ...r.nodes.b!, attempts: 3 }), 'failure · 5ms · 3 attempts');
    assert.equal(nodeDescription({ state: 'running', attempts: 2, iterations: 1, timeline: [] }), 'running · attempt 2');
    assert.equal(nodeDescription({ state: 'skipped', attempts: 0, iterations: 0, durationMs: 0, timeline: [] }), 'skipped');
    assert.equal(runDescription(r, 'ended'), 'failure · 1.5s · 10:00:00');
    assert.equal(runDescription(fold(runEvents('x', { end: 'running' })), 'live'), 'running · 1 done · started 10:00:00');
    assert.equal(runDescription(fold(runEvents('x', { end: 'running' })), 'elsewhere'), 'running in another process · started 10:00:00');
    assert.equal(runDescription(fold(runEvents('x', { end: 'running' })), 'interrupted'), 'interrupted · started 10:00:00');
  });

  it('fences text no backtick run inside can close', () => {
    assert.equal(fenced('a ```b``` c'), '````text\na ```b``` c\n````');
    assert.equal(fenced('plain'), '```text\nplain\n```');
  });

  it('makes document paths that parse back, and rejects others', () => {
    const docs: RunDocument[] = [
      { kind: 'run-log', runId: '20260301-100000-aaaaaa' },
      { kind: 'node-log', runId: 'r1', nodeId: 'build_2' },
      { kind: 'output', runId: 'r1', nodeId: 'test-all', format: 'json' },
      { kind: 'output', runId: 'r1', nodeId: 'x', format: 'txt' },
    ];
    for (const doc of docs) assert.deepEqual(parseRunDocumentPath(runDocumentPath(doc)), doc);
    assert.equal(runDocumentPath(docs[2]!), '/r1/test-all.output.json');
    for (const bad of ['', '/', '/r1', '/r1/a.json', '/r1/a/b.log', 'r1.log']) assert.equal(parseRunDocumentPath(bad), undefined, bad);
  });

  it('shows text outputs as text and anything else as JSON', () => {
    assert.deepEqual(outputDocument('done'), { text: 'done', language: 'plaintext' });
    assert.deepEqual(outputDocument({ a: [1] }), { text: '{\n  "a": [\n    1\n  ]\n}\n', language: 'json' });
    assert.deepEqual(outputDocument(undefined), { text: 'null\n', language: 'json' });
  });

  it('writes a node log with how it ended first, and a run transcript per event', () => {
    const events = runEvents('r', { end: 'failure' });
    const r = fold(events);
    assert.equal(nodeLogText(events, 'a', r.nodes.a), 'a — success · 1.5s\n\nhello\n');
    assert.equal(nodeLogText(events, 'b', r.nodes.b), 'b — failure · 5ms\nerror: b broke\n\n(no output was logged)\n');
    const transcript = runTranscript(events).split('\n');
    assert.equal(transcript[0], '10:00:00.000 ▶ m-r (melodies/m.melody.yaml) run r — manual');
    assert.ok(transcript.includes('10:00:00.000   │ a: hello'));
    assert.ok(transcript.includes('10:00:01.500 ■ run failure in 1.5s: b failed'));
  });

  it('shows an agent’s tool calls in its node log where they happened, and counts them on its row', () => {
    const at = '2026-01-01T10:00:00.500Z';
    const events: RunEvent[] = [
      ...runEvents('r', { end: 'failure' }).slice(0, 2),
      { type: 'node-log', runId: 'r', at, nodeId: 'a', stream: 'stdout', text: 'Let me look' },
      { type: 'node-tool', runId: 'r', at, nodeId: 'a', step: 1, tool: 'read_file', args: { path: 'src/a.ts' }, ok: true, resultChars: 40, durationMs: 2 },
      { type: 'node-tool', runId: 'r', at, nodeId: 'a', step: 2, tool: 'write_file', args: { path: '../x', content: 'x' }, ok: false, resultChars: 60, durationMs: 1, error: 'refused: outside' },
      { type: 'node-log', runId: 'r', at, nodeId: 'a', stream: 'stdout', text: 'Done.\n' },
    ];
    const text = nodeLogText(events, 'a', fold(events).nodes.a);
    assert.equal(text.split('\n\n')[1], 'Let me look\n⚒ a step 1: read_file(path=src/a.ts) ✓\n⚒ a step 2: write_file(path=../x content=x) ✗ refused: outside\nDone.\n');
    assert.ok(nodeFacts(fold(events).nodes.a!).includes('2 tool calls'));
  });
});

describe('extension runs: input prompts', () => {
  const melody = {
    inputs: {
      greeting: { type: 'string' as const, default: 'Hi' },
      count: { type: 'number' as const, required: true, description: 'How many' },
      tags: { type: 'array' as const, default: ['a'] },
      dry: { type: 'boolean' as const },
    },
  };

  it('prefills defaults and validates with the engine’s coercion', () => {
    const [greeting, count, tags, dry] = inputPrompts(melody);
    assert.deepEqual(
      [greeting, count, tags, dry].map((p) => [p!.title, p!.value]),
      [
        ['greeting (string)', 'Hi'],
        ['count (number)', ''],
        ['tags (array)', '["a"]'],
        ['dry (boolean)', ''],
      ],
    );
    assert.equal(count!.prompt, 'How many — a number');
    assert.equal(count!.validate(''), 'count is required');
    assert.equal(count!.validate('x'), 'input count must be a number, not "x"');
    assert.equal(count!.validate('3'), undefined);
    assert.equal(tags!.validate('{}'), 'input tags must be a JSON list');
    assert.equal(dry!.validate(''), undefined, 'an optional input may stay empty');
    assert.equal(dry!.validate('yes'), 'input dry must be true or false, not "yes"');
  });

  it('collects typed values, leaving empty optional inputs to their defaults', () => {
    assert.deepEqual(collectInputs(inputPrompts(melody), ['', '3', '["x","y"]', '']), { greeting: '', count: 3, tags: ['x', 'y'] });
  });
});

describe('extension runs: workspace trust guard', () => {
  /** A surface recording what the guard did; `choice` is the button the user presses. */
  function surface(isTrusted: boolean, choice?: string) {
    const seen = { warnings: [] as string[], managed: 0 };
    let answered!: () => void;
    const answer = new Promise<void>((resolve) => (answered = resolve));
    return {
      seen,
      answer,
      isTrusted,
      warn(message: string, ...actions: string[]) {
        seen.warnings.push(`${message} [${actions.join('|')}]`);
        return Promise.resolve(choice);
      },
      manageTrust() {
        seen.managed++;
        answered();
        return Promise.resolve();
      },
    };
  }

  it('lets a trusted workspace run, silently', () => {
    const s = surface(true);
    assert.equal(ensureTrusted(s, 'run melodies'), true);
    assert.deepEqual(s.seen.warnings, []);
  });

  it('refuses in Restricted Mode, says why, and opens the trust editor when asked', async () => {
    const s = surface(false, MANAGE_TRUST);
    assert.equal(ensureTrusted(s, 'run melodies'), false);
    assert.equal(s.seen.warnings.length, 1);
    assert.match(s.seen.warnings[0]!, /^Symphony cannot run melodies in Restricted Mode: .* \[Manage Workspace Trust\]$/);
    await s.answer;
    assert.equal(s.seen.managed, 1);
  });

  it('refuses without opening anything when the warning is dismissed', async () => {
    const s = surface(false, undefined);
    assert.equal(ensureTrusted(s, 'resume runs'), false);
    await new Promise((r) => setImmediate(r));
    assert.equal(s.seen.managed, 0);
  });
});

describe('extension runs: secret vault', () => {
  function vault(keys?: VaultKeys, stored = new Map<string, string>(), state = new Map<string, unknown>()) {
    const v = new SecretVault(
      {
        get: async (k) => stored.get(k),
        store: async (k, value) => void stored.set(k, value),
        delete: async (k) => void stored.delete(k),
      },
      {
        get: <T>(k: string, d: T) => (state.has(k) ? (state.get(k) as T) : d),
        update: async (k, value) => void state.set(k, value),
      },
      keys,
    );
    return { v, stored, state };
  }

  it('keeps API keys apart from melody secrets: another prefix, another list of names', async () => {
    const { v: secrets, stored, state } = vault();
    const { v: apiKeys } = vault(API_KEY_KEYS, stored, state);
    await secrets.set('OPENAI_API_KEY', 'melody-secret');
    await apiKeys.set('OPENAI_API_KEY', 'sk-provider');
    assert.equal(await secrets.get('OPENAI_API_KEY'), 'melody-secret');
    assert.equal(await apiKeys.get('OPENAI_API_KEY'), 'sk-provider');
    assert.deepEqual([...stored.keys()].sort(), ['symphony.apiKey.OPENAI_API_KEY', 'symphony.secret.OPENAI_API_KEY']);
    await apiKeys.delete('OPENAI_API_KEY');
    assert.deepEqual(secrets.list(), ['OPENAI_API_KEY']);
    assert.deepEqual(apiKeys.list(), []);
  });

  it('stores under symphony.secret.<NAME>, lists names only, deletes', async () => {
    const { v, stored } = vault();
    await v.set('TOKEN', 's3cret');
    await v.set('API_KEY', 'k');
    await v.set('TOKEN', 'rotated');
    assert.deepEqual([...stored.entries()].sort(), [
      ['symphony.secret.API_KEY', 'k'],
      ['symphony.secret.TOKEN', 'rotated'],
    ]);
    assert.deepEqual(v.list(), ['API_KEY', 'TOKEN']);
    assert.equal(await v.get('TOKEN'), 'rotated');
    await v.delete('TOKEN');
    assert.equal(await v.get('TOKEN'), undefined);
    assert.deepEqual(v.list(), ['API_KEY']);
  });

  it('refuses names a melody could not write as secrets.NAME', async () => {
    const { v } = vault();
    assert.equal(secretNameProblem('GOOD_1'), undefined);
    for (const bad of ['', '1abc', 'a-b', 'a.b']) assert.ok(secretNameProblem(bad), bad);
    await assert.rejects(v.set('a-b', 'x'), /cannot store secret "a-b"/);
    assert.equal(await v.get('../x'), undefined);
  });
});
