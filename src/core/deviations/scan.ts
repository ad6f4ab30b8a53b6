import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, promises as fsp, readFileSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { Semaphore } from '../engine/semaphore';
import { IgnoreTree } from './ignore';
import { couldHoldMarker, isBinary, MARKER_PATTERN, scanText, SEVERITY_OF_MARKER, type Marker } from './markers';

/**
 * The workspace scan for deviation markers. ripgrep walks the tree (honouring ignore
 * files, skipping binary files) and names the files holding a candidate line; each such
 * file is then read and parsed here, because only a full parse knows about block comments
 * and strings spanning lines. Without ripgrep, a pure-Node walk does the same with
 * `IgnoreTree`. Both report exactly the same markers.
 */

/** Files larger than this are skipped: generated bundles and data, not code people annotate. */
export const MAX_FILE_BYTES = 5 * 1024 * 1024;

/** A marker with the file it is in, relative to the scanned root and `/`-separated. */
export interface FoundMarker extends Marker {
  readonly file: string;
}

/** What a scan found, and how. */
export interface ScanResult {
  /** The folder paths are relative to. */
  readonly root: string;
  /** Sorted by file, then position. */
  readonly markers: readonly FoundMarker[];
  readonly engine: 'ripgrep' | 'node';
  /** Problems that did not stop the scan: unreadable files, ripgrep's complaints. */
  readonly warnings: readonly string[];
}

/** How to scan. */
export interface ScanOptions {
  /**
   * The ripgrep executable: a path, or a bare name looked up on PATH. When it is absent
   * or cannot start, the pure-Node scan runs instead.
   */
  readonly rg?: string;
  readonly signal?: AbortSignal;
  /** Files read at once by the pure-Node walk (ripgrep's files are read one by one, each at once). */
  readonly concurrency?: number;
}

/** The markers in one file on disk; none when it is binary or too large. */
export async function scanFile(path: string): Promise<Marker[]> {
  // One open for the size check and the read: this runs for every file of a Node walk.
  const handle = await fsp.open(path, 'r');
  let bytes: Buffer;
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size > MAX_FILE_BYTES) return [];
    bytes = await handle.readFile();
  } finally {
    await handle.close();
  }
  return scanBytes(bytes);
}

/**
 * `scanFile` in one synchronous read, for the files ripgrep names: few, at most
 * MAX_FILE_BYTES (its --max-filesize), and cheaper read at once than through four trips to
 * the thread pool each (open, stat, read, close) — the scan then ends when ripgrep does.
 */
export function scanFileSync(path: string): Marker[] {
  const fd = openSync(path, 'r');
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > MAX_FILE_BYTES) return [];
    return scanBytes(readFileSync(fd));
  } finally {
    closeSync(fd);
  }
}

const utf8 = new TextDecoder();

function scanBytes(bytes: Buffer): Marker[] {
  if (isBinary(bytes) || !hasCandidate(bytes)) return [];
  return scanText(utf8.decode(bytes));
}

/** Each marker word with its colon, as bytes: searched in raw file contents. */
const CANDIDATES = [...SEVERITY_OF_MARKER.keys()].map((word) => Buffer.from(`${word}:`));

/** A cheap test on raw bytes before decoding: does any marker word with its colon appear? */
function hasCandidate(bytes: Buffer): boolean {
  return CANDIDATES.some((word) => bytes.includes(word));
}

/**
 * Scans a folder (or one file) for markers. Paths in the result are relative to the
 * folder; for a file, to the folder holding it.
 */
export async function scanMarkers(path: string, options: ScanOptions = {}): Promise<ScanResult> {
  const stat = await fsp.stat(path);
  if (!stat.isDirectory()) {
    const markers = (await scanFile(path)).map((m) => ({ ...m, file: basename(path) }));
    return { root: dirname(path), markers, engine: 'node', warnings: [] };
  }
  const found: FoundMarker[] = [];
  const warnings: string[] = [];
  const add = (rel: string, markers: readonly Marker[]) => {
    for (const m of markers) found.push({ ...m, file: rel });
  };
  const failed = (rel: string, e: unknown) => warnings.push(`${rel}: ${(e as Error).message}`);
  const collectNow = (rel: string) => {
    try {
      add(rel, scanFileSync(join(path, rel)));
    } catch (e) {
      failed(rel, e);
    }
  };
  const collect = (rel: string) => scanFile(join(path, rel)).then((markers) => add(rel, markers), (e: unknown) => void failed(rel, e));
  let engine: ScanResult['engine'] = 'node';
  if (options.rg && (await ripgrepFiles(options.rg, path, collectNow, warnings, options))) engine = 'ripgrep';
  else await walkFiles(path, collect, options);
  found.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column));
  return { root: path, markers: found, engine, warnings };
}

