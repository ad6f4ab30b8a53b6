import { basename, join } from 'node:path';
import { compareDiagnostics, START_OF_FILE, type Diagnostic, type Range } from '../model/diagnostic';
import { ensembleSchema, instrumentSchema, type Ensemble, type EnsembleSpec, type Instrument } from '../model/instrument';
import { readTextFile, type FileSystem } from './fs';
import { loadYamlWith } from './yamlData';

/** The metadata file of an ensemble folder; every other YAML file there is an instrument. */
export const ENSEMBLE_FILE = 'ensemble.yaml';

const isYaml = (name: string) => name.endsWith('.yaml') || name.endsWith('.yml');
const stem = (name: string) => basename(name).replace(/\.ya?ml$/, '');

export function loadInstrumentText(text: string, file: string) {
  return loadYamlWith(instrumentSchema, text, file, 'an instrument needs `nickname:` and `kind:`', 'an instrument file');
}

export function loadEnsembleText(text: string, file: string) {
  return loadYamlWith(ensembleSchema, text, file, 'an ensemble file needs `name:`', 'an ensemble file');
}

/** Whether a path is an ensemble or instrument definition: `<folder>/<ensemble>/<file>.yaml`. */
export function ensembleFileKind(path: string, ensemblesDir: string): 'ensemble' | 'instrument' | undefined {
  const rel = path.startsWith(ensemblesDir + '/') ? path.slice(ensemblesDir.length + 1) : undefined;
  if (!rel || rel.split('/').length !== 2 || !isYaml(rel)) return undefined;
  return basename(rel) === ENSEMBLE_FILE ? 'ensemble' : 'instrument';
}

/** The ensembles of a workspace, every instrument loaded, every problem as a diagnostic. */
export interface EnsembleIndex {
  readonly dir: string;
  readonly ensembles: readonly Ensemble[];
  readonly diagnostics: readonly Diagnostic[];
  /** `ensemble/instrument` of every instrument that loaded. */
  readonly refs: ReadonlySet<string>;
}

/** Loads `<dir>/<ensemble>/*.yaml`. Missing folders give an empty index, never an error. */
export async function loadEnsembles(fs: FileSystem, dir: string): Promise<EnsembleIndex> {
  const ensembles: Ensemble[] = [];
  const diagnostics: Diagnostic[] = [];
  // Where each nickname is, found only for a duplicate: a position builds the file's YAML
  // Document, which the quick parse of a plain file does without.
  const nicknameAt = new Map<string, () => Range>();
  const folders = (await fs.readDir(dir)).filter((e) => e.isDirectory && !e.name.startsWith('.'));
  folders.sort((a, b) => a.name.localeCompare(b.name));

  await Promise.all(
    folders.map(async (folder, order) => {
      const ensembleDir = join(dir, folder.name);
      const files = (await fs.readDir(ensembleDir)).filter((e) => e.isFile && isYaml(e.name));
      files.sort((a, b) => a.name.localeCompare(b.name));
      let meta: EnsembleSpec | undefined;
      let metaFile: string | undefined;
      const instruments: Instrument[] = [];
      const broken: { id: string; file: string }[] = [];
      for (const f of files) {
        const file = join(ensembleDir, f.name);
        const read = await readTextFile(fs, file);
        if (!read.ok) {
          // A file that vanished since the listing is not a problem; one that cannot be decoded is.
          if (read.error.code === 'encoding') diagnostics.push(read.error);
          continue;
        }
        const text = read.value;
        if (f.name === ENSEMBLE_FILE) {
          const r = loadEnsembleText(text, file);
          if (r.ok) [meta, metaFile] = [r.value.value, file];
          else diagnostics.push(...r.error);
          continue;
        }
        const r = loadInstrumentText(text, file);
        const id = stem(f.name);
        if (r.ok) {
          instruments.push({ ...r.value.value, ref: `${folder.name}/${id}`, ensemble: folder.name, id, file });
          const source = r.value.source;
          nicknameAt.set(file, () => source.locate(['nickname']));
          diagnostics.push(...r.value.warnings);
        } else {
          broken.push({ id, file });
          diagnostics.push(...r.error);
        }
      }
      ensembles[order] = { id: folder.name, dir: ensembleDir, meta, metaFile, instruments, broken };
    }),
  );
  const loaded = ensembles.filter(Boolean);
  diagnostics.push(...duplicateNicknames(loaded, nicknameAt));
  return {
    dir,
    ensembles: loaded,
    diagnostics: diagnostics.sort(compareDiagnostics),
    refs: new Set(loaded.flatMap((e) => e.instruments.map((i) => i.ref))),
  };
}

/** Nicknames name instruments in handoff entries and commits, so two of the same confuse. */
function duplicateNicknames(ensembles: readonly Ensemble[], nicknameAt: ReadonlyMap<string, () => Range>): Diagnostic[] {
  const byNickname = new Map<string, Instrument[]>();
  for (const i of ensembles.flatMap((e) => e.instruments)) {
    const list = byNickname.get(i.nickname) ?? [];
    list.push(i);
    byNickname.set(i.nickname, list);
  }
  const out: Diagnostic[] = [];
  for (const [nickname, list] of byNickname) {
    if (list.length < 2) continue;
    for (const i of list) {
      const others = list.filter((o) => o !== i).map((o) => o.ref);
      out.push({
        file: i.file,
        range: nicknameAt.get(i.file)?.() ?? START_OF_FILE,
        severity: 'warning',
        code: 'duplicate-nickname',
        message: `nickname "${nickname}" is also used by ${others.join(', ')}; handoff entries and commits would not tell them apart`,
      });
    }
  }
  return out;
}
