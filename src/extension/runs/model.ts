import * as vscode from 'vscode';
import { join, relative, sep } from 'node:path';
import type { RunEvent, RunRecord } from '../../core/model/run';
import { FileArtifactStore } from '../../core/store/artifacts';
import { FileRunStorage, runIds, runsDir } from '../../core/store/runs';
import type { ExtensionOptions } from '../config';
import type { WorkspaceIndex } from '../workspaceIndex';
import { Coalescer } from './coalescer';
import { RunHistory, type RunsSnapshot } from './history';
import { own } from '../../core/model/names';

/** How long file events under `.symphony/runs` are gathered into one refresh. */
const DISK_REFRESH_MS = 250;
/** The most often live events repaint the Runs view. */
const REPAINT_MS = 100;
/** How long log lines of a run are gathered before open log documents reload. */
const LOG_RELOAD_MS = 300;
/**
 * How often the owners of runs executing in other processes are checked: a process killed
 * outright writes nothing, so only asking shows its run as interrupted.
 */
const OWNER_CHECK_MS = 3000;

/** The runs of one workspace root: where they are stored and what has been read of them. */
interface RootStore {
  readonly root: string;
  readonly storage: FileRunStorage;
  readonly artifacts: FileArtifactStore;
  readonly history: RunHistory;
  /** The history limit it was read with. */
  limit: number;
  /** Its file watcher and the watcher's listeners. */
  readonly watching: vscode.Disposable;
}

const NOTHING: RunsSnapshot = { runs: [], get: () => undefined, nodes: () => [], children: () => [], phase: () => 'ended', elsewhere: [] };

/**
 * The runs of the Symphony root for the Runs view and the run documents: stored runs read
 * from `.symphony/runs/` (refreshed when files change there, so runs of the CLI and of
 * other windows appear too) and this window's runs, live from the engine's events.
 * Readers get `snapshot`, recomputed only when something changed.
 */
export class RunsModel implements vscode.Disposable {
  private store: RootStore | undefined;
  private current: RunsSnapshot = NOTHING;
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly logged = new vscode.EventEmitter<ReadonlySet<string>>();
  private readonly loggedRuns = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [this.changed, this.logged];
  private readonly repaint = new Coalescer(REPAINT_MS, () => this.publish());
  private readonly diskRefresh = new Coalescer(DISK_REFRESH_MS, () => void this.reload());
  private readonly logReload = new Coalescer(LOG_RELOAD_MS, () => this.publishLogs());
  private readonly ownerCheck = new Coalescer(OWNER_CHECK_MS, () => void this.reload());

  /** Fires when `snapshot` changed. */
  readonly onDidChange = this.changed.event;
  /** Fires with the runs whose logs grew (for open log documents to reload). */
  readonly onDidLog = this.logged.event;

  constructor(
    private readonly index: WorkspaceIndex,
    private readonly options: () => ExtensionOptions,
    private readonly log: vscode.LogOutputChannel,
  ) {
    index.onDidChange(() => this.follow(), undefined, this.disposables);
  }

  /** What the view renders now. */
  get snapshot(): RunsSnapshot {
    return this.current;
  }

  /** The root runs are stored under, once the workspace index found one. */
  get root(): string | undefined {
    return this.store?.root;
  }

  /** The stores of the current root; throws without a workspace folder. */
  stores(): { readonly storage: FileRunStorage; readonly artifacts: FileArtifactStore } {
    if (!this.store) throw new Error('open a folder first: runs are recorded in the workspace folder');
    return this.store;
  }

  /** Follows the index: a new root gets its own history and watcher; a new limit applies. */
  private follow(): void {
    const root = this.index.root?.uri.fsPath;
    const limit = this.options().historyLimit;
    if (this.store && root === this.store.root) {
      if (limit === this.store.limit) return;
      this.store.limit = limit;
      this.store.history.setLimit(limit);
      this.diskRefresh.schedule();
      return;
    }
    this.store?.watching.dispose();
    this.store = root ? this.open(root, limit) : undefined;
    this.current = NOTHING;
    this.changed.fire();
    if (this.store) void this.reload();
  }

