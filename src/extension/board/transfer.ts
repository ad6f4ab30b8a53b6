import * as vscode from 'vscode';
import { basename } from 'node:path';
import { exportMelody, formatOf, importMelody, type MelodyFormat } from '../../core/board/transfer';
import type { IntentOutcome } from './session';

/**
 * The board's Import and Export buttons: file dialogs around the core's conversions.
 * Import replaces the document's text through a WorkspaceEdit, so one undo restores it.
 */

const FILTERS = { 'Melody (YAML or JSON)': ['yaml', 'yml', 'json'] };

/** Asks for a JSON or YAML melody and replaces the document's content with it. */
export async function importMelodyFile(document: vscode.TextDocument): Promise<IntentOutcome> {
  const [file] =
    (await vscode.window.showOpenDialog({ canSelectMany: false, filters: FILTERS, openLabel: 'Import Melody', title: 'Import a melody from JSON or YAML' })) ?? [];
  if (!file) return { ok: true, message: 'Import cancelled' };
  const content = new TextDecoder().decode(await vscode.workspace.fs.readFile(file));
  const imported = importMelody(content, formatOf(file.path));
  if (!imported.ok) return { ok: false, message: `${basename(file.path)}: ${imported.error}` };
  const replace = 'Replace';
  const choice = await vscode.window.showWarningMessage(
    `Replace the content of ${basename(document.uri.fsPath)} with ${basename(file.path)}?`,
    { modal: true, detail: 'Undo (Ctrl/Cmd+Z) brings the current content back.' },
    replace,
  );
  if (choice !== replace) return { ok: true, message: 'Import cancelled' };
  const edit = new vscode.WorkspaceEdit();
  edit.replace(document.uri, new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length)), imported.value);
  const applied = await vscode.workspace.applyEdit(edit);
  return applied ? { ok: true, message: `Imported ${basename(file.path)}` } : { ok: false, message: 'VS Code did not apply the import (is the file read-only?)' };
}

/** Asks where to save the melody as JSON or YAML, and writes it there. */
export async function exportMelodyFile(document: vscode.TextDocument, format: MelodyFormat): Promise<IntentOutcome> {
  const content = exportMelody(document.getText(), format);
  if (!content.ok) return { ok: false, message: content.error };
  const stem = basename(document.uri.fsPath).replace(/\.melody\.ya?ml$/, '');
  const target = await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.joinPath(document.uri, '..', `${stem}.${format}`),
    filters: format === 'json' ? { JSON: ['json'] } : { YAML: ['yaml', 'yml'] },
    saveLabel: 'Export Melody',
    title: `Export ${stem} as ${format.toUpperCase()}`,
  });
  if (!target) return { ok: true, message: 'Export cancelled' };
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(content.value));
  return { ok: true, message: `Exported to ${vscode.workspace.asRelativePath(target)}` };
}
