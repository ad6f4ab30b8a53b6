import { promises as fsp } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

/** What `symphony init` did: files it wrote and files it left alone because they existed. */
export interface InitResult {
  readonly root: string;
  /** Workspace-relative paths, with `/` separators. */
  readonly created: readonly string[];
  readonly skipped: readonly string[];
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
 * appears while we work is left alone.
 */
export async function initWorkspace(root: string, templatesRoot: string): Promise<InitResult> {
  const from = initTemplatesDir(templatesRoot);
  const created: string[] = [];
  const skipped: string[] = [];
  for (const template of await listFiles(from)) {
    const rel = relative(from, template);
    const target = join(root, rel);
    const shown = rel.split(sep).join('/');
    await fsp.mkdir(dirname(target), { recursive: true });
    try {
      await fsp.writeFile(target, await fsp.readFile(template), { flag: 'wx' });
      created.push(shown);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      skipped.push(shown);
    }
  }
  return { root, created, skipped };
}
