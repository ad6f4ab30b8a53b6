import * as vscode from 'vscode';
import { initWorkspace, type InitResult } from '../../core/workspace/init';
import { COMMANDS } from '../commandIds';
import type { SymphonyContext } from '../context';

/**
 * Symphony: Initialize Workspace — writes the starter files into the Symphony root folder,
 * never overwriting one. Resolves to what was done (undefined when no folder is open).
 */
export async function initializeWorkspace(ctx: SymphonyContext): Promise<InitResult | undefined> {
  const folder = ctx.index.root ?? vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    const open = 'Open Folder…';
    const choice = await vscode.window.showWarningMessage('Open a folder first: Symphony keeps its files in the workspace folder.', open);
    if (choice === open) await vscode.commands.executeCommand('workbench.action.files.openFolder');
    return undefined;
  }
  const result = await initWorkspace(folder.uri.fsPath, ctx.templatesRoot);
  ctx.log.info(
    `initialized ${folder.uri.fsPath}: created ${result.created.join(', ') || 'nothing'}; skipped ${result.skipped.map((s) => `${s.path} (${s.reason})`).join(', ') || 'nothing'}`,
  );
  await ctx.index.refresh();
  // What to do next is write the sheet music: a new one opens, where the person looks.
  if (result.created.includes('sheetMusic.md')) {
    const uri = vscode.Uri.joinPath(folder.uri, 'sheetMusic.md');
    const editor = await vscode.window.showTextDocument(uri, { preview: false });
    // VS Code may still hold the text of a sheet music deleted a moment ago, until its file
    // watcher catches up: show the new file's text at once (nothing unsaved is lost).
    const written = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    if (!editor.document.isDirty && editor.document.getText() !== written) await vscode.commands.executeCommand('workbench.action.files.revert', uri);
  }

  const sheet = 'Edit Sheet Music';
  const message = result.created.length
    ? `Symphony: created ${result.created.length} file${result.created.length === 1 ? '' : 's'}` +
      (result.skipped.length ? `; left ${result.skipped.length} alone that the workspace already had.` : '.')
    : 'Symphony: this workspace is already initialized; no file was changed.';
  void vscode.window.showInformationMessage(message, sheet).then((choice) => {
    if (choice === sheet) void vscode.commands.executeCommand(COMMANDS.editSheetMusic);
  });
  return result;
}
