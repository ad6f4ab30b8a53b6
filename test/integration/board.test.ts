import * as assert from 'assert';
import * as vscode from 'vscode';
import type { HostMessage } from '../../src/protocol/board';
import type { BoardDocument } from '../../src/protocol/boardModel';
import type { BoardSession } from '../../src/extension/board/session';
import { api, cleanUpAfterEach, readFile, scratch, waitFor, writeFile } from './util';

/**
 * The Harmony Board in a real extension host: the custom editor opens on melody files,
 * intents from the board become edits of the TextDocument (undoable, dirtying it), edits
 * in the text editor reach the board, and the commands, keybinding target and CodeLens
 * find their melody. The tests play the webview's side through `session.receive`, with
 * the very messages the webview sends.
 */

const TEXT = `# A melody for the board tests.
name: board-test   # keep this comment
permissions: { commands: [echo] }
nodes:
  first:
    uses: shell
    with: { command: echo, args: [one] }   # and this one
  second:
    uses: notify
    needs: [first]
    with: { message: done }
`;

/** Opens `uri` on the board and returns its session, with every message it sends recorded. */
async function openBoard(uri: vscode.Uri): Promise<{ session: BoardSession; sent: HostMessage[] }> {
  const { board } = await api();
  await vscode.commands.executeCommand('vscode.openWith', uri, 'symphony.harmonyBoard');
  const session = await waitFor('the board to open', () => board.sessionFor(uri));
  const sent: HostMessage[] = [];
  session.channel.watch((m) => sent.push(m));
  return { session, sent };
}

/** Every tab of every group showing `uri`, as text or on the board. */
function tabsOf(uri: vscode.Uri): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) =>
    g.tabs.filter((t) => (t.input instanceof vscode.TabInputText || t.input instanceof vscode.TabInputCustom) && t.input.uri.toString() === uri.toString()),
  );
}

/** The latest document message sent to the board. */
function lastDocument(sent: readonly HostMessage[]): BoardDocument | undefined {
  const docs = sent.filter((m): m is Extract<HostMessage, { type: 'document' }> => m.type === 'document');
  return docs[docs.length - 1]?.document;
}

/** Plays the board: sends an intent as the webview would and waits for its result. */
async function intent(session: BoardSession, sent: HostMessage[], id: number, body: unknown): Promise<Extract<HostMessage, { type: 'result' }>> {
  await session.receive({ type: 'intent', id, intent: body });
  const result = sent.find((m): m is Extract<HostMessage, { type: 'result' }> => m.type === 'result' && m.id === id);
  assert.ok(result, `a result for intent ${id}`);
  return result;
}

