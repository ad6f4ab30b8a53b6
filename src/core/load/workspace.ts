import { dirname, join, resolve, sep } from 'node:path';
import { compareDiagnostics, START_OF_FILE, type Diagnostic } from '../model/diagnostic';
import type { Melody } from '../model/melody';
import { ensembleFileKind, loadEnsembles, loadEnsembleText, loadInstrumentText, type EnsembleIndex } from './ensembles';
import { err, ok, type Result } from '../model/result';
import { findFiles, readTextFile, type FileSystem } from './fs';
import { diagnosticsOf, loadParsedMelody, needsMelodyNames, parseMelodyYaml, withModelSetupWarnings, type LoadedMelody, type MelodyContext } from './melody';
import { modelSetupProblems, type SetupProbe } from '../providers/readiness';
import type { YamlData } from './yamlData';

export const MELODY_SUFFIX = '.melody.yaml';
export const ENSEMBLES_DIR = 'ensembles';

/** Files and folders whose presence marks the root of a Symphony workspace. */
const ROOT_MARKERS = ['sheetMusic.md', '.symphony', ENSEMBLES_DIR];

export const isMelodyFile = (name: string): boolean => name.endsWith(MELODY_SUFFIX);

/** Whether `dir` holds one of the files or folders that mark a Symphony workspace's root. */
export async function isWorkspaceRoot(fs: FileSystem, dir: string): Promise<boolean> {
  for (const marker of ROOT_MARKERS) if (await fs.kind(join(dir, marker))) return true;
  return false;
}

/**
 * The Symphony workspace that contains `start`: the nearest folder at or above it holding
 * `sheetMusic.md`, `.symphony/` or `ensembles/`; `start` itself when there is none.
 */
export async function findWorkspaceRoot(fs: FileSystem, start: string): Promise<string> {
  let dir = resolve(start);
  for (;;) {
    for (const marker of ROOT_MARKERS) {
      if (await fs.kind(join(dir, marker))) return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) return resolve(start);
    dir = parent;
  }
}

/** A trigger in words, for lists: `{ on: 'schedule', detail: '0 9 * * 1-5' }`. */
export interface TriggerSummary {
  readonly on: string;
  readonly detail: string;
}

/** What lists show of a melody file, and what it was found to have wrong on disk. */
export interface MelodySummary {
  readonly file: string;
  /** `name:` when the file has one. */
  readonly name?: string;
  readonly description?: string;
  readonly triggers: readonly TriggerSummary[];
  readonly nodeCount: number;
  readonly diagnostics: readonly Diagnostic[];
  /** The loaded melody, when it has no errors (what triggers and runs use). */
  readonly melody?: Melody;
}

/** A workspace as loaded from disk: its ensembles and its melodies, all checked. */
export interface WorkspaceModel {
  readonly root: string;
  readonly ensembles: EnsembleIndex;
  readonly melodies: readonly MelodySummary[];
  /** What a melody of this workspace is checked against (for live text in an editor). */
  readonly context: MelodyContext;
}

export function summarizeTrigger(t: Record<string, unknown>): TriggerSummary {
  const on = typeof t.on === 'string' ? t.on : '?';
  const list = (v: unknown) => (Array.isArray(v) ? v.map(String).join(', ') : '');
  switch (on) {
    case 'save':
      return { on, detail: list(t.paths) || 'any file' };
    case 'commit':
      return { on, detail: list(t.branches) || 'any branch' };
    case 'schedule':
      return { on, detail: String(t.cron ?? '') };
    case 'webhook':
      return { on, detail: String(t.path ?? '') };
    case 'melody':
      return { on, detail: `after ${String(t.melody ?? '?')} (${String(t.when ?? 'success')})` };
    default:
      return { on, detail: '' };
  }
}

/** What a run needs of its workspace: the instruments. No melody but the one run is read. */
export type WorkspaceInstruments = Pick<WorkspaceModel, 'root' | 'ensembles' | 'context'>;

/** How a surface tells whether a model is set up (`providers/readiness.ts`); the root is the workspace's. */
export type ModelSetup = Omit<SetupProbe, 'workspaceRoot'>;

/**
 * The context a melody of this workspace is checked in; `melodyNames` only where it was
 * needed, `modelProblems` only where a surface asked whether models are set up.
 */
function melodyContext(
  ensembles: EnsembleIndex,
  ensemblesFolder: string,
  melodyNames?: ReadonlySet<string>,
  modelProblems?: ReadonlyMap<string, string>,
): MelodyContext {
  return {
    instruments: ensembles.refs,
    ensemblesDir: ensemblesFolder + sep,
    ...(melodyNames ? { melodyNames } : {}),
    ...(modelProblems ? { modelProblems } : {}),
    platform: process.platform,
  };
}

/**
 * A workspace read only as far as a command needs it — the instruments at once, each
 * melody file when it is asked for, and the names of all melodies only for a melody whose
 * `on: melody` triggers are checked against them. Every file is read and parsed at most
 * once. What it reports for a melody is what `loadWorkspaceModel` reports for it.
 */
