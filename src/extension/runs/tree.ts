import * as vscode from 'vscode';
import type { NodeRecord, NodeState, RunRecord, RunStatus } from '../../core/model/run';
import { COMMANDS, VIEWS } from '../commandIds';
import type { SymphonyContext } from '../context';
import type { RunController } from './controller';
import { RUN_SCHEME, RunDocumentProvider } from './documents';
import type { RunPhase, RunsSnapshot } from './history';
import { nodeDescription, nodeTooltip, runDescription, runTooltip } from './present';
import { own } from '../../core/model/names';

/**
 * A row of the Runs view: a run (top-level, or a sub-melody run under the node that started
 * it) or one of its nodes. Rows carry the records they show, so rendering reads no file.
 */
export type RunsNode =
  | { readonly kind: 'run'; readonly run: RunRecord; readonly phase: RunPhase }
  | { readonly kind: 'node'; readonly run: RunRecord; readonly phase: RunPhase; readonly id: string; readonly node: NodeRecord; readonly children: readonly RunRecord[] };

type Icon = readonly [id: string, color?: string];

const NODE_ICON: Readonly<Record<NodeState, Icon>> = {
  pending: ['circle-large-outline', 'disabledForeground'],
  running: ['sync~spin', 'charts.blue'],
  success: ['pass', 'testing.iconPassed'],
  failure: ['error', 'testing.iconFailed'],
  skipped: ['debug-step-over', 'disabledForeground'],
  cancelled: ['circle-slash', 'problemsWarningIcon.foreground'],
};

/** How a run row looks: its phase while it runs (or ran, until interrupted), else how it ended. */
type RunLook = Exclude<RunPhase, 'ended'> | RunStatus;

const RUN_ICON: Readonly<Record<RunLook, Icon>> = {
  live: ['sync~spin', 'charts.blue'],
  elsewhere: ['sync~spin'],
  interrupted: ['debug-pause', 'problemsWarningIcon.foreground'],
  success: ['pass-filled', 'testing.iconPassed'],
  failure: ['error', 'testing.iconFailed'],
  cancelled: ['circle-slash', 'problemsWarningIcon.foreground'],
};

const themeIcon = ([id, color]: Icon) => new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);

/**
 * The context value of a row, matched by `package.json` menus: `run.<phase>` (with `.child`
 * for sub-melody runs); `node.<state>` with `.output` when it has one and `.replayable`
 * when its run can be replayed from it (it runs nowhere, and is not a sub-melody run).
 */
export function contextValueOf(node: RunsNode): string {
  if (node.kind === 'run') return `run.${node.phase}${node.run.parent ? '.child' : ''}`;
  const n = node.node;
  const output = n.output !== undefined || n.outputRef !== undefined ? '.output' : '';
  const replayable = (node.phase === 'ended' || node.phase === 'interrupted') && !node.run.parent ? '.replayable' : '';
  return `node.${n.state}${output}${replayable}`;
}

/** Runs → nodes → sub-melody runs, rendered from the run model's snapshot. */
export class RunsTree implements vscode.TreeDataProvider<RunsNode> {
  readonly onDidChangeTreeData: vscode.Event<void>;

  constructor(private readonly runs: RunController) {
    this.onDidChangeTreeData = (listener, thisArg, disposables) => runs.model.onDidChange(() => listener.call(thisArg, undefined), undefined, disposables);
  }

  private runNode(snapshot: RunsSnapshot, run: RunRecord): RunsNode {
    return { kind: 'run', run, phase: snapshot.phase(run.runId) };
  }

  getChildren(node?: RunsNode): RunsNode[] {
    const snapshot = this.runs.model.snapshot;
    if (!node) return snapshot.runs.map((run) => this.runNode(snapshot, run));
    if (node.kind === 'node') return node.children.map((run) => this.runNode(snapshot, run));
    const phase = snapshot.phase(node.run.runId);
    return snapshot.nodes(node.run.runId).map(({ id, node: n }) => ({ kind: 'node', run: node.run, phase, id, node: n, children: snapshot.children(node.run.runId, id) }));
  }

