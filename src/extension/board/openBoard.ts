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

/**
 * Symphony: Open on Harmony Board (Ctrl/Cmd+M) — the melody the command was invoked on,
 * the active one, or one picked from the workspace. Resolves to the melody opened.
 */
export async function openBoard(ctx: SymphonyContext, arg?: unknown): Promise<vscode.Uri | undefined> {
  const uri = melodyTarget(arg) ?? (await pickMelody(ctx));
  if (!uri) return undefined;
  await vscode.commands.executeCommand('vscode.openWith', uri, EDITORS.harmonyBoard);
  return uri;
}

/** Symphony: Open Melody as Text — from the board back to the YAML (Ctrl/Cmd+M on the board). */
export async function openMelodyText(arg?: unknown): Promise<vscode.Uri | undefined> {
  const uri = melodyTarget(arg);
  if (!uri) return undefined;
  await vscode.commands.executeCommand('vscode.openWith', uri, 'default');
  return uri;
}
