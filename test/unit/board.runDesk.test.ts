import * as assert from 'node:assert/strict';
import { DeskRefusal, NO_SETTINGS, PIN_LIMIT_BYTES, RunDesk, type BoardRunSettings, type DeskChange } from '../../src/core/board/runDesk';
import type { RunEvent } from '../../src/core/model/run';
import { EngineRig } from './engineRig';

// The board's run desk against a real engine (the rig's fake nodes finish when told): it
// follows the runs of its melody, hands a run its pins and debugger, pauses, steps,
// continues, and keeps pins and breakpoints through renames and deletions.

const MELODY = `name: desk
permissions: { fs: { write: ["out.txt"] } }
nodes:
  a: { uses: transform, with: { value: 1 } }
  write: { uses: write-file, needs: [a], with: { path: out.txt, content: hi } }
  c: { uses: transform, needs: [write], with: { value: "\${{ nodes.write.output.path }}" } }
`;

/** A desk that records what it announced. */
function deskOn(settings: BoardRunSettings = NO_SETTINGS): { desk: RunDesk; changes: DeskChange['kind'][] } {
  const changes: DeskChange['kind'][] = [];
  const desk = new RunDesk(settings, (c) => changes.push(c.kind));
  return { desk, changes };
}

/** Runs MELODY with what the desk sets up, feeding the desk as the extension does. */
function runFromDesk(rig: EngineRig, desk: RunDesk, preview: boolean, signal?: AbortSignal) {
  const m = rig.melody(MELODY);
  const setup = desk.begin(Object.keys(m.melody.nodes), preview);
  const onEvent = (e: RunEvent) => {
    if (e.type === 'run-started') desk.started(e.runId);
    desk.apply(e, e.type === 'run-started' && e.file === 'test.melody.yaml');
  };
  const done = rig.engine.run({ ...m, pinned: setup.pinned, debug: setup.debug, onEvent, signal }).finally(() => desk.ended());
  return { setup, done };
}