  /** The row above: a node's run, or the node that started a sub-melody run (for reveal). */
  getParent(node: RunsNode): RunsNode | undefined {
    const snapshot = this.runs.model.snapshot;
    if (node.kind === 'node') return this.runNode(snapshot, node.run);
    const parent = node.run.parent;
    const parentRun = parent && snapshot.get(parent.runId);
    if (!parent || !parentRun) return undefined;
    const n = own(parentRun.nodes, parent.nodeId);
    if (!n) return undefined;
    return { kind: 'node', run: parentRun, phase: snapshot.phase(parentRun.runId), id: parent.nodeId, node: n, children: snapshot.children(parent.runId, parent.nodeId) };
  }

  /** The row of a run, for reveal; undefined when it is not in the history. */
  find(runId: string): RunsNode | undefined {
    const snapshot = this.runs.model.snapshot;
    const run = snapshot.get(runId);
    return run ? this.runNode(snapshot, run) : undefined;
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    if (node.kind === 'run') {
      const { run, phase } = node;
      const newest = this.runs.model.snapshot.runs[0]?.runId === run.runId;
      const item = new vscode.TreeItem(run.melody, newest || phase === 'live' ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `run:${run.runId}`;
      item.description = runDescription(run, phase);
      const look: RunLook = phase !== 'ended' ? phase : run.state === 'running' ? 'interrupted' : run.state;
      item.iconPath = themeIcon(RUN_ICON[look]);
      item.contextValue = contextValueOf(node);
      item.accessibilityInformation = { label: `${run.melody}, ${item.description}` };
      return item;
    }
    const { id, node: n, run } = node;
    const item = new vscode.TreeItem(id, node.children.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    item.id = `node:${run.runId}/${id}`;
    item.description = nodeDescription(n);
    item.iconPath = themeIcon(NODE_ICON[n.state]);
    item.contextValue = contextValueOf(node);
    item.accessibilityInformation = { label: `${id}, ${item.description}` };
    if (n.state !== 'pending') {
      item.command = { command: COMMANDS.openNodeResult, title: 'Open Output or Log', arguments: [node, { preferLog: true }] };
    }
    return item;
  }

  /**
   * The Markdown tooltip of a row, made when it is hovered: the extension host lexes a
   * Markdown tooltip each time it sends the row, and the view resends its rows at every
   * repaint of a live run.
   */
  resolveTreeItem(item: vscode.TreeItem, node: RunsNode): vscode.TreeItem {
    item.tooltip = new vscode.MarkdownString(node.kind === 'run' ? runTooltip(node.run, node.phase) : nodeTooltip(node.id, node.node));
    return item;
  }
}

/**
 * Registers the Runs view and the `symphony-run:` documents it opens. The view's badge
 * counts the runs this window executes; in Restricted Mode its message says nothing runs.
 */
export function registerRunsView(ctx: SymphonyContext): RunsTree {
  const tree = new RunsTree(ctx.runs);
  const view = vscode.window.createTreeView(VIEWS.runs, { treeDataProvider: tree, showCollapseAll: true });
  const documents = new RunDocumentProvider(ctx.runs.model);
  const showTrust = () => {
    view.message = vscode.workspace.isTrusted ? undefined : 'Restricted Mode: runs are shown, but nothing runs until you trust this workspace.';
  };
  showTrust();
  ctx.extension.subscriptions.push(
    view,
    documents,
    vscode.workspace.registerTextDocumentContentProvider(RUN_SCHEME, documents),
    vscode.workspace.onDidGrantWorkspaceTrust(showTrust),
    ctx.runs.onDidChangeActive((n) => {
      view.badge = n ? { value: n, tooltip: `${n} ${n === 1 ? 'melody' : 'melodies'} running` } : undefined;
    }),
    ctx.runs.onDidRequestReveal((runId) => {
      const reveal = async () => {
        await vscode.commands.executeCommand(`${VIEWS.runs}.focus`);
        const row = tree.find(runId);
        if (row) await view.reveal(row, { select: true, focus: true, expand: true });
      };
      reveal().catch((e: unknown) => ctx.log.warn(`could not show run ${runId} in the Runs view`, e));
    }),
  );
  return tree;
}
