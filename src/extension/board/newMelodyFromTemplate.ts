import * as vscode from 'vscode';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { closest } from '../../core/load/suggest';
import { describeTemplate, instantiateTemplate, MELODY_NAME, type TemplateInfo } from '../../core/board/templates';
import { EDITORS } from '../commandIds';
import type { SymphonyContext } from '../context';

/** Answers that skip the questions (tests, and callers that already know). */
export interface TemplateChoice {
  readonly template?: string;
  readonly name?: string;
  /** Template instrument → workspace instrument. */
  readonly instruments?: Readonly<Record<string, string>>;
}

/** The templates shipped in `templates/melodies/`, Blank last. */
export async function listTemplates(ctx: SymphonyContext): Promise<(TemplateInfo & { readonly text: string })[]> {
  const dir = join(ctx.templatesRoot, 'melodies');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.melody.yaml')).sort();
  const all = await Promise.all(files.map(async (f) => ({ ...describeTemplate(f, await readFile(join(dir, f), 'utf8')), text: await readFile(join(dir, f), 'utf8') })));
  return [...all.filter((t) => t.id !== 'blank'), ...all.filter((t) => t.id === 'blank')];
}

/**
 * For each instrument a template names that the workspace lacks, asks which of the
 * workspace's instruments should play it (or to keep the name, to add it later).
 */
async function bindInstruments(ctx: SymphonyContext, template: TemplateInfo): Promise<Record<string, string> | undefined> {
  const known = [...(ctx.index.model?.ensembles.refs ?? [])].sort();
  const map: Record<string, string> = {};
  for (const ref of template.instruments.filter((r) => !known.includes(r))) {
    if (known.length === 0) continue;
    const keep = `Keep ${ref}`;
    const suggestion = closest(ref.split('/')[1] ?? ref, known.map((k) => k.split('/')[1] ?? k));
    const items = [...known.map((k) => ({ label: k, picked: suggestion !== undefined && k.endsWith(`/${suggestion}`) })), { label: keep, picked: false }];
    items.sort((a, b) => Number(b.picked) - Number(a.picked));
    const choice = await vscode.window.showQuickPick(items, {
      title: `${template.title}: which instrument plays ${ref}?`,
      placeHolder: `This workspace has no ${ref}; pick one of its instruments, or keep the name and add it to ensembles/ later`,
    });
    if (!choice) return undefined;
    if (choice.label !== keep) map[ref] = choice.label;
  }
  return map;
}

/**
 * Symphony: New Melody from Template — picks a template and a name, writes
 * `melodies/<name>.melody.yaml` (never over an existing file) and opens it on the board.
 */
export async function newMelodyFromTemplate(ctx: SymphonyContext, answers: TemplateChoice = {}): Promise<vscode.Uri | undefined> {
  const root = ctx.index.root ?? vscode.workspace.workspaceFolders?.[0];
  if (!root) {
    void vscode.window.showWarningMessage('Open a folder first: melodies live in the workspace folder.');
    return undefined;
  }
  const templates = await listTemplates(ctx);
  const template =
    templates.find((t) => t.id === answers.template) ??
    (answers.template === undefined
      ? (await vscode.window.showQuickPick(templates.map((t) => ({ label: t.title, detail: t.blurb, template: t })), { title: 'New Melody from Template', matchOnDetail: true }))?.template
      : undefined);
  if (!template) return undefined;
  const folder = vscode.Uri.joinPath(root.uri, 'melodies');
  const exists = async (name: string) =>
    vscode.workspace.fs.stat(vscode.Uri.joinPath(folder, `${name}.melody.yaml`)).then(
      () => true,
      () => false,
    );
  const name =
    answers.name ??
    (await vscode.window.showInputBox({
      title: `New melody from ${template.title}`,
      prompt: 'The melody’s name (also its file name under melodies/)',
      value: template.id === 'blank' ? 'my-melody' : template.id,
      validateInput: async (v) => (!MELODY_NAME.test(v) ? 'Use letters, digits, "-" and "_"' : (await exists(v)) ? `melodies/${v}.melody.yaml already exists` : undefined),
    }));
  if (!name) return undefined;
  const instruments = answers.instruments ?? (await bindInstruments(ctx, template));
  if (!instruments) return undefined;
  const text = instantiateTemplate(template.text, name, instruments);
  if (!text.ok) throw new Error(text.error);
  await vscode.workspace.fs.createDirectory(folder);
  const target = vscode.Uri.joinPath(folder, `${name}.melody.yaml`);
  // `wx`: never overwrite a melody that appeared since the name was checked.
  await writeFile(target.fsPath, text.value, { flag: 'wx' });
  ctx.log.info(`created ${target.fsPath} from the ${template.title} template`);
  await ctx.index.refresh();
  await vscode.commands.executeCommand('vscode.openWith', target, EDITORS.harmonyBoard);
  const missing = template.instruments.filter((r) => !instruments[r] && !ctx.index.model?.ensembles.refs.has(r));
  if (missing.length) {
    void vscode.window.showInformationMessage(
      `${name} names instruments this workspace does not have yet: ${missing.join(', ')}. Symphony: Initialize Workspace adds the starter ensemble "core".`,
    );
  }
  return target;
}