/** ripgrep's arguments: JSON events, hidden files too, ignore files as `IgnoreTree` reads them. */
export function ripgrepArgs(): string[] {
  return [
    '--json',
    '--no-config',
    '--hidden',
    '--no-require-git',
    '--no-ignore-global',
    '--max-filesize',
    String(MAX_FILE_BYTES),
    '--glob',
    '!.git',
    '--glob',
    '!**/.symphony/chambers',
    '--regexp',
    MARKER_PATTERN,
    '--',
    '.',
  ];
}

/** Runs `task` for each item, at most `limit` at once, for as long as items come. */
class TaskPool {
  private readonly slots: Semaphore;
  private readonly running = new Set<Promise<void>>();

  constructor(limit: number) {
    this.slots = new Semaphore(limit);
  }

  /** Waits for a free slot, then starts `task` without waiting for it. */
  async add(task: () => Promise<void>): Promise<void> {
    const release = await this.slots.acquire();
    const p = task().finally(() => {
      release();
      this.running.delete(p);
    });
    this.running.add(p);
  }

  async drain(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running]);
  }
}

/**
 * Streams ripgrep's JSON events and hands a file to `onFile` as soon as a matched line
 * could hold a marker (files whose matches are all mentions in strings or prose are
 * never read); output is read line by line and never held whole, and while `onFile`
 * reads, the pipe fills and ripgrep waits. Resolves false when ripgrep cannot start (not
 * installed), so the caller can fall back.
 */
async function ripgrepFiles(
  rg: string,
  root: string,
  onFile: (rel: string) => void,
  warnings: string[],
  options: ScanOptions,
): Promise<boolean> {
  // Spawned with a signal already aborted, the child would report it on the next tick,
  // after its 'spawn' event: before anything here could be listening.
  options.signal?.throwIfAborted();
  const child = spawn(rg, ripgrepArgs(), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal, windowsHide: true });
  // Listened for from the first moment: an 'error' (cannot start; aborted by a newer scan)
  // may come at any time, even between 'spawn' and the line after `await`.
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.once('close', (code, signal) => resolve([code, signal]));
  });
  // Handled here, and thrown below where the exit is awaited.
  exited.catch(() => undefined);
  const started = await new Promise<boolean>((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', () => resolve(false));
  });
  if (!started) return false;
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    if (stderr.length < 16_384) stderr += chunk;
  });

  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
  let last: string | undefined;
  for await (const line of lines) {
    const match = parseMatch(line);
    if (match === undefined || match.path === last || !(match.line === undefined || couldHoldMarker(match.line))) continue;
    onFile((last = match.path));
  }
  const [code] = await exited;
  if (options.signal?.aborted) throw options.signal.reason;
  // 0: matches, 1: none, 2: an error somewhere (an unreadable folder) — the rest still counts.
  if (code === 2 || stderr.trim()) warnings.push(...stderr.trim().split('\n').filter(Boolean).map((l) => `ripgrep: ${l}`));
  else if (code !== 0 && code !== 1) warnings.push(`ripgrep exited with code ${code}`);
  return true;
}

/**
 * A ripgrep `match` event: the file (relative, `/`-separated) and the matched line
 * (undefined when it is not UTF-8, so the file has to be read to know). Undefined for
 * other events.
 */
function parseMatch(json: string): { path: string; line: string | undefined } | undefined {
  if (!json.startsWith('{"type":"match"')) return undefined;
  let event: { data?: { path?: { text?: string }; lines?: { text?: string } } };
  try {
    event = JSON.parse(json) as typeof event;
  } catch {
    return undefined;
  }
  const path = event.data?.path?.text;
  // A path that is not UTF-8 comes as base64 `bytes`; such files are left out.
  if (path === undefined) return undefined;
  const line = event.data?.lines?.text?.replace(/\r?\n$/, '');
  return { path: (path.startsWith('./') ? path.slice(2) : path).split(sep).join('/'), line };
}

/** The pure-Node walk: every file ripgrep would search, with the same ignore rules. */
async function walkFiles(root: string, onFile: (rel: string) => Promise<void>, options: ScanOptions): Promise<void> {
  const ignore = await IgnoreTree.create(root);
  const pool = new TaskPool(options.concurrency ?? 32);
  const walk = async (dir: string): Promise<void> => {
    options.signal?.throwIfAborted();
    let entries;
    try {
      entries = await fsp.readdir(join(root, dir), { withFileTypes: true });
    } catch {
      return;
    }
    const folders: string[] = [];
    for (const e of entries) {
      // Links are not followed, as ripgrep does not follow them.
      if (!e.isFile() && !e.isDirectory()) continue;
      if (await ignore.isIgnoredIn(dir, e.name, e.isDirectory())) continue;
      const rel = dir === '' ? e.name : `${dir}/${e.name}`;
      if (e.isDirectory()) folders.push(rel);
      else await pool.add(() => onFile(rel));
    }
    // Folders are listed in parallel; the pool bounds how many files are open at once.
    await Promise.all(folders.map(walk));
  };
  await walk('');
  await pool.drain();
}
