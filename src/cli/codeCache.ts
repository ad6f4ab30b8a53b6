import { isAscii, transcode } from 'node:buffer';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { crc32 } from 'node:zlib';

/**
 * What the `symphony` executable (dist/cli.js, launcher.ts) does: it runs the CLI's CommonJS bundle with V8's code
 * cache. Compiling the bundle's code — the top level and each function as it is first
 * called — is most of what a command costs beyond Node's own start, and the cache keeps it
 * from one start to the next: after a command, the launcher stores what V8 compiled, in the
 * user's cache folder, and the next start of that command reads it instead of compiling.
 * What runs, and how, does not change: the bytes run are always the bundle's, and a cache
 * that is missing, unreadable, corrupt (its checksum), stale (made for another bundle, its
 * checksum and size, or another V8) or refused by V8 is ignored, and written again.
 */

/** What the cache is made for: one bundle, as read now. */
export interface Bundle {
  readonly file: string;
  readonly source: string;
  /** `crc32-size` of the bundle's bytes: a cache made for other bytes has another name. */
  readonly id: string;
}

const MAGIC = 0x53594d43; // "SYMC"
const FORMAT = 1;
const HEADER = 16; // magic, format, payload length, payload crc32: four unsigned 32-bit words

/** The user's cache folder for Symphony's CLI: `$XDG_CACHE_HOME` when set, else the platform's. */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(homedir(), 'AppData', 'Local'), 'symphony', 'Cache', 'cli');
  const home = env.XDG_CACHE_HOME || (platform === 'darwin' ? join(homedir(), 'Library', 'Caches') : join(homedir(), '.cache'));
  return join(home, 'symphony', 'cli');
}

export function readBundle(file: string): Bundle {
  const bytes = readFileSync(file);
  return { file, source: decode(bytes), id: `${crc32(bytes).toString(16)}-${bytes.length}` };
}

/**
 * UTF-8 text as a string. The bundle is ASCII but for a few regular expressions, and V8
 * decodes UTF-8 with anything else in it a character at a time (10 ms for the bundle);
 * ICU's conversion to UTF-16 is many times quicker.
 */
export function decode(bytes: Buffer): string {
  if (isAscii(bytes)) return bytes.toString('latin1');
  return typeof transcode === 'function' ? transcode(bytes, 'utf8', 'ucs2').toString('ucs2') : bytes.toString('utf8');
}

/** The cache file of `bundle` for one command (`validate`, `run`…): each command compiles its own code. */
export function cacheFile(dir: string, bundle: Bundle, command: string | undefined): string {
  const key = command && /^[a-z][a-z-]{0,31}$/.test(command) ? command : 'other';
  return join(dir, `${bundle.id}-v8-${process.versions.v8}-${key}.bin`);
}

/** The name of a cache file (`cacheFile`), of this bundle or another: its first group is the bundle's id. */
const CACHE_NAME = /^([0-9a-f]+-\d+)-v8-[^/\\]+\.bin$/;

/**
 * How many bundles' caches the folder keeps. More than one: two installations of the CLI
 * (the extension's and a global one, of other versions) used in turn would otherwise each
 * remove the other's cache, and compile on every start.
 */
export const BUNDLES_KEPT = 4;

/** The cached data in `file` when it is whole (its length and checksum hold), else undefined. */
export function readCache(file: string): Buffer | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return undefined;
  }
  if (bytes.length < HEADER || bytes.readUInt32LE(0) !== MAGIC || bytes.readUInt32LE(4) !== FORMAT) return undefined;
  const payload = bytes.subarray(HEADER);
  if (payload.length !== bytes.readUInt32LE(8) || crc32(payload) !== bytes.readUInt32LE(12)) return undefined;
  return payload;
}

/**
 * Stores `data` as `file`, whole or not at all (a temporary file renamed into place), and
 * removes the caches of all but the BUNDLES_KEPT bundles written last (this one among them).
 * Fails silently: the cache only saves time.
 */
export function writeCache(file: string, data: Buffer, bundle: Bundle): void {
  const dir = dirname(file);
  const temp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const header = Buffer.alloc(HEADER);
    header.writeUInt32LE(MAGIC, 0);
    header.writeUInt32LE(FORMAT, 4);
    header.writeUInt32LE(data.length, 8);
    header.writeUInt32LE(crc32(data), 12);
    writeFileSync(temp, Buffer.concat([header, data]), { mode: 0o600 });
    renameSync(temp, file);
    pruneCaches(dir, bundle.id);
  } catch {
    try {
      rmSync(temp, { force: true });
    } catch {
      // The folder is not there, or not a folder.
    }
  }
}

/** Removes the caches of the bundles written longest ago, keeping BUNDLES_KEPT bundles' and `current`'s. */
function pruneCaches(dir: string, current: string): void {
  const newest = new Map<string, number>(); // bundle id → when its newest cache was written
  const files: [name: string, id: string][] = [];
  for (const name of readdirSync(dir)) {
    const id = CACHE_NAME.exec(name)?.[1];
    if (!id) continue;
    files.push([name, id]);
    if (id === current) continue;
    const written = statSync(join(dir, name)).mtimeMs;
    newest.set(id, Math.max(newest.get(id) ?? 0, written));
  }
  const kept = new Set([current, ...[...newest].sort((a, b) => b[1] - a[1]).slice(0, BUNDLES_KEPT - 1).map(([id]) => id)]);
  for (const [name, id] of files) if (!kept.has(id)) rmSync(join(dir, name), { force: true });
}

/**
 * Runs `bundle` as Node runs a CommonJS module, with the code cache in `file` when it is
 * usable. When it was not, the cache is written once the process has nothing left to do.
 * Returns whether the cache was used.
 */
export function runBundle(bundle: Bundle, file: string): boolean {
  // Node applies source maps to modules, not to a vm.Script: with them on (`node
  // --enable-source-maps`, for a readable stack), the bundle runs as a plain module, uncached.
  if (process.sourceMapsEnabled) {
    createRequire(__filename)(bundle.file);
    return false;
  }
  const cachedData = readCache(file);
  // The wrapper's first line is left out of line numbers, so positions (and source maps) hold.
  // No `importModuleDynamically`: Node 20 drops it for code from the cache, and the bundle
  // has no `import()` (esbuild.mjs: importEsm.js is beside it).
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {\n${bundle.source}\n})`, {
    filename: bundle.file,
    lineOffset: -1,
    cachedData,
  });
  const used = cachedData !== undefined && !script.cachedDataRejected;
  if (!used) {
    process.once('beforeExit', () => {
      let data: Buffer;
      try {
        data = script.createCachedData();
      } catch {
        return;
      }
      writeCache(file, data, bundle);
    });
  }
  const module = { exports: {}, id: bundle.file, filename: bundle.file };
  (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, createRequire(bundle.file), module, bundle.file, dirname(bundle.file));
  return used;
}

/** Starts the CLI bundle `bundleFile` for the command line `argv` (without node and script). */
export function launch(bundleFile: string, argv: readonly string[]): void {
  const bundle = readBundle(bundleFile);
  runBundle(bundle, cacheFile(userCacheDir(), bundle, argv[0]));
}