  private open(root: string, limit: number): RootStore {
    const storage = new FileRunStorage(root);
    const history = new RunHistory({ ids: () => runIds(root), record: (id) => storage.record(id), runningElsewhere: (id) => storage.isLive(id) }, limit);
    // The folders themselves too, so deleting `.symphony` or `runs/` empties the view.
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(root), '{.symphony,.symphony/runs,.symphony/runs/**}'));
    const dir = runsDir(root);
    const onFile = (uri: vscode.Uri) => {
      const [runId] = relative(dir, uri.fsPath).split(sep);
      history.markDirty(runId && !runId.startsWith('..') ? runId : undefined);
      this.diskRefresh.schedule();
    };
    const listeners = [watcher.onDidCreate, watcher.onDidChange, watcher.onDidDelete].map((event) => event(onFile));
    const watching = vscode.Disposable.from(watcher, ...listeners);
    return { root, storage, artifacts: new FileArtifactStore(root), history, limit, watching };
  }

  /** Re-reads every run from disk (the Refresh button); resolves once the view has it. */
  async refresh(): Promise<void> {
    this.store?.history.markDirty();
    await this.reload();
  }

  private async reload(): Promise<void> {
    const store = this.store;
    if (!store) return;
    try {
      await store.history.refresh();
    } catch (e) {
      this.log.warn(`could not read the runs in ${join(store.root, '.symphony', 'runs')}`, e);
    }
    if (store === this.store) this.publish();
  }

  /** Folds an engine event of this window's runs into the view. */
  apply(event: RunEvent): void {
    if (event.type === 'node-log' || event.type === 'node-tool') {
      this.loggedRuns.add(event.runId);
      this.logReload.schedule();
    }
    if (this.store?.history.apply(event)) {
      // A run's start and end repaint at once: they add rows and end spinners.
      if (event.type === 'run-started' || event.type === 'run-finished') this.publish();
      else this.repaint.schedule();
    }
  }

  /** Pending nodes of a run this window starts, in the melody's order. */
  plan(runId: string, nodeIds: readonly string[]): void {
    this.store?.history.plan(runId, nodeIds);
  }

  /**
   * Re-reads one run now — before resuming it here, so the live record folds onto what
   * its journal says last.
   */
  async reread(runId: string): Promise<void> {
    this.store?.history.markDirty(runId);
    await this.reload();
  }

  /** A run's record: from the snapshot, or from disk for one outside the history. */
  async record(runId: string): Promise<RunRecord | undefined> {
    return this.current.get(runId) ?? this.store?.storage.record(runId);
  }

  /** A node's output, inline or from the artifact store; undefined when it has none. */
  async output(runId: string, nodeId: string): Promise<{ readonly value: unknown } | undefined> {
    const node = own((await this.record(runId))?.nodes, nodeId);
    if (!node) return undefined;
    if (node.output !== undefined) return { value: node.output };
    if (node.outputRef) return { value: await this.stores().artifacts.getJson(node.outputRef) };
    return undefined;
  }

  /** Tells open log documents of a run to reload now (its journal is complete). */
  logsComplete(runId: string): void {
    this.loggedRuns.add(runId);
    this.publishLogs();
  }

  private publish(): void {
    this.current = this.store?.history.snapshot() ?? NOTHING;
    if (this.current.elsewhere.length) this.ownerCheck.schedule();
    this.changed.fire();
  }

  private publishLogs(): void {
    if (!this.loggedRuns.size) return;
    const runs = new Set(this.loggedRuns);
    this.loggedRuns.clear();
    this.logged.fire(runs);
  }

  dispose(): void {
    this.repaint.dispose();
    this.diskRefresh.dispose();
    this.logReload.dispose();
    this.ownerCheck.dispose();
    this.store?.watching.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
