import * as vscode from 'vscode';
import { existsSync, promises as fsp } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { IGNORE_FILES, IgnoreTree } from '../../core/deviations/ignore';
import { scanText, type Marker } from '../../core/deviations/markers';
import { DEVIATIONS_FILE, linkMarkers, loadDeviations, type MarkerAt, type MarkerLinks } from '../../core/deviations/records';
import { scanFile, scanMarkers, type FoundMarker } from '../../core/deviations/scan';
import type { DeviationRecord } from '../../core/model/deviation';
import type { Diagnostic } from '../../core/model/diagnostic';

/**
 * The ripgrep VS Code ships, under `vscode.env.appRoot`: desktop builds have kept it in
 * `node_modules.asar.unpacked`, code-server and newer builds in `node_modules`.
 */
export function vscodeRipgrep(appRoot: string): string | undefined {
  const exe = process.platform === 'win32' ? 'rg.exe' : 'rg';
  const candidates = ['node_modules', 'node_modules.asar.unpacked'].map((dir) => join(appRoot, dir, '@vscode', 'ripgrep', 'bin', exe));
  return candidates.find((p) => existsSync(p));
}

/** Which files an update concerns (workspace-relative); undefined means all of them. */
export interface DeviationChange {
  readonly files?: readonly string[];
}

/** What the index needs from the extension. */
export interface DeviationIndexOptions {
  readonly log: vscode.LogOutputChannel;
  /** ripgrep to scan with; undefined scans with the pure-Node walk. */
  readonly rg: string | undefined;
  /** Milliseconds to wait after a keystroke before re-reading a document. */
  readonly typingDelay: () => number;
}

/** Scan results grouped by file, with `prefix` put before each path. */
function byFile(found: readonly FoundMarker[], prefix = ''): Map<string, Marker[]> {
  const out = new Map<string, Marker[]>();
  for (const m of found) out.set(prefix + m.file, [...(out.get(prefix + m.file) ?? []), m]);
  return out;
}

/** After this many file events at once (a branch switch), one full scan is cheaper. */
const BURST = 200;

/**
 * The deviation markers of the workspace and its records, kept current without rescanning
 * it: one scan (ripgrep) at the start, then open documents are re-read as the user types,
 * and files changed on disk are re-read one by one. Views, diagnostics and quick fixes
 * render its snapshot; nothing else reads markers or `.symphony/DEVIATIONS.json`.
 */
export class DeviationIndex implements vscode.Disposable {
  private rootDir: string | undefined;
  /** Workspace-relative path → its markers (only files that have some). */
  private readonly markers = new Map<string, readonly Marker[]>();
  private recordList: readonly DeviationRecord[] = [];
  private recordProblems: readonly Diagnostic[] = [];
  private linkCache: MarkerLinks | undefined;
  private ignore: IgnoreTree | undefined;
  private scanning: Promise<void> | undefined;
  private scanAbort: AbortController | undefined;
  private changedDuringScan = new Set<string>();
  private readonly typing = new Map<string, NodeJS.Timeout>();
  private readonly diskEvents = new Set<string>();
  private diskTimer: NodeJS.Timeout | undefined;
  private readonly changed = new vscode.EventEmitter<DeviationChange>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  /** How the last full scan ran, for the log. */
  engine: 'ripgrep' | 'node' | undefined;
  /** Full scans so far: edits and file changes must not add to it (tests check). */
  fullScans = 0;

