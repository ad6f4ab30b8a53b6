import * as vscode from 'vscode';
import { join } from 'node:path';
import { markerDiagnostic, type Marker } from '../../core/deviations/markers';
import { DEVIATIONS_FILE } from '../../core/deviations/records';
import { SEVERITIES, type DeviationRecord, type DeviationSeverity } from '../../core/model/deviation';
import type { Diagnostic } from '../../core/model/diagnostic';
import { toVscodeRange } from '../adapters';
import { COMMANDS } from '../commandIds';
import type { DeviationIndex } from './deviationIndex';

/**
 * A row of the Deviations view: a severity, a record, a marker (unrecorded under its
 * severity, recorded under its record), or a problem of DEVIATIONS.json. Rows carry what
 * they show, so rendering reads nothing.
 */
export type DeviationNode =
  | { readonly kind: 'severity'; readonly severity: DeviationSeverity }
  | { readonly kind: 'record'; readonly record: DeviationRecord }
  | { readonly kind: 'marker'; readonly file: string; readonly marker: Marker; readonly record?: DeviationRecord }
  | { readonly kind: 'problem'; readonly diagnostic: Diagnostic };

/** Most severe first. */
const ORDER: readonly DeviationSeverity[] = [...SEVERITIES].reverse();

const ICON: Readonly<Record<DeviationSeverity, [string, string]>> = {
  fundamental: ['error', 'problemsErrorIcon.foreground'],
  major: ['warning', 'problemsWarningIcon.foreground'],
  minor: ['info', 'problemsInfoIcon.foreground'],
};

const TITLE: Readonly<Record<DeviationSeverity, string>> = { fundamental: 'Fundamental', major: 'Major', minor: 'Minor' };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Severity → records and unrecorded markers → a record's markers, from the index's snapshot. */
export class DeviationsTree implements vscode.TreeDataProvider<DeviationNode> {
  readonly onDidChangeTreeData: vscode.Event<void>;

  constructor(private readonly index: DeviationIndex) {
    this.onDidChangeTreeData = (listener, thisArg, disposables) => index.onDidChange(() => listener.call(thisArg, undefined), undefined, disposables);
  }

  private unrecorded(severity: DeviationSeverity): DeviationNode[] {
    const links = this.index.links;
    return this.index.all
      .filter((m) => m.marker.severity === severity && !links.recordOf.has(m.marker))
      .sort((a, b) => a.file.localeCompare(b.file) || a.marker.line - b.marker.line)
      .map((m) => ({ kind: 'marker', file: m.file, marker: m.marker }));
  }

  private recordsOf(severity: DeviationSeverity): DeviationNode[] {
    return this.index.records
      .filter((r) => r.severity === severity)
      .sort((a, b) => Number(a.status === 'resolved') - Number(b.status === 'resolved') || a.createdAt.localeCompare(b.createdAt))
      .map((record) => ({ kind: 'record', record }));
  }

  getChildren(node?: DeviationNode): DeviationNode[] {
    if (!node) {
      const problems: DeviationNode[] = this.index.problems.map((diagnostic) => ({ kind: 'problem', diagnostic }));
      const groups = ORDER.filter((s) => this.recordsOf(s).length || this.unrecorded(s).length).map((severity): DeviationNode => ({ kind: 'severity', severity }));
      return [...problems, ...groups];
    }
    if (node.kind === 'severity') {
      // Open records first, then what still has to be recorded, then what is resolved.
      const records = this.recordsOf(node.severity);
      const open = records.filter((r) => r.kind === 'record' && r.record.status === 'open');
      return [...open, ...this.unrecorded(node.severity), ...records.filter((r) => !open.includes(r))];
    }
    if (node.kind === 'record') {
      return (this.index.links.markersOf.get(node.record.id) ?? []).map((m) => ({ kind: 'marker', file: m.file, marker: m.marker, record: node.record }));
    }
    return [];
  }

  private open(file: string, marker: Marker): vscode.Command {
    const range = toVscodeRange(markerDiagnostic(file, marker).range);
    return { command: 'vscode.open', title: 'Go to Marker', arguments: [this.index.uriOf(file), { selection: range } satisfies vscode.TextDocumentShowOptions] };
  }

  getTreeItem(node: DeviationNode): vscode.TreeItem {
    switch (node.kind) {
      case 'severity': {
        const records = this.recordsOf(node.severity).length;
        const markers = this.unrecorded(node.severity).length;
        const item = new vscode.TreeItem(TITLE[node.severity], vscode.TreeItemCollapsibleState.Expanded);
        item.id = `severity:${node.severity}`;
        item.description = [records ? plural(records, 'record') : '', markers ? `${plural(markers, 'marker')} not recorded` : ''].filter(Boolean).join(' · ');
        const [icon, color] = ICON[node.severity];
        item.iconPath = new vscode.ThemeIcon(icon, new vscode.ThemeColor(color));
        item.contextValue = 'deviation.severity';
        return item;
      }
      case 'record': {
        const r = node.record;
        const markers = this.index.links.markersOf.get(r.id) ?? [];
        const item = new vscode.TreeItem(r.discovered || r.id, markers.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
        item.id = `record:${r.id}`;
        item.description = [r.id, r.module, r.agent, r.status === 'resolved' ? 'resolved' : '', markers.length ? '' : 'no marker in the code'].filter(Boolean).join(' · ');
        const md = new vscode.MarkdownString(`**${r.id}** — ${r.severity}, ${r.status}\n\n`);
        for (const f of ['agent', 'module', 'expected', 'discovered', 'action', 'reasoning', 'impact'] as const) {
          md.appendMarkdown(`- **${f}**: `).appendText(r[f] || '—').appendMarkdown('\n');
        }
        item.tooltip = md;
        item.iconPath = r.status === 'resolved' ? new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')) : new vscode.ThemeIcon('note');
        item.contextValue = `deviation.record.${r.status}`;
        const first = markers[0];
        item.command = first ? this.open(first.file, first.marker) : { command: COMMANDS.openDeviationRecord, title: 'Open Record', arguments: [r.id] };
        return item;
      }
      case 'marker': {
        const m = node.marker;
        const item = new vscode.TreeItem(m.text || '(no description)', vscode.TreeItemCollapsibleState.None);
        item.id = `marker:${node.record?.id ?? ''}:${node.file}:${m.line}:${m.column}`;
        item.description = `${node.file}:${m.line}`;
        item.tooltip = `${m.marker}: ${m.text}\n${node.file}:${m.line}:${m.column}${node.record ? '' : '\nNot recorded yet.'}`;
        item.iconPath = new vscode.ThemeIcon(node.record ? 'comment' : 'comment-unresolved');
        item.contextValue = node.record ? 'deviation.marker.recorded' : 'deviation.marker.unrecorded';
        item.command = this.open(node.file, m);
        return item;
      }
      case 'problem': {
        const d = node.diagnostic;
        const item = new vscode.TreeItem(`${DEVIATIONS_FILE} is not valid`, vscode.TreeItemCollapsibleState.None);
        item.description = d.message;
        item.tooltip = `${d.range.start.line}:${d.range.start.column}: ${d.message}\nNothing is written to the file until it is fixed.`;
        item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground'));
        item.command = { command: 'vscode.open', title: 'Open', arguments: [vscode.Uri.file(join(this.index.root ?? '', DEVIATIONS_FILE)), { selection: toVscodeRange(d.range) }] };
        return item;
      }
    }
  }
}
