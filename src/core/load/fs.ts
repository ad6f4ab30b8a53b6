import { promises as fsp } from 'node:fs';
import { basename, join, sep } from 'node:path';
import type { Diagnostic, Position } from '../model/diagnostic';
import { err, ok, type Result } from '../model/result';
import { firstInvalidUtf8 } from './limits';

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
  readFile: async (path) => decodeText(await fsp.readFile(path)),
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

/** Every file under `dir` (and inside `within`, when given) whose name satisfies `match`, depth-first, skipping SKIPPED_DIRS. */
export async function findFiles(fs: FileSystem, dir: string, match: (name: string) => boolean, within?: string): Promise<string[]> {
  const found: string[] = [];
  // With `within`, only the folders on the way to it and under it are read; what is skipped
  // on the way from `dir` stays skipped, so the files are those of the whole walk inside it.
  const inside = (p: string) => within === undefined || p === within || p.startsWith(within + sep);
  const onTheWay = (p: string) => within !== undefined && within.startsWith(p + sep);
  const walk = async (d: string): Promise<void> => {
    const entries = await fs.readDir(d);
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const p = join(d, e.name);
      // The Conductor's past plans (.symphony/plans) are records, not the workspace's melodies; the newest is .symphony/plan.melody.yaml.
      if (e.isDirectory && !SKIPPED_DIRS.has(e.name) && !(e.name === 'plans' && basename(d) === '.symphony')) {
        if (inside(p) || onTheWay(p)) await walk(p);
      } else if (e.isFile && match(e.name) && inside(p)) found.push(p);
    }
  };
  await walk(dir);
  return found;
}

/** Thrown by `decodeText` (and so by `nodeFileSystem.readFile`) for bytes that are not UTF-8. */
export class TextEncodingError extends Error {
  constructor(
    /** Where the first invalid byte is, counted in the characters before it. */
    readonly position: Position,
    readonly byte: number,
  ) {
    super(`the file is not valid UTF-8 (byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')}); save it as UTF-8`);
    this.name = 'TextEncodingError';
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * UTF-8 bytes as text. Invalid bytes are an error at their line and column, never the
 * replacement characters a lenient decoder would put in their place (and the YAML parser
 * then read as ordinary text).
 */
export function decodeText(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes) ?? 0;
    const before = new TextDecoder('utf-8').decode(bytes.subarray(0, at));
    const lineStart = before.lastIndexOf('\n') + 1;
    let line = 1;
    for (let i = before.indexOf('\n'); i >= 0; i = before.indexOf('\n', i + 1)) line++;
    throw new TextEncodingError({ line, column: before.length - lineStart + 1 }, bytes[at] ?? 0);
  }
}

/** Reads a text file; a file that cannot be read or decoded is a diagnostic saying why and where. */
export async function readTextFile(fs: FileSystem, file: string): Promise<Result<string, Diagnostic>> {
  try {
    return ok(await fs.readFile(file));
  } catch (e) {
    if (e instanceof TextEncodingError) {
      return err({ file, range: { start: e.position, end: e.position }, severity: 'error', code: 'encoding', message: e.message });
    }
    return err({ file, range: { start: { line: 1, column: 1 }, end: { line: 1, column: 1 } }, severity: 'error', code: 'io', message: `cannot read the file: ${(e as Error).message}` });
  }
}
