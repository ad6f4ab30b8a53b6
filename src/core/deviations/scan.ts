import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, promises as fsp, readFileSync, readSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { Semaphore } from '../engine/semaphore';
import { OPEN_SYNC_READ } from '../store/files';
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
  // Not blocking: a FIFO put where ripgrep saw a file is skipped at once below, where a
  // plain open would wait for a writer with the extension host's thread.
  const fd = openSync(path, OPEN_SYNC_READ);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > MAX_FILE_BYTES) return [];
    // A size of 0 may be a file that reports none (as in /proc): readFileSync reads to the end.
    if (stat.size === 0) return scanBytes(readFileSync(fd));
    // Most files fit the buffer kept between calls (nothing holds on to it once scanBytes
    // returns): readFileSync would stat the file again and allocate a buffer for each.
    const bytes = stat.size <= readBuffer.length ? readBuffer : Buffer.allocUnsafe(stat.size);
    let size = 0;
    while (size < stat.size) {
      const n = readSync(fd, bytes, size, stat.size - size, null);
      if (n === 0) break;
      size += n;
    }
    return scanBytes(bytes.subarray(0, size));
  } finally {
    closeSync(fd);
  }
}

/** scanFileSync's buffer for files up to its size; larger files get their own. */
const readBuffer = Buffer.allocUnsafe(64 * 1024);

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

  let last: string | undefined;
  const matches = new MatchReader((path, line) => {
    if (path === last || !(line === undefined || couldHoldMarker(line))) return;
    onFile((last = path));
  });
  // A bug here would otherwise be thrown in a stream callback, where nothing catches it.
  let failure: { error: unknown } | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    // An aborted scan's result is dropped: the rest of the output need not be read.
    if (failure || options.signal?.aborted) return;
    try {
      matches.push(chunk);
    } catch (error) {
      failure = { error };
      child.kill();
    }
  });
  const [code] = await exited;
  if (options.signal?.aborted) throw options.signal.reason;
  if (failure) throw failure.error;
  matches.end();
  // 0: matches, 1: none, 2: an error somewhere (an unreadable folder) — the rest still counts.
  if (code === 2 || stderr.trim()) warnings.push(...stderr.trim().split('\n').filter(Boolean).map((l) => `ripgrep: ${l}`));
  else if (code !== 0 && code !== 1) warnings.push(`ripgrep exited with code ${code}`);
  return true;
}

/**
 * Reads ripgrep's JSON events as their bytes arrive and hands on each `match` event's file
 * (relative, `/`-separated) and matched line (undefined when it is not UTF-8, so the file
 * has to be read to know). Files whose path is not UTF-8 (ripgrep sends it as base64
 * `bytes`) are left out.
 *
 * Output is split into lines at `\n` bytes (JSON escapes the line breaks inside strings,
 * and no UTF-8 sequence holds the byte); lines that are not match events, the most of
 * them, are never decoded. A match event's path and line are read straight from the
 * fields ripgrep writes first, in the order it writes them; any other shape goes through
 * `JSON.parse`.
 */
export class MatchReader {
  /** The start of a line not ended yet, in pieces: joined once, when its end arrives. */
  private pending: Buffer[] = [];

  constructor(private readonly onMatch: (path: string, line: string | undefined) => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end >= 0; start = end + 1, end = chunk.indexOf(NEWLINE, start)) {
      if (this.pending.length) this.line(Buffer.concat([...this.pending.splice(0), chunk.subarray(start, end)]));
      // Begin, end and summary events differ from a match at the first letter of their type.
      else if (chunk[start + TYPE_AT] === MATCH_EVENT[TYPE_AT]) this.line(chunk.subarray(start, end));
    }
    if (start < chunk.length) this.pending.push(chunk.subarray(start));
  }

  /** The output has ended: a last line without its line break counts too. */
  end(): void {
    if (this.pending.length) this.line(Buffer.concat(this.pending.splice(0)));
  }

  private line(bytes: Buffer): void {
    if (!startsWith(bytes, MATCH_EVENT, 0)) return;
    const match = quickMatch(bytes) ?? parseMatch(bytes.toString('utf8'));
    if (match === undefined) return;
    const path = normalisePath(match.path);
    if (path !== undefined) this.onMatch(path, match.line?.replace(/\r?\n$/, ''));
  }
}

const NEWLINE = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MATCH_EVENT = Buffer.from('{"type":"match"');
const TYPE_AT = '{"type":"'.length;
const TEXT_PATH = Buffer.from('{"type":"match","data":{"path":{"text":');
const BYTES_PATH = Buffer.from('{"type":"match","data":{"path":{"bytes":');
const TEXT_LINE = Buffer.from('},"lines":{"text":');
const BYTES_LINE = Buffer.from('},"lines":{"bytes":');

function startsWith(bytes: Buffer, prefix: Buffer, at: number): boolean {
  return bytes.length - at >= prefix.length && bytes.compare(prefix, 0, prefix.length, at, at + prefix.length) === 0;
}

/** A match event's raw path (null: not UTF-8) and line, or undefined when rg wrote it in another shape. */
type RawMatch = { path: string | null; line: string | undefined };

/** A match event read from the bytes, without parsing the rest (offsets, submatches); undefined: not the usual shape. */
function quickMatch(bytes: Buffer): RawMatch | undefined {
  if (startsWith(bytes, BYTES_PATH, 0)) return { path: null, line: undefined };
  if (!startsWith(bytes, TEXT_PATH, 0)) return undefined;
  const path = jsonStringAt(bytes, TEXT_PATH.length);
  if (path === undefined) return undefined;
  if (startsWith(bytes, BYTES_LINE, path.end)) return { path: path.value, line: undefined };
  if (!startsWith(bytes, TEXT_LINE, path.end)) return undefined;
  const line = jsonStringAt(bytes, path.end + TEXT_LINE.length);
  return line && { path: path.value, line: line.value };
}

/** The JSON string whose opening quote is at `open`, decoded, and the index after its closing quote. */
function jsonStringAt(bytes: Buffer, open: number): { value: string; end: number } | undefined {
  if (bytes[open] !== QUOTE) return undefined;
  let close = open;
  for (;;) {
    close = bytes.indexOf(QUOTE, close + 1);
    if (close < 0) return undefined;
    let backslashes = 0;
    while (bytes[close - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) break;
  }
  if (!bytes.subarray(open + 1, close).includes(BACKSLASH)) return { value: bytes.toString('utf8', open + 1, close), end: close + 1 };
  try {
    return { value: JSON.parse(bytes.toString('utf8', open, close + 1)) as string, end: close + 1 };
  } catch {
    return undefined;
  }
}

/** A match event through `JSON.parse`; undefined when it is not one. */
function parseMatch(json: string): RawMatch | undefined {
  let event: { data?: { path?: { text?: string }; lines?: { text?: string } } };
  try {
    event = JSON.parse(json) as typeof event;
  } catch {
    return undefined;
  }
  return { path: event.data?.path?.text ?? null, line: event.data?.lines?.text };
}

/** ripgrep's path relative to the scanned folder, `/`-separated; undefined when it was not UTF-8. */
function normalisePath(path: string | null): string | undefined {
  if (path === null) return undefined;
  const rel = path.startsWith('./') ? path.slice(2) : path;
  return sep === '/' ? rel : rel.split(sep).join('/');
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
