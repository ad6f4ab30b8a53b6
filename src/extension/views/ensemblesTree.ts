import * as vscode from 'vscode';
import type { WorkspaceIndex } from '../workspaceIndex';
import { modelLabel, type Ensemble, type Instrument } from '../../core/model/instrument';

/** A row of the Ensembles view. */
export type EnsembleNode =
  | { readonly kind: 'ensemble'; readonly ensemble: Ensemble }
  | { readonly kind: 'instrument'; readonly instrument: Instrument }
  | { readonly kind: 'broken'; readonly ensemble: string; readonly id: string; readonly file: string };

const KIND_ICON: Readonly<Record<Instrument['kind'], string>> = { model: 'sparkle', script: 'terminal', service: 'globe' };

/** What an instrument plays, in a few words: `model · openai-compatible/llama3.1`. */
export function instrumentSummary(i: Instrument): string {
  if (i.model) return `${i.kind} · ${i.model.provider}/${modelLabel(i.model)}`;
  if (i.script) return `${i.kind} · ${[i.script.command, ...(i.script.args ?? [])].join(' ')}`;
  if (i.service) return `${i.kind} · ${i.service.method} ${i.service.url}`;
  return i.kind;
}

/** Ensembles → instruments, rendered from the workspace index's snapshot. */
export class EnsemblesTree implements vscode.TreeDataProvider<EnsembleNode> {
  readonly onDidChangeTreeData: vscode.Event<void>;

  constructor(private readonly index: WorkspaceIndex) {
    this.onDidChangeTreeData = (listener, thisArg, disposables) => index.onDidChange(() => listener.call(thisArg, undefined), undefined, disposables);
  }

  getChildren(node?: EnsembleNode): EnsembleNode[] | Promise<EnsembleNode[]> {
    const loading = this.index.loading;
    if (loading) return loading.then(() => this.getChildren(node));
    const model = this.index.model;
    if (!model) return [];
    if (!node) return model.ensembles.ensembles.map((ensemble) => ({ kind: 'ensemble', ensemble }));
    if (node.kind !== 'ensemble') return [];
    return [
      ...node.ensemble.instruments.map((instrument): EnsembleNode => ({ kind: 'instrument', instrument })),
      ...node.ensemble.broken.map((b): EnsembleNode => ({ kind: 'broken', ensemble: node.ensemble.id, id: b.id, file: b.file })),
    ];
  }

  getTreeItem(node: EnsembleNode): vscode.TreeItem {
    switch (node.kind) {
      case 'ensemble': {
        const e = node.ensemble;
        const item = new vscode.TreeItem(e.meta?.name ?? e.id, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `ensemble:${e.id}`;
        const count = `${e.instruments.length} instrument${e.instruments.length === 1 ? '' : 's'}`;
        item.description = e.meta?.name && e.meta.name !== e.id ? `${e.id} · ${count}` : count;
        const summary = this.index.trail.summaries.get(e.id);
        item.tooltip = new vscode.MarkdownString(`**${e.meta?.name ?? e.id}** — \`ensembles/${e.id}/\`\n\n${e.meta?.description ?? ''}${summary ? `\n\n---\n\n**Latest summary** (summary.txt)\n\n${summary}` : ''}`);
        item.iconPath = new vscode.ThemeIcon('organization');
        item.contextValue = 'ensemble';
        if (e.metaFile) item.resourceUri = vscode.Uri.file(e.metaFile);
        return item;
      }
      case 'instrument': {
        const i = node.instrument;
        const item = new vscode.TreeItem(i.nickname, vscode.TreeItemCollapsibleState.None);
        item.id = `instrument:${i.ref}`;
        item.description = instrumentSummary(i);
        const md = new vscode.MarkdownString();
        md.appendMarkdown(`**${i.nickname}** — \`${i.ref}\` (${i.kind})\n\n`);
        if (i.role) md.appendMarkdown(`${i.role}\n\n`);
        if (i.model) md.appendMarkdown(`Model: \`${modelLabel(i.model)}\` via ${i.model.provider}\n\n`);
        if (i.handles?.length) md.appendMarkdown(`Handles: ${i.handles.map((h) => `\`${h}\``).join(', ')}\n\n`);
        md.appendMarkdown(`Concurrency: ${i.concurrency}`);
        const last = this.index.trail.lastTurn.get(i.ref);
        if (last) {
          md.appendMarkdown(`\n\n---\n\n**Last turn** — ${last.at.replace('T', ' ').slice(0, 16)} UTC${last.files?.length ? ` · ${last.files.map((f) => `\`${f}\``).join(', ')}` : ''}\n\n`);
          md.appendText(last.summary.length > 600 ? `${last.summary.slice(0, 600)}…` : last.summary);
        }
        item.tooltip = md;
        item.iconPath = new vscode.ThemeIcon(KIND_ICON[i.kind]);
        item.contextValue = `instrument.${i.kind}`;
        item.command = { command: 'vscode.open', title: 'Open Definition', arguments: [vscode.Uri.file(i.file)] };
        return item;
      }
      case 'broken': {
        const item = new vscode.TreeItem(node.id, vscode.TreeItemCollapsibleState.None);
        item.id = `broken:${node.ensemble}/${node.id}`;
        item.description = 'invalid — see Problems';
        item.tooltip = `ensembles/${node.ensemble}/${node.id}.yaml could not be loaded; open it to see what is wrong.`;
        item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground'));
        item.command = { command: 'vscode.open', title: 'Open Definition', arguments: [vscode.Uri.file(node.file)] };
        return item;
      }
    }
  }
}