  /** Fires after markers or records change. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly options: DeviationIndexOptions) {}

  /** Starts watching the workspace folder `root` (none: the index stays empty). */
  async start(root: string | undefined): Promise<void> {
    this.rootDir = root;
    if (!root) return;
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(root), '**/*'));
    for (const event of [watcher.onDidCreate, watcher.onDidChange, watcher.onDidDelete]) event((uri) => this.onDiskEvent(uri), undefined, this.disposables);
    const ws = vscode.workspace;
    ws.onDidOpenTextDocument((d) => void this.readDocument(d), undefined, this.disposables);
    ws.onDidChangeTextDocument((e) => this.scheduleDocument(e.document), undefined, this.disposables);
    ws.onDidCloseTextDocument((d) => this.onClosed(d), undefined, this.disposables);
    this.disposables.push(watcher);
    await Promise.all([this.rescan(), this.reloadRecords()]);
  }

  get root(): string | undefined {
    return this.rootDir;
  }

  /** Every marker, with its file. */
  get all(): MarkerAt[] {
    return [...this.markers].flatMap(([file, list]) => list.map((marker) => ({ file, marker })));
  }

  markersIn(file: string): readonly Marker[] {
    return this.markers.get(file) ?? [];
  }

  /** Files that have markers. */
  get files(): string[] {
    return [...this.markers.keys()];
  }

  get records(): readonly DeviationRecord[] {
    return this.recordList;
  }

  /** Problems of DEVIATIONS.json (it does not parse or validate); records are empty then. */
  get problems(): readonly Diagnostic[] {
    return this.recordProblems;
  }

  get links(): MarkerLinks {
    return (this.linkCache ??= linkMarkers(this.recordList, this.all));
  }

  /** A document's path relative to the root, if it is a file inside it. */
  relativePath(uri: vscode.Uri): string | undefined {
    if (!this.rootDir || uri.scheme !== 'file') return undefined;
    const rel = relative(this.rootDir, uri.fsPath);
    return rel && !rel.startsWith('..') && !rel.startsWith(sep) ? rel.split(sep).join('/') : undefined;
  }

  uriOf(file: string): vscode.Uri {
    return vscode.Uri.file(join(this.rootDir ?? '', file));
  }

  /** The marker on a line (1-based) of a file, if there is one. */
  markerOn(file: string, line: number): Marker | undefined {
    return this.markersIn(file).find((m) => m.line === line);
  }

  private fire(files?: readonly string[]): void {
    this.linkCache = undefined;
    this.changed.fire(files ? { files } : {});
  }

  private set(file: string, found: readonly Marker[]): boolean {
    const before = this.markers.get(file);
    if (found.length === 0 && !before) return false;
    if (found.length) this.markers.set(file, found);
    else this.markers.delete(file);
    return true;
  }

  /**
   * Scans the whole workspace again (ripgrep, streamed), then lays the open documents'
   * live text over what is on disk. A scan already running is cancelled.
   */
  rescan(): Promise<void> {
    const root = this.rootDir;
    if (!root) return Promise.resolve();
    this.scanAbort?.abort();
    const abort = (this.scanAbort = new AbortController());
    const run = (async () => {
      const started = performance.now();
      this.ignore = await IgnoreTree.create(root);
      this.changedDuringScan = new Set();
      let result;
      try {
        result = await scanMarkers(root, { rg: this.options.rg, signal: abort.signal });
      } catch (e) {
        if (abort.signal.aborted) return;
        throw e;
      }
      if (abort.signal.aborted) return;
      this.engine = result.engine;
      this.fullScans++;
      for (const w of result.warnings) this.options.log.warn(`deviation scan: ${w}`);
      this.markers.clear();
      for (const [f, list] of byFile(result.markers)) this.markers.set(f, list);
      for (const doc of vscode.workspace.textDocuments) await this.readDocument(doc, false);
      const late = [...this.changedDuringScan];
      this.changedDuringScan.clear();
      for (const file of late) await this.readFromDisk(file, false);
      this.options.log.info(`deviation scan: ${result.markers.length} markers in ${this.markers.size} files (${result.engine}, ${(performance.now() - started).toFixed(0)} ms)`);
      this.fire();
    })();
    const tracked = run.finally(() => {
      if (this.scanning === tracked) this.scanning = undefined;
    });
    this.scanning = tracked;
    return tracked.catch((e: unknown) => this.options.log.error('deviation scan failed', e));
  }

  /** Waits for a scan under way, if any (tests and commands that need a settled index). */
  async settled(): Promise<void> {
    while (this.scanning) await this.scanning.catch(() => undefined);
  }

  /** Reads `.symphony/DEVIATIONS.json` again. */
  async reloadRecords(): Promise<void> {
    if (!this.rootDir) return;
    const r = await loadDeviations(this.rootDir);
    if (r.ok) [this.recordList, this.recordProblems] = [r.value, []];
    else [this.recordList, this.recordProblems] = [[], r.error.reason === 'corrupt' ? r.error.diagnostics : []];
    this.fire([DEVIATIONS_FILE]);
  }

  private isOpen(file: string): boolean {
    return vscode.workspace.textDocuments.some((d) => !d.isClosed && this.relativePath(d.uri) === file);
  }

  private async isIgnored(file: string, isDir = false): Promise<boolean> {
    this.ignore ??= await IgnoreTree.create(this.rootDir!);
    return this.ignore.isIgnored(file, isDir);
  }

  /** Re-reads an open document's live text (saved or not). */
  private async readDocument(doc: vscode.TextDocument, notify = true): Promise<void> {
    const file = this.relativePath(doc.uri);
    if (!file || doc.isClosed || (await this.isIgnored(file))) return;
    if (this.set(file, scanText(doc.getText())) && notify) this.fire([file]);
  }

  private scheduleDocument(doc: vscode.TextDocument): void {
    const file = this.relativePath(doc.uri);
    if (!file) return;
    clearTimeout(this.typing.get(file));
    this.typing.set(
      file,
      setTimeout(() => {
        this.typing.delete(file);
        void this.readDocument(doc);
      }, this.options.typingDelay()),
    );
  }

  private onClosed(doc: vscode.TextDocument): void {
    const file = this.relativePath(doc.uri);
    if (!file) return;
    clearTimeout(this.typing.get(file));
    this.typing.delete(file);
    // Back to what is on disk: an unsaved edit that was discarded no longer counts.
    void this.readFromDisk(file);
  }

  /** Re-reads one path from disk: a file, a folder that appeared, or something deleted. */
  private async readFromDisk(file: string, notify = true): Promise<void> {
    if (this.isOpen(file)) return;
    const abs = join(this.rootDir!, file);
    const stat = await fsp.stat(abs).catch(() => undefined);
    let touched: string[] = [];
    if (!stat) {
      touched = [...this.markers.keys()].filter((f) => f === file || f.startsWith(`${file}/`));
      for (const f of touched) this.markers.delete(f);
    } else if (stat.isDirectory()) {
      if (await this.isIgnored(file, true)) return;
      const found = await scanMarkers(abs, { rg: this.options.rg });
      const grouped = byFile(found.markers, `${file}/`);
      for (const [f, list] of grouped) this.markers.set(f, list);
      touched = [...grouped.keys()];
    } else if (!(await this.isIgnored(file))) {
      const found = await scanFile(abs).catch(() => []);
      if (this.set(file, found)) touched = [file];
    }
    if (notify && touched.length) this.fire(touched);
  }

  private onDiskEvent(uri: vscode.Uri): void {
    const file = this.relativePath(uri);
    if (!file) return;
    if (file === DEVIATIONS_FILE) {
      void this.reloadRecords();
      return;
    }
    if (IGNORE_FILES.some((name) => file === name || file.endsWith(`/${name}`))) {
      // Different rules make different files count: scan again.
      this.ignore = undefined;
      void this.rescan();
      return;
    }
    if (this.scanning) {
      this.changedDuringScan.add(file);
      return;
    }
    this.diskEvents.add(file);
    clearTimeout(this.diskTimer);
    this.diskTimer = setTimeout(() => void this.flushDiskEvents(), 100);
  }

  private async flushDiskEvents(): Promise<void> {
    const files = [...this.diskEvents];
    this.diskEvents.clear();
    if (files.length > BURST) {
      await this.rescan();
      return;
    }
    for (const f of files) await this.readFromDisk(f);
  }

  dispose(): void {
    this.scanAbort?.abort();
    clearTimeout(this.diskTimer);
    for (const t of this.typing.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
  }
}