describe('board run desk', () => {
  it('pauses at a breakpoint, steps, skips the pinned node, continues to success', async () => {
    const rig = new EngineRig();
    rig.auto.set('a', () => ({ output: 'a' }));
    rig.auto.set('c', (_ctx, input) => ({ output: input }));
    const { desk } = deskOn();
    desk.setBreakpoints(['a']);
    desk.pin('write', { output: { path: 'pinned.txt' } });
    const { setup, done } = runFromDesk(rig, desk, true);
    assert.deepEqual(setup.pinned, { write: { path: 'pinned.txt' } });

    const executing = () => true;
    await rig.until('the pause before a', () => desk.controls(executing).paused === 'a');
    const controls = desk.controls(executing);
    assert.equal(controls.active?.debuggable, true);
    assert.deepEqual(controls.active?.pinned, ['write']);
    assert.equal(desk.view.run?.state, 'running');
    assert.deepEqual(rig.started, []);

    assert.equal(desk.debug('step'), 'Stepped: a starts');
    // The pinned node does not run, so it is not paused before: the next pause is at c.
    await rig.until('the pause before c', () => desk.controls(executing).paused === 'c');
    assert.deepEqual(rig.started, ['a#1']);
    assert.equal(desk.view.run?.nodes.write?.state, 'success');

    assert.equal(desk.debug('continue'), 'Continued from c');
    const result = await done;
    assert.equal(result.state, 'success');
    assert.deepEqual(rig.started, ['a#1', 'c#1'], 'write never ran');
    assert.deepEqual(result.nodes.c?.output, { value: 'pinned.txt' }, 'the pinned output flowed downstream');
    assert.equal(desk.view.run?.state, 'success', 'the desk followed the run to its end');
    assert.equal(desk.controls(() => false).active, undefined);
    assert.equal(desk.boardRunId, undefined, 'a new run may begin');
  });

  it('runs every node without preview, and takes breakpoints set during the run', async () => {
    const rig = new EngineRig();
    // `a` waits to be finished by hand: the breakpoint is set while it runs.
    for (const id of ['write', 'c']) rig.auto.set(id, () => ({ output: { path: id } }));
    const { desk } = deskOn({ pins: { write: { output: 1 } }, breakpoints: [] });
    const { setup, done } = runFromDesk(rig, desk, false);
    assert.equal(setup.pinned, undefined, 'pins apply only to previews');
    await rig.waitRunning('a');
    desk.setBreakpoints(['c']);
    rig.finish('a', { path: 'a' });
    await rig.until('the pause before c', () => desk.controls(() => true).paused === 'c');
    assert.deepEqual(rig.started, ['a#1', 'write#1']);
    desk.debug('continue');
    assert.equal((await done).state, 'success');
  });

  it('refuses a second run from the board and debug actions without a pause', async () => {
    const rig = new EngineRig();
    const { desk } = deskOn({ pins: {}, breakpoints: ['a'] });
    assert.throws(() => desk.debug('step'), DeskRefusal);
    const controller = new AbortController();
    const { done } = runFromDesk(rig, desk, false, controller.signal);
    assert.throws(() => desk.begin(['a'], false), /still going/);
    await rig.until('the pause', () => desk.controls(() => true).paused === 'a');
    controller.abort();
    assert.equal((await done).state, 'cancelled');
    assert.equal(desk.view.run?.nodes.a?.state, 'cancelled');
    assert.doesNotThrow(() => desk.begin(['a'], false).debug, 'after the end, a new run may start');
  });

  it('lets a paused run go on when nobody can continue it any more', async () => {
    const rig = new EngineRig();
    for (const id of ['a', 'write', 'c']) rig.auto.set(id, () => ({ output: { path: id } }));
    const { desk } = deskOn({ pins: {}, breakpoints: ['a', 'c'] });
    const { done } = runFromDesk(rig, desk, false);
    await rig.until('the pause', () => desk.controls(() => true).paused === 'a');
    desk.release();
    assert.equal((await done).state, 'success');
    assert.deepEqual(desk.saved.breakpoints, ['a', 'c'], 'the saved breakpoints stay for the next run');
  });

  it('follows runs of its melody started elsewhere, and nothing else', () => {
    const rig = new EngineRig();
    const { desk, changes } = deskOn();
    const start = (runId: string, extra = {}): RunEvent => ({ type: 'run-started', runId, at: 'x', melody: 'm', file: 'f', definitionHash: 'h', inputs: {}, trigger: { kind: 'manual' }, ...extra });
    desk.apply(start('other'), false);
    assert.equal(desk.view.run?.runId, undefined);
    desk.apply(start('r1'), true);
    desk.apply({ type: 'node-started', runId: 'r1', at: 'x', nodeId: 'a', attempt: 1, iteration: 0, provenance: 'p' }, false);
    desk.apply({ type: 'node-started', runId: 'other', at: 'x', nodeId: 'b', attempt: 1, iteration: 0, provenance: 'p' }, false);
    assert.deepEqual(Object.keys(desk.view.run?.nodes ?? {}), ['a']);
    assert.deepEqual(changes, ['view', 'controls', 'events']);
    const controls = desk.controls(() => true);
    assert.deepEqual(controls.active, { runId: 'r1', debuggable: false, pinned: [] }, 'cancellable, but without a debugger');
  });

  it('keeps pins and breakpoints through renames and deletions, and refuses outputs too large to keep', () => {
    const rig = new EngineRig();
    const { desk, changes } = deskOn();
    desk.pin('a', { output: { n: 1 }, fromRun: 'r1' });
    desk.setBreakpoints(['a', 'b', 'a']);
    assert.deepEqual(desk.saved.breakpoints, ['a', 'b'], 'each once');
    desk.rename('a', 'first');
    assert.deepEqual(desk.saved, { pins: { first: { output: { n: 1 }, fromRun: 'r1' } }, breakpoints: ['first', 'b'] });
    desk.forget(['first']);
    assert.deepEqual(desk.saved, { pins: {}, breakpoints: ['b'] });
    assert.throws(() => desk.pin('b', { output: 'x'.repeat(PIN_LIMIT_BYTES) }), /pins hold at most 1024 KiB/);
    desk.pin('b', undefined);
    assert.ok(changes.includes('settings'));
  });
});
