import * as assert from 'assert';
import * as vscode from 'vscode';
import type { InitResult } from '../../src/core/workspace/init';
import { api, readFile, waitFor, workspaceRoot, writeFile } from './util';

describe('Symphony: Initialize Workspace', () => {
  it('creates the missing files and leaves existing ones untouched', async () => {
    await api();
    const root = workspaceRoot();
    const production = vscode.Uri.joinPath(root, 'production.md');
    const sheet = vscode.Uri.joinPath(root, 'sheetMusic.md');
    await vscode.workspace.fs.delete(production);
    await vscode.workspace.fs.delete(vscode.Uri.joinPath(root, 'tests'), { recursive: true });
    await writeFile(sheet, '# My own sheet music\n');

    const result = await vscode.commands.executeCommand<InitResult>('symphony.initializeWorkspace');

    assert.deepStrictEqual([...result.created].sort(), ['production.md', 'tests/README.md']);
    assert.deepStrictEqual(result.skipped.find((s) => s.path === 'sheetMusic.md'), { path: 'sheetMusic.md', reason: 'exists' });
    // The demo has its own ensembles and melodies, so the starter ones stay out.
    assert.deepStrictEqual(result.skipped.find((s) => s.path === 'ensembles/core/reviewer.yaml'), { path: 'ensembles/core/reviewer.yaml', reason: 'has-own' });
    assert.match(await readFile(production), /^# Production Goals/);
    assert.strictEqual(await readFile(sheet), '# My own sheet music\n');
  });

  it('opens the sheet music it creates, where the next step is', async () => {
    const sheet = vscode.Uri.joinPath(workspaceRoot(), 'sheetMusic.md');
    const before = await readFile(sheet);
    try {
      await vscode.workspace.fs.delete(sheet);
      const result = await vscode.commands.executeCommand<InitResult>('symphony.initializeWorkspace');
      assert.deepStrictEqual(result.created, ['sheetMusic.md']);
      assert.strictEqual(vscode.window.activeTextEditor?.document.uri.toString(), sheet.toString());
      // A document VS Code already held for the path takes the new file's text when its watcher sees it.
      await waitFor('the new sheet music in the editor', () => /^# Sheet Music/.test(vscode.window.activeTextEditor?.document.getText() ?? ''));
    } finally {
      await writeFile(sheet, before);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  it('opens the sheet music and the handoff log', async () => {
    const sheet = await vscode.commands.executeCommand<vscode.TextEditor>('symphony.editSheetMusic');
    assert.ok(sheet.document.uri.path.endsWith('/sheetMusic.md'));
    const handoff = await vscode.commands.executeCommand<vscode.TextEditor>('symphony.openHandoff');
    assert.ok(handoff.document.uri.path.endsWith('/handoff.md'));
    assert.strictEqual(vscode.window.activeTextEditor?.document.uri.toString(), handoff.document.uri.toString());
    // The log is append-only; the cursor lands at its end, where new entries go.
    assert.strictEqual(handoff.selection.active.line, handoff.document.lineCount - 1);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
