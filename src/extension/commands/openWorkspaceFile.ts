import * as vscode from 'vscode';
import { COMMANDS } from '../commandIds';
import type { SymphonyContext } from '../context';

/**
 * Opens one of the Conductor's files (`sheetMusic.md`, `handoff.md`) from the Symphony
 * root, offering to initialize the workspace when it does not exist yet.
 */
export async function openWorkspaceFile(ctx: SymphonyContext, name: string): Promise<vscode.TextEditor | undefined> {
  const folder = ctx.index.root ?? vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    void vscode.window.showWarningMessage(`Open a folder first: ${name} lives in the workspace folder.`);
    return undefined;
  }
  const uri = vscode.Uri.joinPath(folder.uri, name);
  try {
    await vscode.workspace.fs.stat(uri);
  } catch {
    const init = 'Initialize Workspace';
    const choice = await vscode.window.showInformationMessage(`${name} does not exist yet. Initialize this Symphony workspace?`, init);
    if (choice !== init) return undefined;
    await vscode.commands.executeCommand(COMMANDS.initializeWorkspace);
  }
  const doc = await vscode.workspace.openTextDocument(uri);
  const editor = await vscode.window.showTextDocument(doc, { preview: false });
  if (name === 'handoff.md') {
    // The log is append-only: show its end, where the newest entries are.
    const end = new vscode.Position(doc.lineCount - 1, 0);
    editor.revealRange(new vscode.Range(end, end), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    editor.selection = new vscode.Selection(end, end);
  }
  return editor;
}