export class WorkspaceReader {
  private ensemblesLoad?: Promise<EnsembleIndex>;
  private namesLoad?: Promise<ReadonlySet<string>>;
  private problemsLoad?: Promise<ReadonlyMap<string, string> | undefined>;
  private readonly parsed = new Map<string, Promise<Result<YamlData, Diagnostic[]>>>();

  /** Given `setup`, melodies are warned where a node's models are none of them set up here. */
  constructor(
    private readonly fs: FileSystem,
    readonly root: string,
    readonly ensemblesFolder = ENSEMBLES_DIR,
    private readonly setup?: ModelSetup,
  ) {}

  ensembles(): Promise<EnsembleIndex> {
    return (this.ensemblesLoad ??= loadEnsembles(this.fs, join(this.root, this.ensemblesFolder)));
  }

  /** Which instruments have no model set up, when the reader was asked to tell. */
  modelProblems(): Promise<ReadonlyMap<string, string> | undefined> {
    const setup = this.setup;
    if (!setup) return Promise.resolve(undefined);
    return (this.problemsLoad ??= this.ensembles().then((e) =>
      modelSetupProblems(e.ensembles.flatMap((x) => x.instruments), { ...setup, workspaceRoot: this.root }),
    ));
  }

  /** The workspace's melody files (under `within` only, when given), in a stable order. */
  melodyFiles(within?: string): Promise<string[]> {
    return findFiles(this.fs, this.root, isMelodyFile, within);
  }

  /** A melody file's YAML, parsed once. */
  parse(file: string): Promise<Result<YamlData, Diagnostic[]>> {
    let p = this.parsed.get(file);
    if (!p) {
      p = readTextFile(this.fs, file).then((t) => (t.ok ? parseMelodyYaml(t.value, file) : err([t.error])));
      this.parsed.set(file, p);
    }
    return p;
  }

  /** The `name:` of every melody of the workspace that parses. */
  melodyNames(): Promise<ReadonlySet<string>> {
    this.namesLoad ??= this.melodyFiles().then(async (files) => {
      const names = new Set<string>();
      for (const p of await Promise.all(files.map((f) => this.parse(f)))) if (p.ok && typeof p.value.data.name === 'string') names.add(p.value.data.name);
      return names;
    });
    return this.namesLoad;
  }

  async instruments(): Promise<WorkspaceInstruments> {
    const ensembles = await this.ensembles();
    return { root: this.root, ensembles, context: melodyContext(ensembles, this.ensemblesFolder) };
  }

  /** One melody file checked against the workspace: the names of the others are read only if it has `on: melody` triggers. */
  async melody(file: string): Promise<MelodySummary> {
    const [ensembles, p, problems] = await Promise.all([this.ensembles(), this.parse(file), this.modelProblems()]);
    const names = p.ok && needsMelodyNames(p.value.data) ? await this.melodyNames() : undefined;
    return summarizeMelody(file, p, melodyContext(ensembles, this.ensemblesFolder, names, problems));
  }
}

function summarizeMelody(file: string, p: Result<YamlData, Diagnostic[]>, context: MelodyContext): MelodySummary {
  return summarize(file, p, check(p, context));
}

/** A parsed melody file checked in a context (a file that did not parse keeps its errors). */
function check(p: Result<YamlData, Diagnostic[]>, context: MelodyContext): Result<LoadedMelody, Diagnostic[]> {
  return p.ok ? loadParsedMelody(p.value, context) : p;
}

/** A melody file's summary from its parse and, when it parsed, its check. */
function summarize(file: string, p: Result<YamlData, Diagnostic[]>, loaded: Result<LoadedMelody, Diagnostic[]>): MelodySummary {
  if (!p.ok) return { file, triggers: [], nodeCount: 0, diagnostics: p.error };
  const data = p.value.data;
  const triggers = Array.isArray(data.triggers)
    ? data.triggers.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null).map(summarizeTrigger)
    : [];
  return {
    file,
    name: typeof data.name === 'string' ? data.name : undefined,
    description: typeof data.description === 'string' ? data.description : undefined,
    triggers,
    nodeCount: typeof data.nodes === 'object' && data.nodes !== null ? Object.keys(data.nodes).length : 0,
    diagnostics: diagnosticsOf(loaded),
    melody: loaded.ok ? loaded.value.melody : undefined,
  };
}

/** The instruments of a workspace, read without any of its melodies: what a run needs. */
export function loadWorkspaceInstruments(fs: FileSystem, root: string, ensemblesFolder = ENSEMBLES_DIR): Promise<WorkspaceInstruments> {
  return new WorkspaceReader(fs, root, ensemblesFolder).instruments();
}

/**
 * Loads a workspace: its ensembles, then every melody under it, each checked against the
 * workspace's instruments and melody names — what the views, `serve` and the Conductor
 * show and use — and, given `setup`, warned where a node's models are none of them set up
 * here. Each file is parsed once: the names of all of them are needed to check any one.
 */
