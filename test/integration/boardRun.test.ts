import * as assert from 'assert';
import * as vscode from 'vscode';
import type { BoardSession } from '../../src/extension/board/session';
import type { HostMessage } from '../../src/protocol/board';
import { NO_CONTROLS, NO_RUN, foldRunEvents, runView, type Pins, type RunControls, type RunView } from '../../src/protocol/boardRun';
import { api, cleanUpAfterEach, waitFor, workspaceRoot, writeFile } from './util';

/**
 * Running melodies from the Harmony Board in a real extension host: the tests play the
 * webview through `session.receive` with the messages it sends, and read what the board
 * would show by folding the messages the session sent — as the webview does.
 */

type Sent = HostMessage[];

/** What the board shows after the messages sent so far: the run, its controls and the pins. */
function shown(sent: Sent): { view: RunView; controls: RunControls; pins: Pins } {
  let view = NO_RUN;
  let controls = NO_CONTROLS;
  let pins: Pins = {};
  for (const m of sent) {
    if (m.type === 'run-state') view = runView(m.run ?? undefined, m.events, m.dropped);
    else if (m.type === 'run-events') view = foldRunEvents(view, m.events);
    else if (m.type === 'run-controls') controls = m.controls;
    else if (m.type === 'pins') pins = m.pins;
  }
  return { view, controls, pins };
}

/** A melody whose middle node writes a file: pinned, it must not. */
function melodyText(name: string): string {
  return `name: ${name}
inputs:
  greeting: { type: string, default: hi }
permissions:
  fs: { write: ["${name}.txt"] }
nodes:
  first:
    uses: transform
    with: { value: { greeting: "\${{ inputs.greeting }}" } }
  write:
    uses: write-file
    needs: [first]
    with: { path: ${name}.txt, content: "\${{ nodes.first.output.greeting }}" }
  last:
    uses: transform
    needs: [write]
    with: { value: "wrote \${{ nodes.write.output.path }}" }
`;
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  return vscode.workspace.fs.stat(uri).then(
    () => true,
    () => false,
  );
}

