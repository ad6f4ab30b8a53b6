import * as vscode from 'vscode';
import { join } from 'node:path';
import { nodeFileSystem, type FileSystem } from '../core/load/fs';
import { loadWorkspaceModelInStages, type ModelSetup, type WorkspaceModel } from '../core/load/workspace';
import type { ExtensionOptions } from './config';
import { loadTrail, type ConductorTrail } from '../core/conductor/trail';
import { turnTakingFileSystem } from './workspaceFs';

const ROOT_MARKERS = ['sheetMusic.md', '.symphony', 'ensembles'];

/**
 * The workspace folder Symphony works in: the first folder holding `sheetMusic.md`,
 * `.symphony/` or `ensembles/`, else the first folder. Multi-root workspaces use one
 * Symphony root.
 */
export async function pickRoot(fs: FileSystem = nodeFileSystem): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  for (const folder of folders) {
    for (const marker of ROOT_MARKERS) {
      const found = await fs.kind(join(folder.uri.fsPath, marker));
      if (found) return folder;
    }
  }
  return folders[0];
}

/**
 * A snapshot of the Symphony workspace on disk — ensembles, instruments, melodies and
 * their diagnostics — reloaded when those files change. Views and diagnostics render it;
 * nothing else reads the files.
 */
export class WorkspaceIndex implements vscode.Disposable {
  private current: WorkspaceModel | undefined;
  private currentTrail: ConductorTrail = { lastTurn: new Map(), summaries: new Map() };
  private folder: vscode.WorkspaceFolder | undefined;
  private readonly changed = new vscode.EventEmitter<WorkspaceModel | undefined>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private firstLoad: Promise<void> | undefined;
  private loadedOnce = false;
  /** While the first load's model-setup probes are out (see modelSetupKnown). */
  private setupPending: Promise<void> | undefined;
  /** How the index reads the workspace: in turns of the extension host (see turnTakingFileSystem). */
  private readonly fs = turnTakingFileSystem();

  /** Fires after every reload with the new snapshot. */
  readonly onDidChange = this.changed.event;

  constructor(
    private options: ExtensionOptions,
    private readonly log: vscode.LogOutputChannel,
    /** Tells which models are set up, for the warnings of nodes that none can serve. */
    private readonly modelSetup?: ModelSetup,
  ) {
    // One watcher for every YAML file, filtered here, so changing the ensembles folder in
    // the settings needs no new watcher.
    const yaml = vscode.workspace.createFileSystemWatcher('**/*.{yaml,yml}');
    const markers = vscode.workspace.createFileSystemWatcher('**/{sheetMusic.md,.symphony}');
    // The Conductor's trail: the handoff log and the ensembles' summaries, shown in the Ensembles view.
    const trail = vscode.workspace.createFileSystemWatcher('**/{handoff.md,summary.txt}');
    for (const event of [trail.onDidCreate, trail.onDidChange, trail.onDidDelete]) event(() => this.scheduleRefresh(), undefined, this.disposables);
    this.disposables.push(trail);
    const onYaml = (uri: vscode.Uri) => {
      if (this.isRelevant(uri)) this.scheduleRefresh();
    };
    for (const event of [yaml.onDidCreate, yaml.onDidChange, yaml.onDidDelete]) event(onYaml, undefined, this.disposables);
    for (const event of [markers.onDidCreate, markers.onDidDelete]) event(() => this.scheduleRefresh(), undefined, this.disposables);
    this.disposables.push(yaml, markers);
    vscode.workspace.onDidChangeWorkspaceFolders(() => this.scheduleRefresh(), undefined, this.disposables);
  }

  /** Melody files, and YAML files inside the ensembles folder. */
  isRelevant(uri: vscode.Uri): boolean {
    const path = uri.path;
    return path.endsWith('.melody.yaml') || path.includes(`/${this.options.ensemblesFolder}/`);
  }

  /** The latest snapshot; undefined before the first load or without a folder. */
  get model(): WorkspaceModel | undefined {
    return this.current;
  }

  /** Each instrument's last turn and each ensemble's summary.txt, from the latest reload. */
  get trail(): ConductorTrail {
    return this.currentTrail;
  }

  get root(): vscode.WorkspaceFolder | undefined {
    return this.folder;
  }

  /**
   * Until the first load has finished, a promise of it; undefined from then on. The views
   * wait on it — VS Code shows their progress bar meanwhile, not their welcome text.
   */
  get loading(): Promise<void> | undefined {
    if (this.loadedOnce) return undefined;
    return (this.firstLoad ??= new Promise<void>((resolve) => {
      const listener = this.changed.event(() => {
        listener.dispose();
        resolve();
      });
    }));
  }

  updateOptions(options: ExtensionOptions): void {
    this.options = options;
    this.scheduleRefresh();
  }

  /** Reloads soon, coalescing bursts of file events (a branch switch, a formatter). */
  scheduleRefresh(delay = 150): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, delay);
  }

  /** Reloads now. Concurrent calls share one reload and, if needed, one more after it. */
  refresh(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.load();
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * Settles once the snapshot says which models are set up: at once, but for the first
   * load, which fills the views before the model-setup probes answer. What decides by the
   * model-setup warnings (a trigger held back, a run asked about) waits for it.
   */
  async modelSetupKnown(): Promise<void> {
    await this.loading;
    await this.setupPending;
  }

  private async load(): Promise<void> {
    const started = Date.now();
    /** The first load's snapshot with the model-setup warnings, still to come. */
    let withModelSetup: Promise<WorkspaceModel> | undefined;
    try {
      this.folder = await pickRoot(this.fs);
      if (this.folder) {
        const staged = await loadWorkspaceModelInStages(this.fs, this.folder.uri.fsPath, this.options.ensemblesFolder, this.modelSetup);
        // VS Code's secret storage and language models can take a second to answer while
        // the window starts: the first load shows the views without waiting for them, and
        // the warnings follow. Later loads wait, so no warning blinks off and on at a save.
        if (this.loadedOnce || !staged.withModelSetup) this.current = await (staged.withModelSetup ?? staged.model);
        else [this.current, withModelSetup] = [staged.model, staged.withModelSetup];
      } else {
        this.current = undefined;
      }
      const m = this.current;
      // Read in the index's turns too: through the thread pool, these few reads once waited
      // seconds behind other extensions' file work while the window started.
      if (m) this.currentTrail = await loadTrail(m.root, m.ensembles.ensembles, (path) => this.fs.readText(path));
      this.log.debug(
        m
          ? `loaded ${m.ensembles.ensembles.length} ensembles and ${m.melodies.length} melodies from ${m.root} in ${Date.now() - started} ms`
          : 'no workspace folder open',
      );
    } catch (e) {
      this.log.error('could not load the workspace', e);
    }
    this.loadedOnce = true;
    if (!withModelSetup) {
      this.changed.fire(this.current);
      return;
    }
    const known = withModelSetup.then(
      (model) => void (this.current = model),
      (e: unknown) => this.log.error('could not tell which models are set up', e),
    );
    this.setupPending = known;
    this.changed.fire(this.current);
    await known;
    this.setupPending = undefined;
    this.changed.fire(this.current);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
