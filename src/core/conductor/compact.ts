import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { isErrno, writeAll, writeFileAtomic } from '../store/files';
import { withFileLock, type LockOptions } from '../store/lock';
import { renderDigest, type DigestOptions } from './digest';
import { HANDOFF_FILE, handoffLockPath, isEntryHeading, parseHandoff, type HandoffEntry } from './handoff';

/**
 * `handoff.md` compaction (DESIGN.md §4.5): the log stays short enough to read while
 * nothing is ever deleted. Entries older than the newest N move, as written, to the end of
 * `handoff.archive.md` (append-only, oldest first), and `handoff.md` gets a `## Digest`
 * section after its header that sums up everything archived, per instrument.
 *
 * Crash safety: the archive is appended (and synced) before `handoff.md` is replaced
 * atomically, so a crash in between leaves entries in both files, never in neither. The
 * digest says how many archived entries it covers; when the archive holds more, and they
 * are the oldest entries still in `handoff.md`, the next compaction knows they were moved
 * already and does not add them twice.
 */

/** The archive, next to `handoff.md`. */
export const ARCHIVE_FILE = 'handoff.archive.md';

const ARCHIVE_HEADER = `# Handoff Archive

Entries moved out of handoff.md by \`symphony handoff compact\`, oldest first. Nothing here is
rewritten or removed; compaction only appends. The digest in handoff.md sums these up.

---
`;

/** The heading of the digest section; its body ends at the first \`---\` line after it. */
export const DIGEST_HEADING = '## Digest';
const digestNote = (covered: number) => `<!-- Written by \`symphony handoff compact\` from the ${covered} entries of ${ARCHIVE_FILE}; edits here are replaced. -->`;
const DIGEST_NOTE = /^<!-- Written by `symphony handoff compact` from the (\d+) entries of /;

/** `handoff.md` taken apart without losing a character of its entries. */
export interface HandoffParts {
  /** Everything before the digest (or before the first entry): the header, notes. */
  readonly preamble: string;
  /** The digest section's body, when there is one. */
  readonly digest?: string;
  /** How many archived entries the digest says it covers. */
  readonly covered?: number;
  /** Text between the digest and the first entry. */
  readonly between: string;
  /** Each entry's raw text: from its heading up to the next heading (notes after it included). */
  readonly chunks: readonly string[];
}

/** Splits `handoff.md` into its header, digest and entries' raw text. */
export function splitHandoff(text: string): HandoffParts {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let first = lines.findIndex(isEntryHeading);
  if (first < 0) first = lines.length;
  const start = lines.slice(0, first).findIndex((l) => l.trimEnd() === DIGEST_HEADING);
  let preamble = lines.slice(0, first);
  let digest: string | undefined;
  let covered: number | undefined;
  let between: string[] = [];
  if (start >= 0) {
    let end = lines.slice(start + 1, first).findIndex((l) => l.trimEnd() === '---');
    end = end < 0 ? first : start + 1 + end;
    preamble = lines.slice(0, start);
    const body = lines.slice(start + 1, end).filter((l) => {
      const note = DIGEST_NOTE.exec(l.trim());
      if (note) covered = Number(note[1]);
      return !note;
    });
    digest = body.join('\n').trim();
    between = lines.slice(Math.min(end + 1, first), first);
  }
  const chunks: string[] = [];
  for (let i = first; i < lines.length; ) {
    let j = i + 1;
    while (j < lines.length && !isEntryHeading(lines[j]!)) j++;
    chunks.push(lines.slice(i, j).join('\n'));
    i = j;
  }
  return { preamble: preamble.join('\n'), ...(digest !== undefined ? { digest } : {}), ...(covered !== undefined ? { covered } : {}), between: between.join('\n'), chunks };
}

/** The entries of `handoff.md` with the body of its digest section (undefined when not compacted). */
export function readHandoff(text: string): { readonly entries: HandoffEntry[]; readonly digest?: string } {
  const { digest } = splitHandoff(text);
  return { entries: parseHandoff(text), ...(digest !== undefined ? { digest } : {}) };
}

/** What a compaction did. */
export interface CompactResult {
  /** Entries moved to the archive this time (0: nothing to do, no file was written). */
  readonly moved: number;
  /** Entries left in `handoff.md`. */
  readonly kept: number;
  /** Entries in the archive now. */
  readonly archived: number;
  /** Timestamps of the first and last entries moved. */
  readonly from?: string;
  readonly to?: string;
}

