import * as assert from 'assert';
import { createServer } from 'net';
import { simpleGit } from 'simple-git';
import * as vscode from 'vscode';
import { api, closeAllEditors, gitExtensionCaughtUp, readFile, waitFor, workspaceRoot, writeFile } from './util';

/** A melody that records what started it into out/<name>.txt. */
const recorder = (name: string, trigger: string) =>
  [
    `name: ${name}`,
    `triggers: [${trigger}]`,
    'permissions: { fs: { write: ["out/**"] } }',
    'nodes:',
    `  note: { uses: write-file, with: { path: out/${name}.txt, content: "\${{ trigger.kind }} \${{ has(trigger.file) ? trigger.file : (has(trigger.upstream) ? trigger.upstream.melody : '') }}" } }`,
    '',
  ].join('\n');

const exists = async (uri: vscode.Uri) => vscode.workspace.fs.stat(uri).then(() => true, () => false);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('triggers', () => {
  const config = () => vscode.workspace.getConfiguration('symphony');
  const files: vscode.Uri[] = [];
  const melody = async (name: string, trigger: string) => {
    const uri = vscode.Uri.joinPath(workspaceRoot(), 'melodies', `${name}.melody.yaml`);
    files.push(uri);
    await writeFile(uri, recorder(name, trigger));
    return vscode.Uri.joinPath(workspaceRoot(), 'out', `${name}.txt`);
  };

  before(async () => {
    await api();
    // With triggers still off: a commit of an earlier test seen late would start `build`.
    await gitExtensionCaughtUp();
    await config().update('triggers.enabled', true, vscode.ConfigurationTarget.Global);
    // The web workbench auto-saves after a delay by default, and those saves start no save
    // trigger: the tests save as a person does, explicitly, unless they test auto-save.
    await vscode.workspace.getConfiguration('files').update('autoSave', 'off', vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    await vscode.workspace.getConfiguration('files').update('autoSave', undefined, vscode.ConfigurationTarget.Global);
    await config().update('triggers.enabled', undefined, vscode.ConfigurationTarget.Global);
    await config().update('triggers.webhookPort', undefined, vscode.ConfigurationTarget.Global);
    for (const f of files) await vscode.workspace.fs.delete(f).then(undefined, () => undefined);
    // Leave the workspace as the other suites expect it: the test melodies gone from the index.
    const ours = new Set(files.map((f) => f.fsPath));
    await waitFor('the test melodies to leave the index', async () => !(await api()).context.index.model?.melodies.some((m) => ours.has(m.file)));
    await vscode.workspace.fs.delete(vscode.Uri.joinPath(workspaceRoot(), 'out'), { recursive: true }).then(undefined, () => undefined);
    for (const dir of ['notes', 'docs']) await vscode.workspace.fs.delete(vscode.Uri.joinPath(workspaceRoot(), dir), { recursive: true }).then(undefined, () => undefined);
    await closeAllEditors();
  });

  it('start a melody when a matching file is saved in the editor', async () => {
    const { triggers } = await api();
    await waitFor('triggers to be on', () => triggers.dispatcher() !== undefined);
    const out = await melody('on-save', '{ on: save, paths: ["notes/**"], debounce: 50ms }');
    const note = vscode.Uri.joinPath(workspaceRoot(), 'notes', 'today.md');
    await writeFile(note, '# notes\n');
    const editor = await vscode.window.showTextDocument(note);
    await waitFor('the index to see on-save', async () => (await api()).context.index.model?.melodies.some((m) => m.melody?.name === 'on-save'));
    await editor.edit((e) => e.insert(new vscode.Position(1, 0), 'saved from the editor\n'));
    assert.ok(await editor.document.save(), 'the editor saved the note');
    await waitFor('the triggered run to write its note', () => exists(out));
    assert.strictEqual(await readFile(out), 'save notes/today.md');
  });

  it('show a triggered melody running as soon as it is asked for, and no longer when its file cannot run', async () => {
    const { context } = await api();
    const counts: number[] = [];
    const listening = context.runs.onDidChangeActive((n) => counts.push(n));
    let shownWith: number | undefined;
    try {
      const missing = vscode.Uri.joinPath(workspaceRoot(), 'melodies', 'missing.melody.yaml').fsPath;
      await assert.rejects(context.runs.runFile(missing, 'missing', {}, { background: true, onShown: () => (shownWith = counts.at(-1)) }), /no such file/);
    } finally {
      listening.dispose();
    }
    assert.strictEqual(shownWith, 1, 'shown running before its file was read');
    assert.strictEqual(counts.at(-1), 0, 'no longer shown once it could not run');
  });

  it('start melodies chained after a run that ended', async () => {
    const out = await melody('after-hello', '{ on: melody, melody: hello }');
    await waitFor('the index to see after-hello', async () => (await api()).context.index.model?.melodies.some((m) => m.melody?.name === 'after-hello'));
    const hello = vscode.Uri.joinPath(workspaceRoot(), 'melodies', 'hello.melody.yaml');
    const result = await vscode.commands.executeCommand<{ state: string }>('symphony.runMelody', hello, { inputs: {} });
    assert.strictEqual(result.state, 'success');
    await waitFor('the chained run', () => exists(out));
    assert.strictEqual(await readFile(out), 'melody hello');
  });

  it('start a melody on a commit seen by the git extension', async () => {
    const out = await melody('on-commit', '{ on: commit, paths: ["docs/**"] }');
    await waitFor('the index to see on-commit', async () => (await api()).context.index.model?.melodies.some((m) => m.melody?.name === 'on-commit'));
    const git = simpleGit({ baseDir: workspaceRoot().fsPath });
    await writeFile(vscode.Uri.joinPath(workspaceRoot(), 'docs', 'guide.md'), '# guide\n');
    await git.add(['docs/guide.md']);
    await git.commit('docs: add a guide');
    await waitFor('the commit-triggered run', () => exists(out));
    assert.strictEqual((await readFile(out)).trim(), 'commit');
  });

  it('start a melody from a webhook on the configured port', async () => {
    const { triggers } = await api();
    const out = await melody('on-hook', '{ on: webhook, path: /hook }');
    await waitFor('the index to see on-hook', async () => (await api()).context.index.model?.melodies.some((m) => m.melody?.name === 'on-hook'));
    const port = await freePort();
    await config().update('triggers.webhookPort', port, vscode.ConfigurationTarget.Global);
    await waitFor('the endpoint to open', () => triggers.webhookUrl() === `http://127.0.0.1:${port}`);
    await waitFor('the route to be served', () => triggers.dispatcher()?.webhookPaths().includes('/hook'));
    const res = await fetch(`${triggers.webhookUrl()}/hook`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.strictEqual(res.status, 202);
    await waitFor('the webhook run', () => exists(out));
    assert.strictEqual((await readFile(out)).trim(), 'webhook');
  });

  it('fire on saves the person makes, not on auto-saves after a delay (unless autosave: true)', async () => {
    const { context, triggers } = await api();
    const files = vscode.workspace.getConfiguration('files');
    const typed = await melody('typed', '{ on: save, paths: ["drafts/**"], debounce: 50ms }');
    await melody('typing', '{ on: save, paths: ["drafts/**"], debounce: 50ms, autosave: true }');
    const runsOf = (name: string) => context.runs.model.snapshot.runs.filter((r) => r.melody === name);
    await waitFor('the index to see both', () => ['typed', 'typing'].every((n) => context.index.model?.melodies.some((m) => m.melody?.name === n)));
    const draft = vscode.Uri.joinPath(workspaceRoot(), 'drafts', 'letter.md');
    await writeFile(draft, '');
    try {
      await files.update('autoSaveDelay', 100, vscode.ConfigurationTarget.Global);
      await files.update('autoSave', 'afterDelay', vscode.ConfigurationTarget.Global);
      const editor = await vscode.window.showTextDocument(draft);
      // Typing with pauses: every pause is an auto-save, and each is waited for.
      for (const word of ['Dear ', 'reader, ', 'hello.']) {
        const saved = new Promise<void>((resolve) => {
          const sub = vscode.workspace.onDidSaveTextDocument((d) => d.uri.toString() === draft.toString() && (sub.dispose(), resolve()));
        });
        await editor.edit((e) => e.insert(editor.document.lineAt(editor.document.lineCount - 1).range.end, word));
        await saved;
      }
      await waitFor('the autosave: true melody to run on the auto-saves', () => runsOf('typing').some((r) => r.state === 'success'));
      await waitFor('no save waiting out its debounce', () => triggers.dispatcher()?.pendingSaves() === 0 && context.runs.activeRuns().length === 0);
      assert.strictEqual(runsOf('typed').length, 0, 'auto-saves after a delay did not start the default save trigger');
      assert.ok(!(await exists(typed)));

      await files.update('autoSave', 'off', vscode.ConfigurationTarget.Global);
      await editor.edit((e) => e.insert(new vscode.Position(0, 0), '> '));
      assert.ok(await editor.document.save(), 'the explicit save went through');
      await waitFor('the run of the explicit save', () => exists(typed));
      assert.strictEqual(await readFile(typed), 'save drafts/letter.md');
      await waitFor('the run to finish', () => runsOf('typed').some((r) => r.state === 'success'));
      assert.strictEqual(runsOf('typed').length, 1);
    } finally {
      await files.update('autoSave', 'off', vscode.ConfigurationTarget.Global);
      await files.update('autoSaveDelay', undefined, vscode.ConfigurationTarget.Global);
      await closeAllEditors();
      await vscode.workspace.fs.delete(vscode.Uri.joinPath(workspaceRoot(), 'drafts'), { recursive: true }).then(undefined, () => undefined);
    }
  });

  it('announce the failures of a triggered melody once until the notification is closed', async () => {
    const { context } = await api();
    const uri = vscode.Uri.joinPath(workspaceRoot(), 'melodies', 'breaks.melody.yaml');
    files.push(uri);
    await writeFile(
      uri,
      ['name: breaks', 'triggers: [{ on: save, paths: ["drafts/**"], debounce: 20ms }]', 'permissions: { commands: [node] }', 'nodes:', '  fail: { uses: shell, with: { command: node, args: ["-e", "process.exit(3)"] } }', ''].join('\n'),
    );
    await waitFor('the index to see breaks', () => context.index.model?.melodies.some((m) => m.melody?.name === 'breaks'));
    const announced: { runId: string; shown: boolean }[] = [];
    const sub = context.runs.onDidAnnounce((a) => a.melody === 'breaks' && announced.push(a));
    const draft = vscode.Uri.joinPath(workspaceRoot(), 'drafts', 'b.md');
    await writeFile(draft, '');
    try {
      const editor = await vscode.window.showTextDocument(draft);
      const saveAndFail = async (n: number) => {
        await editor.edit((e) => e.insert(new vscode.Position(0, 0), `${n}`));
        assert.ok(await editor.document.save());
        await waitFor(`failure ${n} to be announced`, () => announced.length === n);
      };
      await saveAndFail(1);
      await saveAndFail(2);
      await saveAndFail(3);
      assert.deepEqual(announced.map((a) => a.shown), [true, false, false], 'one notification for the three failures');
      assert.ok(context.runs.failureNotificationOpen('breaks'));
      await vscode.commands.executeCommand('notifications.clearAll');
      await waitFor('the notification to close', () => !context.runs.failureNotificationOpen('breaks'));
      await saveAndFail(4);
      assert.strictEqual(announced[3]!.shown, true, 'after the person closed it, the next failure is shown');
    } finally {
      sub.dispose();
      await vscode.commands.executeCommand('notifications.clearAll');
      await closeAllEditors();
      await vscode.workspace.fs.delete(vscode.Uri.joinPath(workspaceRoot(), 'drafts'), { recursive: true }).then(undefined, () => undefined);
    }
  });

  it('stop when turned off', async () => {
    const { triggers } = await api();
    await config().update('triggers.enabled', false, vscode.ConfigurationTarget.Global);
    await waitFor('the dispatcher to stop', () => triggers.dispatcher() === undefined);
    assert.strictEqual(triggers.webhookUrl(), undefined);
  });
});
