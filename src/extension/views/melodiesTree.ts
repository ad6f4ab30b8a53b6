import * as vscode from 'vscode';
import { basename, relative, sep } from 'node:path';
import type { MelodySummary, TriggerSummary } from '../../core/load/workspace';
import type { RunRecord } from '../../core/model/run';
import type { WorkspaceIndex } from '../workspaceIndex';

/** A row of the Melodies view: a melody file, or one of its triggers. */
export type MelodyNode =
  | { readonly kind: 'melody'; readonly melody: MelodySummary }
  | { readonly kind: 'trigger'; readonly melody: MelodySummary; readonly trigger: TriggerSummary; readonly index: number };

const TRIGGER_ICON: Readonly<Record<string, string>> = {
  save: 'save',
  commit: 'git-commit',
  schedule: 'clock',
  webhook: 'radio-tower',
  melody: 'link',
  manual: 'play',
};

/** `on save · schedule`, or `manual` when a melody declares no triggers. */
export function triggerLine(m: MelodySummary): string {
  return m.triggers.length ? m.triggers.map((t) => t.on).join(' · ') : 'manual';
}

const STATE_MARK: Readonly<Record<RunRecord['state'], string>> = { success: '✓', failure: '✗', cancelled: '⊘', running: '…' };

/** "just now", "5m ago", "3h ago", "2d ago". */
export function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86_400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86_400)}d ago`;
}

/** Melody files with their triggers and last run, rendered from the index's and the runs' snapshots. */
export class MelodiesTree implements vscode.TreeDataProvider<MelodyNode> {
  readonly onDidChangeTreeData: vscode.Event<void>;

  constructor(
    private readonly index: WorkspaceIndex,
    /** Recent runs, newest first, to show each melody's last one. */
    private readonly runs: () => readonly RunRecord[] = () => [],
    runsChanged: vscode.Event<unknown> = () => ({ dispose: () => undefined }),
  ) {
    this.onDidChangeTreeData = (listener, thisArg, disposables) => {
      const a = index.onDidChange(() => listener.call(thisArg, undefined));
      const b = runsChanged(() => listener.call(thisArg, undefined));
      const both = vscode.Disposable.from(a, b);
      disposables?.push(both);
      return both;
    };
  }

  /** The newest run of a melody file (by its workspace-relative path). */
  private lastRun(m: MelodySummary): RunRecord | undefined {
    const rel = relative(this.index.model?.root ?? '', m.file).split(sep).join('/');
    return this.runs().find((r) => r.file === rel);
  }

  getChildren(node?: MelodyNode): MelodyNode[] | Promise<MelodyNode[]> {
    const loading = this.index.loading;
    if (loading) return loading.then(() => this.getChildren(node));
    const model = this.index.model;
    if (!model) return [];
    if (!node) {
      const label = (m: MelodySummary) => m.name ?? basename(m.file);
      return [...model.melodies].sort((a, b) => label(a).localeCompare(label(b))).map((melody) => ({ kind: 'melody', melody }));
    }
    if (node.kind !== 'melody') return [];
    return node.melody.triggers.map((trigger, index) => ({ kind: 'trigger', melody: node.melody, trigger, index }));
  }

  getTreeItem(node: MelodyNode): vscode.TreeItem {
    const m = node.melody;
    const uri = vscode.Uri.file(m.file);
    const open: vscode.Command = { command: 'vscode.open', title: 'Open Melody', arguments: [uri] };
    if (node.kind === 'trigger') {
      const item = new vscode.TreeItem(`on ${node.trigger.on}`, vscode.TreeItemCollapsibleState.None);
      item.id = `trigger:${m.file}#${node.index}`;
      item.description = node.trigger.detail;
      item.iconPath = new vscode.ThemeIcon(TRIGGER_ICON[node.trigger.on] ?? 'zap');
      item.command = open;
      return item;
    }
    const errors = m.diagnostics.filter((d) => d.severity === 'error').length;
    const needsModel = m.diagnostics.filter((d) => d.code === 'model-setup');
    const item = new vscode.TreeItem(
      m.name ?? basename(m.file),
      m.triggers.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    item.id = `melody:${m.file}`;
    item.resourceUri = uri;
    const last = this.lastRun(m);
    const lastText = last ? `${STATE_MARK[last.state]} ${ago(last.startedAt)}` : undefined;
    item.description = errors ? `${errors} problem${errors === 1 ? '' : 's'}` : [needsModel.length ? 'needs a model' : '', triggerLine(m), lastText].filter(Boolean).join(' · ');
    item.iconPath = errors
      ? new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground'))
      : needsModel.length
        ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'))
        : new vscode.ThemeIcon('type-hierarchy-sub');
    item.contextValue = errors ? 'melody.invalid' : 'melody';
    item.command = open;
    return item;
  }

  /**
   * A melody's Markdown tooltip, made when its row is hovered: the extension host lexes a
   * Markdown tooltip each time it sends the row, and the rows are resent whenever a run
   * starts or ends.
   */
  resolveTreeItem(item: vscode.TreeItem, node: MelodyNode): vscode.TreeItem {
    if (node.kind !== 'melody') return item;
    const m = node.melody;
    const last = this.lastRun(m);
    const root = this.index.model?.root ?? '';
    const md = new vscode.MarkdownString(`**${m.name ?? basename(m.file)}** — \`${relative(root, m.file)}\`\n\n`);
    if (m.description) md.appendMarkdown(`${m.description}\n\n`);
    md.appendMarkdown(`${m.nodeCount} node${m.nodeCount === 1 ? '' : 's'} · triggers: ${triggerLine(m)}`);
    if (last) md.appendMarkdown(`\n\nLast run: ${last.state}, ${ago(last.startedAt)} (\`${last.runId}\`)`);
    for (const d of m.diagnostics) if (d.code === 'model-setup') md.appendMarkdown(`\n\n$(warning) ${d.message.replace(/[\\`*_[\]]/g, '\\$&')}`);
    md.supportThemeIcons = true;
    item.tooltip = md;
    return item;
  }
}
