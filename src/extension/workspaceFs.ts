import { readdirSync, readFileSync, statSync } from 'node:fs';
import { decodeText, type FileSystem } from '../core/load/fs';

/** The index's file system, and the text of files it shows rather than checks. */
export interface TurnTakingFileSystem extends FileSystem {
  /** A file's text as `fs.readFile(path, 'utf8')` gives it: invalid bytes replaced, not refused. */
  readText(path: string): Promise<string>;
}

/**
 * The workspace's files for the extension's own reads (the index's loads): read
 * synchronously, giving the extension host back its turn once `budgetMs` of it have been
 * used since the last time. The files are small and few; read through the thread pool,
 * every one of them would wait its turn behind whatever else the host is doing (other
 * extensions activating, a test suite loading), and a load of a few dozen reads took a
 * second and more to fill the views on a busy host. In turns, a small workspace loads in
 * one, and a large one still leaves the host free every `budgetMs`.
 */
export function turnTakingFileSystem(budgetMs = 30, now: () => number = () => performance.now()): TurnTakingFileSystem {
  let turnStarted = now();
  /** Resolves at once while this turn lasts; otherwise after the host has had its turn. */
  const turn = async (): Promise<void> => {
    if (now() - turnStarted < budgetMs) return;
    await new Promise((resolve) => setImmediate(resolve));
    turnStarted = now();
  };
  return {
    async readFile(path) {
      await turn();
      return decodeText(readFileSync(path));
    },
    async readText(path) {
      await turn();
      return readFileSync(path, 'utf8');
    },
    async readDir(path) {
      await turn();
      try {
        return readdirSync(path, { withFileTypes: true }).map((e) => ({ name: e.name, isDirectory: e.isDirectory(), isFile: e.isFile() }));
      } catch {
        return [];
      }
    },
    async kind(path) {
      await turn();
      try {
        const s = statSync(path, { throwIfNoEntry: false });
        return s?.isDirectory() ? 'directory' : s?.isFile() ? 'file' : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
