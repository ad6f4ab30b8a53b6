import * as assert from 'assert';
import * as vscode from 'vscode';
import type { ValidationSummary } from '../../src/extension/commands/validateMelodies';
import { api, cleanUpAfterEach, scratch, symphonyDiagnostics, waitFor, writeFile } from './util';

const BROKEN = [
  'name: broken',
  'nodes:',
  '  lint:',
  '    uses: shel',
  '    with: { command: node }',
  '  review:',
  '    uses: instrument',
  '    instrument: backend/reviwer',
  '    needs: [lint]',
  '    with: { prompt: "Lint said ${{ nodes.lint.output.stdout }}" }',
  'permissions: { commands: [node] }',
  '',
].join('\n');

/** `line:col severity message` with 1-based positions, as the user reads them. */
const show = (ds: vscode.Diagnostic[]) =>
  ds.map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${vscode.DiagnosticSeverity[d.severity]} ${d.message}`);

describe('melody diagnostics', () => {
  cleanUpAfterEach();

  it('appear as the user types a broken melody and clear when it is fixed', async () => {
    await api();
    const uri = scratch('melodies', 'typing.melody.yaml');
    await writeFile(uri, 'name: typing\npermissions: { commands: [node] }\nnodes:\n  lint: { uses: shell, with: { command: node } }\n');
    const editor = await vscode.window.showTextDocument(uri);
    await waitFor('a clean start', () => symphonyDiagnostics(uri).length === 0);

    await editor.edit((e) => e.replace(new vscode.Range(0, 0, editor.document.lineCount, 0), BROKEN));
    const found = await waitFor('diagnostics for the broken text', () => {
      const ds = symphonyDiagnostics(uri);
      return ds.length === 2 ? ds : undefined;
    });
    assert.deepStrictEqual(show(found), [
      '4:11 Error unknown node kind `shel`; did you mean `shell`?',
      '8:17 Error unknown instrument `backend/reviwer`: there is no backend/reviwer.yaml in ensembles/; did you mean `backend/reviewer`?',
    ]);
    assert.ok(editor.document.isDirty, 'diagnostics come from the unsaved text');
    assert.strictEqual(found[0]!.code, 'unknown-kind');

    // Fix both, as a user would: edit the two words.
    const text = editor.document.getText();
    await editor.edit((e) => {
      for (const [wrong, right] of [['shel', 'shell'], ['reviwer', 'reviewer']] as const) {
        const at = text.indexOf(wrong === 'shel' ? 'uses: shel' : wrong) + (wrong === 'shel' ? 'uses: '.length : 0);
        e.replace(new vscode.Range(editor.document.positionAt(at), editor.document.positionAt(at + wrong.length)), right);
      }
    });
    // The errors clear; what may stay is the warning that `review`'s model is not set up
    // here (code-server has no language model), which is true of the fixed text.
    const left = await waitFor('the errors to clear', () => {
      const ds = symphonyDiagnostics(uri);
      return ds.every((d) => d.severity !== vscode.DiagnosticSeverity.Error) ? ds : undefined;
    });
    assert.deepStrictEqual(show(left.filter((d) => d.code !== 'model-setup')), []);
    await editor.document.save();
  });

  it('cover files on disk that are not open, and follow them when they change', async () => {
    await api();
    const uri = scratch('melodies', 'on-disk.melody.yaml');
    await writeFile(uri, 'name: on-disk\nnodes:\n  a: { uses: notify, needs: [b], with: { message: a } }\n  b: { uses: notify, needs: [a], with: { message: b } }\n');
    const found = await waitFor('cycle diagnostics on the closed file', () => {
      const ds = symphonyDiagnostics(uri);
      return ds.length === 2 ? ds : undefined;
    });
    assert.deepStrictEqual(show(found), [
      '3:30 Error cycle: a → b → a — these nodes wait for each other and could never start; remove one of these needs',
      '4:30 Error cycle: a → b → a — these nodes wait for each other and could never start; remove one of these needs',
    ]);
    await writeFile(uri, 'name: on-disk\nnodes:\n  a: { uses: notify, with: { message: a } }\n');
    await waitFor('the fix on disk to clear them', () => symphonyDiagnostics(uri).length === 0);
  });

  it('check instrument files, with the instrument severity mapping', async () => {
    await api();
    const uri = scratch('ensembles', 'qa', 'broken.yaml');
    await writeFile(uri, 'nickname: Gong\nkind: model\nconcurrency: 0\n');
    const found = await waitFor('instrument diagnostics', () => {
      const ds = symphonyDiagnostics(uri);
      return ds.length === 2 ? ds : undefined;
    });
    assert.deepStrictEqual(show(found), ['2:7 Error `kind`: a model instrument needs a `model:` section', '3:14 Error `concurrency` must be at least 1']);
    await vscode.workspace.fs.delete(uri);
    await waitFor('diagnostics of the deleted file to go', () => symphonyDiagnostics(uri).length === 0);
  });

  it('Validate Melodies reports what it found', async () => {
    await api();
    const uri = scratch('melodies', 'bad.melody.yaml');
    await writeFile(uri, 'name: bad\nnodes:\n  a: { uses: notify, needs: [zz], with: { message: a } }\n');
    const summary = await vscode.commands.executeCommand<ValidationSummary>('symphony.validateMelodies');
    assert.strictEqual(summary.errors, 1);
    assert.strictEqual(summary.shownIn, 'problems', 'the Problems view opens on errors');
    assert.deepStrictEqual(show(symphonyDiagnostics(uri)), ['3:30 Error needs `zz` is not a node of this melody; its nodes are: a']);
    await vscode.workspace.fs.delete(uri);
    const clean = await vscode.commands.executeCommand<ValidationSummary>('symphony.validateMelodies');
    assert.strictEqual(clean.errors, 0);
    assert.strictEqual(clean.shownIn, clean.warnings ? 'problems' : 'message');
  });
});
