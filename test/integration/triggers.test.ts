import * as assert from 'assert';
import { createServer } from 'net';
import { simpleGit } from 'simple-git';
import * as vscode from 'vscode';
import { api, closeAllEditors, readFile, waitFor, workspaceRoot, writeFile } from './util';

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
    await config().update('triggers.enabled', true, vscode.ConfigurationTarget.Global);
  });

  after(async () => {
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

  it('stop when turned off', async () => {
    const { triggers } = await api();
    await config().update('triggers.enabled', false, vscode.ConfigurationTarget.Global);
    await waitFor('the dispatcher to stop', () => triggers.dispatcher() === undefined);
    assert.strictEqual(triggers.webhookUrl(), undefined);
  });
});