export async function loadWorkspaceModel(fs: FileSystem, root: string, ensemblesFolder = ENSEMBLES_DIR, setup?: ModelSetup): Promise<WorkspaceModel> {
  const staged = await loadWorkspaceModelInStages(fs, root, ensemblesFolder, setup);
  return staged.withModelSetup ?? staged.model;
}

/** A workspace loaded before and after the model-setup probes have answered. */
export interface StagedWorkspaceModel {
  /** Every file read and checked, without the model-setup warnings: no probe waited for. */
  readonly model: WorkspaceModel;
  /** Given `setup`: the same workspace with them, once every probe has answered — what `loadWorkspaceModel` returns. */
  readonly withModelSetup?: Promise<WorkspaceModel>;
}

/**
 * `loadWorkspaceModel` in two steps, for a surface that shows the workspace before the
 * model-setup probes answer (an editor's secret storage and language models can take a
 * second to answer while its window starts): the probes start at once, the files are read
 * and checked meanwhile, and their answers only add warnings — each melody is checked once.
 */
export async function loadWorkspaceModelInStages(fs: FileSystem, root: string, ensemblesFolder = ENSEMBLES_DIR, setup?: ModelSetup): Promise<StagedWorkspaceModel> {
  const reader = new WorkspaceReader(fs, root, ensemblesFolder, setup);
  const problemsLoad = reader.modelProblems();
  // Its failure is the ensembles' failure, which the line below reports.
  problemsLoad.catch(() => undefined);
  const [ensembles, names, files] = await Promise.all([reader.ensembles(), reader.melodyNames(), reader.melodyFiles()]);
  const context = melodyContext(ensembles, ensemblesFolder, names);
  const checked = await Promise.all(
    files.map(async (file) => {
      const p = await reader.parse(file);
      return { file, p, loaded: check(p, context) };
    }),
  );
  const model: WorkspaceModel = { root, ensembles, melodies: checked.map((c) => summarize(c.file, c.p, c.loaded)), context };
  if (!setup) return { model };
  const withModelSetup = problemsLoad.then((problems) => ({
    root,
    ensembles,
    melodies: checked.map((c) => summarize(c.file, c.p, c.loaded.ok && problems ? ok(withModelSetupWarnings(c.loaded.value, problems)) : c.loaded)),
    context: melodyContext(ensembles, ensemblesFolder, names, problems),
  }));
  return { model, withModelSetup };
}

/** The outcome of validating files and folders. */
export interface ValidationReport {
  /** Every file that was checked, in order. */
  readonly files: readonly string[];
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Validates melody files, instrument files and whole folders (every melody under them and
 * the ensembles of their workspace), as `symphony validate` does. Only what is named is
 * checked: a file's workspace contributes its instruments (and, for `on: melody` triggers,
 * its melody names), never a check of its other melodies.
 */
export async function validatePaths(fs: FileSystem, paths: readonly string[], setup?: ModelSetup): Promise<ValidationReport> {
  const readers = new Map<string, WorkspaceReader>();
  const readerFor = async (start: string) => {
    const root = await findWorkspaceRoot(fs, start);
    let reader = readers.get(root);
    if (!reader) readers.set(root, (reader = new WorkspaceReader(fs, root, ENSEMBLES_DIR, setup)));
    return reader;
  };

  const files = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  for (const given of paths) {
    const path = resolve(given);
    const kind = await fs.kind(path);
    if (kind === undefined) {
      diagnostics.push({ file: path, range: START_OF_FILE, severity: 'error', code: 'io', message: 'no such file or folder' });
      continue;
    }
    if (kind === 'directory') {
      const reader = await readerFor(path);
      const inside = (f: string) => f === path || f.startsWith(path + sep);
      const [ensembles, melodyFiles] = await Promise.all([reader.ensembles(), reader.melodyFiles(path)]);
      for (const m of await Promise.all(melodyFiles.filter((f) => !files.has(f)).map((f) => reader.melody(f)))) {
        diagnostics.push(...m.diagnostics);
        files.add(m.file);
      }
      for (const e of ensembles.ensembles) {
        for (const f of [e.metaFile, ...e.instruments.map((i) => i.file), ...e.broken.map((b) => b.file)]) {
          if (f && inside(f)) files.add(f);
        }
      }
      diagnostics.push(...ensembles.diagnostics.filter((d) => inside(d.file)));
      continue;
    }
    if (files.has(path)) continue;
    files.add(path);
    const reader = await readerFor(dirname(path));
    const ensembles = await reader.ensembles();
    const ensembleKind = ensembleFileKind(path, ensembles.dir);
    if (ensembleKind) {
      const text = await readTextFile(fs, path);
      const r = !text.ok ? err([text.error]) : ensembleKind === 'ensemble' ? loadEnsembleText(text.value, path) : loadInstrumentText(text.value, path);
      diagnostics.push(...(r.ok ? r.value.warnings : r.error));
      diagnostics.push(...ensembles.diagnostics.filter((d) => d.file === path && d.code === 'duplicate-nickname'));
    } else {
      diagnostics.push(...(await reader.melody(path)).diagnostics);
    }
  }
  return { files: [...files], diagnostics: diagnostics.sort(compareDiagnostics) };
}
