import { dirname, join, resolve, sep } from 'node:path';
import { compareDiagnostics, START_OF_FILE, type Diagnostic } from '../model/diagnostic';
import type { Melody } from '../model/melody';
import { ensembleFileKind, loadEnsembles, loadEnsembleText, loadInstrumentText, type EnsembleIndex } from './ensembles';
import { err } from '../model/result';
import { findFiles, readTextFile, type FileSystem } from './fs';
import { diagnosticsOf, loadMelody, loadParsedMelody, parseMelodyYaml, type MelodyContext } from './melody';
import { modelSetupProblems, type SetupProbe } from '../providers/readiness';

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

/** How a surface tells whether a model is set up (`providers/readiness.ts`); the root is the workspace's. */
export type ModelSetup = Omit<SetupProbe, 'workspaceRoot'>;

/**
 * Loads a workspace: its ensembles, then every melody under it, each checked against the
 * workspace's instruments and melody names — and, given `setup`, warned where a node's
 * models are none of them set up here.
 */
export async function loadWorkspaceModel(fs: FileSystem, root: string, ensemblesFolder = ENSEMBLES_DIR, setup?: ModelSetup): Promise<WorkspaceModel> {
  const ensemblesDir = join(root, ensemblesFolder);
  const [ensembles, melodyFiles] = await Promise.all([loadEnsembles(fs, ensemblesDir), findFiles(fs, root, isMelodyFile)]);
  const modelProblems = setup ? await modelSetupProblems(ensembles.ensembles.flatMap((e) => e.instruments), { ...setup, workspaceRoot: root }) : undefined;
  const texts = await Promise.all(melodyFiles.map((file) => readTextFile(fs, file)));
  // Each file is parsed once: the names of all of them are needed to check any one.
  const parsed = texts.map((t, i) => (t.ok ? parseMelodyYaml(t.value, melodyFiles[i]!) : err([t.error])));
  const names = new Set<string>();
  for (const p of parsed) if (p.ok && typeof p.value.data.name === 'string') names.add(p.value.data.name);
  const context: MelodyContext = { instruments: ensembles.refs, ensemblesDir: ensemblesFolder + sep, melodyNames: names, platform: process.platform, modelProblems };

  const melodies = parsed.map((p, i): MelodySummary => {
    const file = melodyFiles[i]!;
    if (!p.ok) return { file, triggers: [], nodeCount: 0, diagnostics: p.error };
    const data = p.value.data;
    const loaded = loadParsedMelody(p.value, context);
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
  });
  return { root, ensembles, melodies, context };
}

/** The outcome of validating files and folders. */
export interface ValidationReport {
  /** Every file that was checked, in order. */
  readonly files: readonly string[];
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Validates melody files, instrument files and whole folders (every melody under them and
 * the ensembles of their workspace), as `symphony validate` does.
 */
export async function validatePaths(fs: FileSystem, paths: readonly string[], setup?: ModelSetup): Promise<ValidationReport> {
  const models = new Map<string, Promise<WorkspaceModel>>();
  const modelFor = async (start: string) => {
    const root = await findWorkspaceRoot(fs, start);
    let model = models.get(root);
    if (!model) models.set(root, (model = loadWorkspaceModel(fs, root, ENSEMBLES_DIR, setup)));
    return model;
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
      const model = await modelFor(path);
      const inside = (f: string) => f === path || f.startsWith(path + sep);
      for (const m of model.melodies.filter((m) => inside(m.file))) {
        if (!files.has(m.file)) diagnostics.push(...m.diagnostics);
        files.add(m.file);
      }
      for (const e of model.ensembles.ensembles) {
        for (const f of [e.metaFile, ...e.instruments.map((i) => i.file), ...e.broken.map((b) => b.file)]) {
          if (f && inside(f)) files.add(f);
        }
      }
      diagnostics.push(...model.ensembles.diagnostics.filter((d) => inside(d.file)));
      continue;
    }
    if (files.has(path)) continue;
    files.add(path);
    const model = await modelFor(dirname(path));
    const ensembleKind = ensembleFileKind(path, model.ensembles.dir);
    const known = model.melodies.find((m) => m.file === path);
    if (ensembleKind) {
      const text = await readTextFile(fs, path);
      const r = !text.ok ? err([text.error]) : ensembleKind === 'ensemble' ? loadEnsembleText(text.value, path) : loadInstrumentText(text.value, path);
      diagnostics.push(...(r.ok ? r.value.warnings : r.error));
      diagnostics.push(...model.ensembles.diagnostics.filter((d) => d.file === path && d.code === 'duplicate-nickname'));
    } else if (known) {
      // The workspace model checked it already, against the same instruments and names.
      diagnostics.push(...known.diagnostics);
    } else {
      diagnostics.push(...(await validateMelodyFile(fs, path, model.context)));
    }
  }
  return { files: [...files], diagnostics: diagnostics.sort(compareDiagnostics) };
}

async function validateMelodyFile(fs: FileSystem, file: string, context: MelodyContext): Promise<readonly Diagnostic[]> {
  const text = await readTextFile(fs, file);
  return text.ok ? diagnosticsOf(loadMelody(text.value, file, context)) : [text.error];
}