describe('Harmony Board runs', () => {
  let name: string;
  let uri: vscode.Uri;
  let written: vscode.Uri;
  let session: BoardSession;
  let sent: Sent;
  let nextId = 1;

  /** Plays the board: sends an intent and returns the session's answer. */
  async function intent(body: unknown): Promise<Extract<HostMessage, { type: 'result' }>> {
    const id = nextId++;
    await session.receive({ type: 'intent', id, intent: body });
    const result = sent.find((m): m is Extract<HostMessage, { type: 'result' }> => m.type === 'result' && m.id === id);
    assert.ok(result, `a result for ${JSON.stringify(body)}`);
    return result;
  }

  async function openBoard(): Promise<void> {
    const { board } = await api();
    await vscode.commands.executeCommand('vscode.openWith', uri, 'symphony.harmonyBoard');
    session = await waitFor('the board to open', () => board.sessionFor(uri));
    sent = [];
    session.channel.watch((m) => sent.push(m));
    await session.receive({ type: 'ready' });
  }

  before(async () => {
    name = `board-run-${Date.now()}`;
    uri = vscode.Uri.joinPath(workspaceRoot(), 'melodies', `${name}.melody.yaml`);
    written = vscode.Uri.joinPath(workspaceRoot(), `${name}.txt`);
    await writeFile(uri, melodyText(name));
  });

  cleanUpAfterEach();

  after(async () => {
    for (const u of [uri, written]) await vscode.workspace.fs.delete(u).then(undefined, () => undefined);
  });

  it('pauses at a breakpoint, steps, continues to success, and a pinned node’s side effect does not happen', async () => {
    await openBoard();
    const pinned = await intent({ kind: 'pin-output', node: 'write', pin: { source: 'typed', output: { path: 'pinned.txt', bytes: 0 } } });
    assert.ok(pinned.ok, pinned.message);
    assert.deepEqual(shown(sent).pins, { write: { output: { path: 'pinned.txt', bytes: 0 } } });
    assert.ok((await intent({ kind: 'set-breakpoints', nodes: ['first'] })).ok);
    assert.deepEqual(shown(sent).controls.breakpoints, ['first']);

    const run = await intent({ kind: 'run', preview: true, inputs: { greeting: 'Hello' } });
    assert.ok(run.ok, run.message);
    assert.match(run.message, /as a preview \(pinned: write\)/);
    const paused = await waitFor('the pause before first', () => (shown(sent).controls.paused === 'first' ? shown(sent) : undefined));
    const runId = paused.view.run!.runId;
    assert.deepEqual(paused.controls.active, { runId, debuggable: true, pinned: ['write'] });
    assert.equal(paused.view.run?.state, 'running');
    assert.equal(paused.view.run?.nodes.first, undefined, 'first has not started');

    // Step: first runs; write is pinned (no pause before it), so the next pause is at last.
    assert.match((await intent({ kind: 'debug', action: 'step' })).message, /Stepped: first starts/);
    const second = await waitFor('the pause before last', () => (shown(sent).controls.paused === 'last' ? shown(sent) : undefined));
    assert.equal(second.view.run?.nodes.first?.state, 'success');
    assert.equal(second.view.run?.nodes.write?.state, 'success');

    assert.ok((await intent({ kind: 'debug', action: 'continue' })).ok);
    const end = await waitFor('the run to succeed', () => (shown(sent).view.run?.state === 'success' ? shown(sent) : undefined));
    assert.equal(end.view.run?.nodes.last?.output, 'wrote pinned.txt', 'the pinned output flowed downstream');
    assert.match(end.view.run?.nodes.write?.reason ?? '', /^pinned/);
    assert.equal(await exists(written), false, 'the pinned write-file node wrote nothing');
    await waitFor('the controls to show no active run', () => shown(sent).controls.active === undefined);
    const events = end.view.events.map((e) => (e.type === 'node-started' || e.type === 'node-finished' ? `${e.type} ${e.nodeId}` : e.type));
    assert.deepEqual(
      events.filter((e) => e !== 'node-log'),
      ['run-started', 'node-started first', 'node-finished first', 'node-finished write', 'node-started last', 'node-finished last', 'run-finished'],
    );

    // The Runs view has it, as started from the board.
    const { context } = await api();
    const record = await waitFor('the Runs view to have the run', () => context.runs.model.snapshot.get(runId));
    assert.equal(record.trigger.detail, 'Harmony Board');

    // Clicking a finished node: its output opens in a symphony-run: document beside the board.
    assert.ok((await intent({ kind: 'open-run-document', runId, node: 'last', document: 'output' })).ok);
    const editor = await waitFor('the output document', () =>
      vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'symphony-run' && e.document.uri.path.endsWith('/last.output.txt')),
    );
    assert.equal(editor.document.getText(), 'wrote pinned.txt');

    // Pinning from the run takes the node's output from the record.
    assert.ok((await intent({ kind: 'pin-output', node: 'first', pin: { source: 'run', runId } })).ok);
    assert.deepEqual(shown(sent).pins.first, { output: { greeting: 'Hello' }, fromRun: runId });
  });

  it('runs every node without preview, and cancels a run paused at a breakpoint', async () => {
    await openBoard();
    assert.ok((await intent({ kind: 'set-breakpoints', nodes: ['last'] })).ok);
    assert.ok((await intent({ kind: 'run', preview: false })).ok);
    await waitFor('the pause before last', () => shown(sent).controls.paused === 'last');
    assert.equal(await exists(written), true, 'without preview, write ran');
    const again = await intent({ kind: 'run' });
    assert.equal(again.ok, false);
    assert.match(again.message, /still going/);

    assert.ok((await intent({ kind: 'cancel-run' })).ok);
    const end = await waitFor('the run to be cancelled', () => (shown(sent).view.run?.state === 'cancelled' ? shown(sent) : undefined));
    assert.equal(end.view.run?.nodes.last?.state, 'cancelled');
    await waitFor('the controls to show no active run', () => shown(sent).controls.active === undefined && shown(sent).controls.paused === undefined);
    assert.equal((await intent({ kind: 'debug', action: 'continue' })).ok, false, 'nothing to continue');
  });

  it('shows a reopened board the latest run, and keeps its pins and breakpoints', async () => {
    await openBoard();
    const state = shown(sent);
    assert.equal(state.view.run?.state, 'cancelled', 'the run of the previous test');
    assert.ok(state.view.events.some((e) => e.type === 'run-finished'), 'its events, read from the journal');
    assert.deepEqual(state.controls.breakpoints, ['last']);
    assert.deepEqual(Object.keys(state.pins).sort(), ['first', 'write']);
  });

  it('follows a run of its melody started with Run Melody, without a debugger', async () => {
    await openBoard();
    assert.ok((await intent({ kind: 'set-breakpoints', nodes: [] })).ok);
    const result = await vscode.commands.executeCommand<{ runId: string; state: string } | undefined>('symphony.runMelody', uri, { inputs: { greeting: 'from the command' } });
    assert.ok(result);
    assert.equal(result.state, 'success');
    const end = await waitFor('the board to show that run', () => (shown(sent).view.run?.runId === result.runId && shown(sent).view.run?.state === 'success' ? shown(sent) : undefined));
    assert.deepEqual(end.view.run?.nodes.first?.output, { greeting: 'from the command' });
    assert.equal(end.view.run?.trigger.detail, 'VS Code');
  });
});
