import * as vscode from 'vscode';
import { relative } from 'node:path';
import { MELODY_SUFFIX } from '../../core/load/workspace';
import { COMMANDS, EDITORS } from '../commandIds';
import type { SymphonyContext } from '../context';

const isMelody = (uri: vscode.Uri | undefined): uri is vscode.Uri => !!uri && uri.path.endsWith(MELODY_SUFFIX);

/**
 * The melody a command was invoked on: its argument (a Uri from the explorer, CodeLens or
 * editor title; a row of the Melodies view), else the active melody editor or board.
 */
export function melodyTarget(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return isMelody(arg) ? arg : undefined;
  const row = arg as { melody?: { file?: unknown } } | undefined;
  if (typeof row?.melody?.file === 'string') return vscode.Uri.file(row.melody.file);
  const active = vscode.window.activeTextEditor?.document.uri;
  if (isMelody(active)) return active;
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom && isMelody(input.uri)) return input.uri;
  if (input instanceof vscode.TabInputText && isMelody(input.uri)) return input.uri;
  return undefined;
}

/** Asks which of the workspace's melodies to open. */
async function pickMelody(ctx: SymphonyContext): Promise<vscode.Uri | undefined> {
  const model = ctx.index.model;
  const melodies = model?.melodies ?? [];
  if (melodies.length === 0) {
    const create = 'New Melody from Template…';
    const choice = await vscode.window.showInformationMessage('This workspace has no melodies yet.', create);
    if (choice === create) await vscode.commands.executeCommand(COMMANDS.newMelodyFromTemplate);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    melodies.map((m) => ({ label: m.name ?? relative(model!.root, m.file), description: relative(model!.root, m.file), detail: m.description, file: m.file })),
    { title: 'Open on Harmony Board', placeHolder: 'Which melody?', matchOnDescription: true },
  );
  return picked ? vscode.Uri.file(picked.file) : undefined;
}

/** What a tab shows `uri` as: `text`, a custom editor's view type, or undefined when it shows something else. */
function shownAs(tab: vscode.Tab | undefined, uri: vscode.Uri): string | undefined {
  const input = tab?.input;
  if (input instanceof vscode.TabInputText && input.uri.toString() === uri.toString()) return 'text';
  if (input instanceof vscode.TabInputCustom && input.uri.toString() === uri.toString()) return input.viewType;
  return undefined;
}

/**
 * Opens `uri` with `editor` (a custom editor's view type, or `default` for the text
 * editor). When the active tab shows the same melody in the other editor, the new editor
 * takes its place — same group, same position — instead of opening a second tab with the
 * same title beside it: VS Code opens the new editor next to the active tab, and the old
 * one is then closed. The document itself stays open (the other editor keeps it).
 */
async function openInPlace(uri: vscode.Uri, editor: string): Promise<void> {
  const group = vscode.window.tabGroups.activeTabGroup;
  const before = shownAs(group.activeTab, uri);
  const wanted = editor === 'default' ? 'text' : editor;
  const preview = group.activeTab?.isPreview ?? false;
  await vscode.commands.executeCommand('vscode.openWith', uri, editor, { viewColumn: group.viewColumn, preview });
  if (!before || before === wanted) return;
  const now = vscode.window.tabGroups.all.find((g) => g.viewColumn === group.viewColumn);
  const old = now?.tabs.find((t) => !t.isActive && shownAs(t, uri) === before);
  if (old) await vscode.window.tabGroups.close(old, true);
}

/**
 * Symphony: Open on Harmony Board (Ctrl/Cmd+M) — the melody the command was invoked on,
 * the active one, or one picked from the workspace. Resolves to the melody opened.
 */
export async function openBoard(ctx: SymphonyContext, arg?: unknown): Promise<vscode.Uri | undefined> {
  const uri = melodyTarget(arg) ?? (await pickMelody(ctx));
  if (!uri) return undefined;
  await openInPlace(uri, EDITORS.harmonyBoard);
  return uri;
}

/** Symphony: Open Melody as Text — from the board back to the YAML, in the board's place (Ctrl/Cmd+M on the board). */
export async function openMelodyText(arg?: unknown): Promise<vscode.Uri | undefined> {
  const uri = melodyTarget(arg);
  if (!uri) return undefined;
  await openInPlace(uri, 'default');
  return uri;
}