export interface CompactOptions {
  /** The newest entries that stay in `handoff.md`. */
  readonly keep: number;
  readonly lock?: LockOptions;
  readonly digest?: DigestOptions;
}

/** Blank-line glue so that `next` starts a block after `text`, however `text` ends. */
const glue = (text: string): string => (text === '' || text.endsWith('\n\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n');

/**
 * Moves the entries of `<root>/handoff.md` older than the newest `keep` into
 * `handoff.archive.md` and rewrites the digest, under the lock appends take. Idempotent:
 * with `keep` or fewer entries it writes nothing.
 */
export async function compactHandoff(root: string, options: CompactOptions): Promise<CompactResult> {
  const keep = Math.max(0, Math.floor(options.keep));
  const path = join(root, HANDOFF_FILE);
  const archivePath = join(root, ARCHIVE_FILE);
  return withFileLock(
    handoffLockPath(root),
    async () => {
      const text = await fsp.readFile(path, 'utf8').catch((e: unknown) => {
        if (isErrno(e, 'ENOENT')) return '';
        throw e;
      });
      const parts = splitHandoff(text);
      const archiveBefore = await fsp.readFile(archivePath, 'utf8').catch((e: unknown) => {
        if (isErrno(e, 'ENOENT')) return undefined;
        throw e;
      });
      const archivedBefore = archiveBefore === undefined ? [] : parseHandoff(archiveBefore);
      const movedChunks = parts.chunks.slice(0, Math.max(0, parts.chunks.length - keep));
      const keptChunks = parts.chunks.slice(movedChunks.length);
      if (movedChunks.length === 0) return { moved: 0, kept: keptChunks.length, archived: archivedBefore.length };

      // 1. The archive first: entries as written, oldest first, after what is there — but
      // not those an interrupted compaction already put there.
      const done = alreadyArchived(movedChunks, archivedBefore, parts.covered ?? 0);
      const moving = `${movedChunks.map((c) => c.replace(/\n+$/, '')).join('\n\n')}\n`;
      let archive = archiveBefore ?? '';
      if (done < movedChunks.length) {
        const rest = `${movedChunks.slice(done).map((c) => c.replace(/\n+$/, '')).join('\n\n')}\n`;
        const addition = (archiveBefore === undefined ? `${ARCHIVE_HEADER}\n` : glue(archive)) + rest;
        const fd = await fsp.open(archivePath, 'a');
        try {
          await writeAll(fd, Buffer.from(addition, 'utf8'));
          await fd.datasync();
        } finally {
          await fd.close();
        }
        archive += addition;
      }

      // 2. handoff.md: header, the digest of the whole archive, the entries kept.
      const archived = parseHandoff(archive);
      const digest = `${DIGEST_HEADING}\n\n${digestNote(archived.length)}\n\n${renderDigest(archived, ARCHIVE_FILE, options.digest)}\n\n---\n`;
      let next = parts.preamble.trimEnd() ? `${parts.preamble.trimEnd()}\n\n${digest}` : digest;
      if (parts.between.trim()) next += `\n${parts.between.replace(/^\n+/, '').replace(/\n*$/, '\n')}`;
      if (keptChunks.length) next += `\n${keptChunks.join('\n')}`;
      await writeFileAtomic(path, next, { durable: true });

      const movedEntries = parseHandoff(moving);
      return {
        moved: movedChunks.length,
        kept: keptChunks.length,
        archived: archived.length,
        from: movedEntries[0]?.at,
        to: movedEntries[movedEntries.length - 1]?.at,
      };
    },
    options.lock,
  );
}

/**
 * How many of the chunks about to move are already at the archive's end: the archive holds
 * entries the digest does not cover (a compaction stopped between its two writes) and they
 * are these chunks' entries.
 */
function alreadyArchived(chunks: readonly string[], archived: readonly HandoffEntry[], covered: number): number {
  const pending = archived.length - covered;
  if (pending <= 0 || pending > chunks.length) return 0;
  const same = (a: HandoffEntry, b: HandoffEntry) => JSON.stringify(a) === JSON.stringify(b);
  const tail = archived.slice(-pending);
  return chunks.slice(0, pending).every((c, i) => {
    const [entry] = parseHandoff(c);
    return entry !== undefined && same(entry, tail[i]!);
  })
    ? pending
    : 0;
}
