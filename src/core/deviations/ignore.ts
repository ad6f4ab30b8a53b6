import { promises as fsp } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import picomatch from 'picomatch';

/**
 * The ignore rules the marker scan honours, read the way ripgrep reads them, so the
 * ripgrep scan and the pure-Node scan see the same files:
 *
 * - `.gitignore`, `.ignore` and `.rgignore` in every folder (in that order of precedence,
 *   lowest first), and those of the folders above the scanned one up to the repository
 *   root, whether or not there is a repository (ripgrep's `--no-require-git`);
 * - `.git/info/exclude` of the repository;
 * - not the user's global excludes file, so a scan gives the same answer on every machine;
 * - always skipped: `.git` and `.symphony/chambers` (chamber worktrees are copies of the
 *   workspace and would report every marker again).
 */

/** A rule of an ignore file, already compiled. */
interface Rule {
  readonly negate: boolean;
  readonly dirOnly: boolean;
  /** Tests a path relative to the folder of the ignore file, `/`-separated. */
  readonly test: (relPath: string, base: string) => boolean;
}

/** The ignore files read in each folder, lowest precedence first. */
export const IGNORE_FILES = ['.gitignore', '.ignore', '.rgignore'] as const;

const PICO: picomatch.PicomatchOptions = { dot: true, nobrace: true, noextglob: true, nonegate: true };

/** Parses the text of a `.gitignore`-style file into rules (gitignore(5) semantics). */
export function parseIgnoreFile(text: string): Rule[] {
  const rules: Rule[] = [];
  for (let line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    // Trailing spaces are dropped unless escaped with a backslash.
    line = line.replace(/(?<!\\)\s+$/, '');
    let negate = false;
    if (line.startsWith('!')) {
      negate = true;
      line = line.slice(1);
    } else if (line.startsWith('\\!') || line.startsWith('\\#')) {
      line = line.slice(1);
    }
    const dirOnly = line.endsWith('/');
    if (dirOnly) line = line.slice(0, -1);
    if (line === '') continue;
    // A slash anywhere but at the end anchors the pattern to the file's folder; without
    // one, the pattern matches a name at any depth below it.
    const anchored = line.includes('/');
    const pattern = anchored ? line.replace(/^\//, '') : line;
    const isMatch = picomatch(pattern, PICO);
    rules.push({
      negate,
      dirOnly,
      test: anchored ? (rel) => isMatch(rel) : (_rel, base) => isMatch(base),
    });
  }
  return rules;
}

/** The rules of one folder, with that folder's path relative to the tree's anchor. */
interface RuleSet {
  readonly dir: string;
  readonly rules: readonly Rule[];
}

/** Whether the last rule that matches `rel` (relative to the anchor) ignores it. */
function decide(sets: readonly RuleSet[], rel: string, isDir: boolean): boolean {
  const name = posix.basename(rel);
  let ignored = false;
  for (const set of sets) {
    const local = set.dir === '' ? rel : rel.slice(set.dir.length + 1);
    for (const rule of set.rules) {
      if (rule.dirOnly && !isDir) continue;
      if (rule.test(local, name)) ignored = !rule.negate;
    }
  }
  return ignored;
}

/** Paths skipped whatever the ignore files say. */
export function alwaysSkipped(rel: string): boolean {
  return posix.basename(rel) === '.git' || rel === '.symphony/chambers' || rel.endsWith('/.symphony/chambers');
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The ignore rules of a folder tree, read lazily and cached per folder. Paths given to it
 * are relative to `root` and `/`-separated. Used by the pure-Node scan as it walks, and by
 * the extension to tell whether a changed file is one the scan would have read.
 */
export class IgnoreTree {
  private readonly cache = new Map<string, Promise<readonly RuleSet[]>>();

  private constructor(
    readonly root: string,
    /** The folder rule paths are relative to: the repository root, or `root` outside one. */
    private readonly anchor: string,
    /** `root` relative to the anchor ('' when they are the same). */
    private readonly prefix: string,
    private readonly outer: readonly RuleSet[],
  ) {}

  /** Reads the rules that apply above `root`: the repository's exclude file and its parents' ignore files. */
  static async create(root: string): Promise<IgnoreTree> {
    const chain: string[] = [root];
    let gitRoot: string | undefined;
    for (let dir = root; ; ) {
      if (await isPresent(join(dir, '.git'))) {
        gitRoot = dir;
        break;
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
      chain.unshift(dir);
    }
    const anchor = gitRoot ?? root;
    const prefix = relative(anchor, root).split(sep).join('/');
    const outer: RuleSet[] = [];
    const exclude = gitRoot ? await readIfExists(join(gitRoot, '.git', 'info', 'exclude')) : undefined;
    if (exclude) outer.push({ dir: '', rules: parseIgnoreFile(exclude) });
    // Folders between the anchor and the root (not the root itself: `rulesFor('')` reads it).
    for (const dir of gitRoot ? chain.slice(chain.indexOf(gitRoot), -1) : []) {
      const rules = await readRules(dir);
      if (rules.length) outer.push({ dir: relative(anchor, dir).split(sep).join('/'), rules });
    }
    return new IgnoreTree(root, anchor, prefix, outer);
  }

  private toAnchor(rel: string): string {
    return this.prefix === '' ? rel : rel === '' ? this.prefix : `${this.prefix}/${rel}`;
  }

  /** The rule sets that apply inside folder `dir` (relative to root; '' for the root). */
  private rulesFor(dir: string): Promise<readonly RuleSet[]> {
    let found = this.cache.get(dir);
    if (!found) {
      found = (async () => {
        const above = dir === '' ? this.outer : await this.rulesFor(posix.dirname(dir) === '.' ? '' : posix.dirname(dir));
        const own = await readRules(join(this.root, dir));
        return own.length ? [...above, { dir: this.toAnchor(dir), rules: own }] : above;
      })();
      this.cache.set(dir, found);
    }
    return found;
  }

  /** Whether an entry of folder `dir` is skipped; the folder itself is known not to be. */
  async isIgnoredIn(dir: string, name: string, isDir: boolean): Promise<boolean> {
    const rel = dir === '' ? name : `${dir}/${name}`;
    if (alwaysSkipped(rel)) return true;
    return decide(await this.rulesFor(dir), this.toAnchor(rel), isDir);
  }

  /** Whether a path anywhere under root is skipped, itself or through a folder above it. */
  async isIgnored(rel: string, isDir: boolean): Promise<boolean> {
    const parts = rel.split('/');
    for (let i = 0; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (await this.isIgnoredIn(dir, parts[i]!, i < parts.length - 1 || isDir)) return true;
    }
    return false;
  }
}

async function isPresent(path: string): Promise<boolean> {
  try {
    await fsp.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The rules of the ignore files of one folder, in order of precedence. */
async function readRules(dir: string): Promise<Rule[]> {
  const texts = await Promise.all(IGNORE_FILES.map((f) => readIfExists(join(dir, f))));
  return texts.flatMap((t) => (t === undefined ? [] : parseIgnoreFile(t)));
}
