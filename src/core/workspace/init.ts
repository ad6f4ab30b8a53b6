import { promises as fsp } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

/** A starter file `init` did not write, and why. */
export interface SkippedFile {
  /** Workspace-relative path, with `/` separators. */
  readonly path: string;
  readonly reason: 'exists' | 'has-own';
}

/** What `symphony init` did: files it wrote and files it left alone. */
export interface InitResult {
  readonly root: string;
  /** Workspace-relative paths, with `/` separators. */
  readonly created: readonly string[];
  readonly skipped: readonly SkippedFile[];
}

/**
 * Starter content that only makes sense in a workspace without its own: the sample
 * ensemble next to the user's ensembles would only add noise (and clash on nicknames).
 */
const STARTERS: readonly { readonly prefix: string; readonly hasOwn: (root: string) => Promise<boolean> }[] = [
  { prefix: 'ensembles/', hasOwn: async (root) => (await entries(join(root, 'ensembles'))).some((e) => e.isDirectory()) },
  { prefix: 'melodies/', hasOwn: async (root) => (await entries(join(root, 'melodies'))).some((e) => e.name.endsWith('.melody.yaml')) },
];

async function entries(dir: string) {
  return fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
}

/** The starter files, shipped with the extension and the CLI under `templates/init/`. */
export function initTemplatesDir(templatesRoot: string): string {
  return join(templatesRoot, 'init');
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

/**
 * Creates the skeleton of a Symphony workspace in `root`: sheet music, handoff log,
 * production goals, a starter ensemble and melody, and `.symphony/`. An existing file is
 * never overwritten — each file is created with an exclusive open, so even a file that
 * appears while we work is left alone — and the starter ensemble and melody are left out
 * of a workspace that already has its own.
 */
export async function initWorkspace(root: string, templatesRoot: string): Promise<InitResult> {
  const from = initTemplatesDir(templatesRoot);
  const created: string[] = [];
  const skipped: SkippedFile[] = [];
  const ownPrefixes = new Set<string>();
  for (const s of STARTERS) if (await s.hasOwn(root)) ownPrefixes.add(s.prefix);
  for (const template of await listFiles(from)) {
    const rel = relative(from, template);
    const target = join(root, rel);
    const shown = rel.split(sep).join('/');
    if ([...ownPrefixes].some((p) => shown.startsWith(p))) {
      skipped.push({ path: shown, reason: 'has-own' });
      continue;
    }
    await fsp.mkdir(dirname(target), { recursive: true });
    try {
      await fsp.writeFile(target, await fsp.readFile(template), { flag: 'wx' });
      created.push(shown);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      skipped.push({ path: shown, reason: 'exists' });
    }
  }
  return { root, created, skipped };
}