describe('Harmony Board', () => {
  let uri: vscode.Uri;

  beforeEach(async () => {
    uri = scratch('melodies', `board-${Date.now()}.melody.yaml`);
    await writeFile(uri, TEXT);
  });

  cleanUpAfterEach();

  it('answers the ready handshake with the catalog and the document', async () => {
    const { session, sent } = await openBoard(uri);
    await session.receive({ type: 'ready' });
    const init = sent.find((m) => m.type === 'init');
    assert.ok(init && init.type === 'init');
    assert.ok(init.catalog.palette.some((e) => e.key === 'instrument:backend/reviewer'), 'the demo’s instruments are in the palette');
    const doc = lastDocument(sent);
    assert.deepEqual(
      doc?.melody?.nodes.map((n) => `${n.id}<${n.needs.join(',')}`),
      ['first<', 'second<first'],
    );
  });

  it('gives a board that opens or reloads the document already built, and builds it again after an edit', async () => {
    const { session, sent } = await openBoard(uri);
    const built = session.current;
    assert.ok(built, 'the page was made from the document');
    await session.receive({ type: 'ready' });
    await session.receive({ type: 'ready' });
    const docs = sent.filter((m): m is Extract<HostMessage, { type: 'document' }> => m.type === 'document');
    assert.equal(docs.length, 2, 'one document per ready');
    assert.ok(
      docs.every((m) => m.document === built),
      'the same build each time: a 500-node melody costs the extension host about 200 ms per build',
    );
    const edit = new vscode.WorkspaceEdit();
    edit.insert(uri, new vscode.Position(0, 0), '# edited\n');
    assert.ok(await vscode.workspace.applyEdit(edit));
    await waitFor('the edited document on the board', () => lastDocument(sent)?.version === session.document.version);
    assert.notEqual(lastDocument(sent), built, 'an edit builds the document again');
    assert.equal(session.current, lastDocument(sent));
  });

  it('remembers for the workspace whether boards show the minimap', async () => {
    const first = await openBoard(uri);
    await first.session.receive({ type: 'ready' });
    const init = first.sent.find((m) => m.type === 'init');
    assert.ok(init && init.type === 'init');
    assert.deepEqual(init.view, { minimap: true }, 'shown until the user hides it');
    try {
      await first.session.receive({ type: 'view', view: { minimap: false } });
      // The board reloads (hidden, then shown): it is told again, as a new board would be.
      first.sent.length = 0;
      await first.session.receive({ type: 'ready' });
      const again = first.sent.find((m) => m.type === 'init');
      assert.ok(again && again.type === 'init');
      assert.deepEqual(again.view, { minimap: false });
    } finally {
      await first.session.receive({ type: 'view', view: { minimap: true } });
    }
  });

  it('applies an intent as an undoable edit of the document, keeping comments', async () => {
    const { session, sent } = await openBoard(uri);
    const document = session.document;
    const result = await intent(session, sent, 1, { kind: 'add-node', paletteKey: 'kind:notify', position: [240, 120], after: 'second' });
    assert.deepEqual([result.ok, result.message, result.select], [true, 'Added notify', ['notify']]);
    assert.ok(document.isDirty, 'the document is dirty');
    const text = document.getText();
    assert.ok(text.startsWith(TEXT.slice(0, TEXT.indexOf('  second:'))), text);
    assert.match(text, /\n {2}notify:\n {4}uses: notify\n {4}needs: \[second\]\n {4}with: \{ message: Done \}\n/);
    assert.match(text, /\nboard:\n {2}positions:\n {4}notify: \[240, 120\]\n$/);
    assert.deepEqual(lastDocument(sent)?.melody?.nodes.map((n) => n.id), ['first', 'second', 'notify'], 'the board got the new document before the result');

    const undo = await intent(session, sent, 2, { kind: 'history', action: 'undo' });
    assert.equal(undo.message, 'Undone');
    await waitFor('the undo', () => document.getText() === TEXT);
    await waitFor('the board to redraw', () => lastDocument(sent)?.melody?.nodes.length === 2);
    await intent(session, sent, 3, { kind: 'history', action: 'redo' });
    await waitFor('the redo', () => document.getText().includes('  notify:'));
  });

  it('refuses a cycle with a message and leaves the document alone', async () => {
    const { session, sent } = await openBoard(uri);
    const result = await intent(session, sent, 1, { kind: 'connect', from: 'second', to: 'first' });
    assert.equal(result.ok, false);
    assert.match(result.message, /cycle \(first → second → first\)/);
    assert.equal(session.document.getText(), TEXT);
    assert.equal(session.document.isDirty, false);
  });

  it('ignores malformed messages', async () => {
    const { session, sent } = await openBoard(uri);
    const before = sent.length;
    await session.receive({ type: 'intent', id: 1, intent: { kind: 'connect', from: 'first' } });
    await session.receive({ type: 'intent', id: 2, intent: { kind: 'rm -rf' } });
    await session.receive('ready');
    assert.equal(sent.length, before);
    assert.equal(session.document.getText(), TEXT);
  });

  it('follows edits made in the text editor, and shows diagnostics for YAML it cannot read', async () => {
    const { session, sent } = await openBoard(uri);
    const edit = new vscode.WorkspaceEdit();
    edit.insert(uri, session.document.positionAt(TEXT.length), '  third:\n    uses: notify\n    needs: [second]\n    with: { message: more }\n');
    assert.ok(await vscode.workspace.applyEdit(edit));
    await waitFor('the board to show the third node', () => lastDocument(sent)?.melody?.nodes.some((n) => n.id === 'third' && n.needs[0] === 'second'));

    const broken = new vscode.WorkspaceEdit();
    broken.insert(uri, new vscode.Position(3, 0), 'oops: [\n');
    assert.ok(await vscode.workspace.applyEdit(broken));
    const doc = await waitFor('the board to get the broken document', () => {
      const d = lastDocument(sent);
      return d && !d.melody ? d : undefined;
    });
    assert.ok(doc.diagnostics.some((d) => d.code === 'yaml-syntax' && d.line >= 4), JSON.stringify(doc.diagnostics));
    const refused = await intent(session, sent, 1, { kind: 'add-node', paletteKey: 'kind:notify' });
    assert.equal(refused.ok, false);
    assert.match(refused.message, /fix them in the text editor first/);
  });

  it('saves like any text file', async () => {
    const { session, sent } = await openBoard(uri);
    await intent(session, sent, 1, { kind: 'rename', from: 'first', to: 'start' });
    assert.ok(await session.document.save());
    const saved = await readFile(uri);
    assert.match(saved, /\n {2}start:\n {4}uses: shell\n {4}with: \{ command: echo, args: \[one\] \} {3}# and this one\n/);
    assert.match(saved, /needs: \[start\]/);
  });

  it('opens the active melody on the board, and goes back to the text', async () => {
    const { board } = await api();
    // A kept (not preview) editor: a preview one would be replaced by whatever opens next anyway.
    await vscode.window.showTextDocument(uri, { preview: false });
    const opened = await vscode.commands.executeCommand<vscode.Uri | undefined>('symphony.openBoard');
    assert.equal(opened?.toString(), uri.toString());
    await waitFor('the board to open', () => board.sessionFor(uri));
    // In the text editor's place: the melody has one tab, the board's.
    await waitFor('one tab, the board', () => {
      const tabs = tabsOf(uri);
      return tabs.length === 1 && tabs[0]!.input instanceof vscode.TabInputCustom;
    });
    const back = await vscode.commands.executeCommand<vscode.Uri | undefined>('symphony.openMelodyText');
    assert.equal(back?.toString(), uri.toString());
    await waitFor('the text editor', () => vscode.window.activeTextEditor?.document.uri.toString() === uri.toString());
    await waitFor('one tab, the text', () => {
      const tabs = tabsOf(uri);
      return tabs.length === 1 && tabs[0]!.input instanceof vscode.TabInputText;
    });
  });

  it('offers "Open on Harmony Board" as a CodeLens on melody files', async () => {
    // The provider runs on the document the editor has loaded.
    await vscode.window.showTextDocument(uri);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
    const lens = lenses.find((l) => l.command?.command === 'symphony.openBoard');
    assert.ok(lens, JSON.stringify(lenses.map((l) => l.command?.title)));
    assert.match(lens.command!.title, /Open on Harmony Board/);
    assert.equal(String(lens.command!.arguments?.[0]), String(uri));
  });

  it('creates a melody from a template, never over an existing one', async () => {
    const { context } = await api();
    const name = `from-template-${Date.now()}`;
    scratch('melodies', `${name}.melody.yaml`);
    const created = await vscode.commands.executeCommand<vscode.Uri | undefined>('symphony.newMelodyFromTemplate', {
      template: 'full-stack-review',
      name,
      instruments: { 'core/reviewer': 'backend/reviewer' },
    });
    assert.ok(created);
    const text = await readFile(created);
    assert.match(text, new RegExp(`^name: ${name}$`, 'm'));
    assert.match(text, /instrument: backend\/reviewer/);
    const summary = await waitFor('the index to list it', () => context.index.model?.melodies.find((m) => m.name === name));
    // Valid in the demo workspace: nothing but the warning that no model is set up here.
    assert.deepEqual(summary.diagnostics.filter((d) => d.code !== 'model-setup'), [], 'valid in the demo workspace');
    assert.ok(summary.diagnostics.every((d) => d.severity === 'warning'));

    await writeFile(created, 'name: mine\n');
    const again = await vscode.commands.executeCommand<vscode.Uri | undefined>('symphony.newMelodyFromTemplate', { template: 'blank', name, instruments: {} });
    assert.equal(again, undefined);
    assert.equal(await readFile(created), 'name: mine\n');
  });
});
