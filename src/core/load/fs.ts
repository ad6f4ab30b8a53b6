import { promises as fsp } from 'node:fs';
import { basename, join } from 'node:path';

/** An entry of a directory listing. */
export interface DirEntry {
  readonly name: string;
  readonly isDirectory: boolean;
  readonly isFile: boolean;
}

/**
 * The file-system reads the loaders need. The CLI and the extension pass the Node
 * implementation; tests may pass their own.
 */
export interface FileSystem {
  readFile(path: string): Promise<string>;
  /** Entries of a directory; an empty list when it does not exist. */
  readDir(path: string): Promise<DirEntry[]>;
  /** 'file', 'directory' or undefined when nothing is there. */
  kind(path: string): Promise<'file' | 'directory' | undefined>;
}

export const nodeFileSystem: FileSystem = {
  readFile: (path) => fsp.readFile(path, 'utf8'),
  async readDir(path) {
    try {
      const entries = await fsp.readdir(path, { withFileTypes: true });
      return entries.map((e) => ({ name: e.name, isDirectory: e.isDirectory(), isFile: e.isFile() }));
    } catch {
      return [];
    }
  },
  async kind(path) {
    try {
      const s = await fsp.stat(path);
      return s.isDirectory() ? 'directory' : s.isFile() ? 'file' : undefined;
    } catch {
      return undefined;
    }
  },
};

/** Folders never searched for workspace files: dependencies, VCS data, build output, chambers. */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set(['node_modules', '.git', 'dist', 'out', '.vscode-test', 'chambers']);

/** Every file under `dir` whose name satisfies `match`, depth-first, skipping SKIPPED_DIRS. */
export async function findFiles(fs: FileSystem, dir: string, match: (name: string) => boolean): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await fs.readDir(d);
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const p = join(d, e.name);
      // The Conductor's past plans (.symphony/plans) are records, not the workspace's melodies; the newest is .symphony/plan.melody.yaml.
      if (e.isDirectory && !SKIPPED_DIRS.has(e.name) && !(e.name === 'plans' && basename(d) === '.symphony')) await walk(p);
      else if (e.isFile && match(e.name)) found.push(p);
    }
  };
  await walk(dir);
  return found;
}
