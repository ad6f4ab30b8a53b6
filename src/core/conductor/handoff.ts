import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { TokenUsage } from '../model/run';
import { writeAll } from '../store/files';
import { withFileLock, type LockOptions } from '../store/lock';

/**
 * `handoff.md`: the append-only state log, one entry per instrument turn. People read it,
 * so it is Markdown; the Conductor reads it back (the digest), so every entry has a fixed
 * shape that `parseHandoff` recovers exactly:
 *
 *   ### 2026-05-01T10:00:00.000Z — Tuba
 *
 *   - Instrument: backend/database
 *   - Model: llama3.1
 *   - Tokens: 1200 in / 350 out
 *   - Files:
 *     - db/schema.sql
 *
 *   The summary paragraph(s).
 *
 *   ---
 */

/** What the Conductor (or `symphony handoff append`) records after an instrument's turn. */
export interface HandoffInput {
  readonly nickname: string;
  /** `ensemble/instrument`. */
  readonly instrument?: string;
  readonly model?: string;
  readonly summary: string;
  /** Files the turn touched, workspace-relative. */
  readonly files?: readonly string[];
  readonly tokens?: TokenUsage;
  /** Default: now. */
  readonly at?: Date;
}

/** An entry read back from `handoff.md`. */
export interface HandoffEntry {
  /** ISO-8601, as written in the heading. */
  readonly at: string;
  readonly nickname: string;
  readonly instrument?: string;
  readonly model?: string;
  readonly tokens?: TokenUsage;
  readonly files?: readonly string[];
  readonly summary: string;
}

/** Written when `handoff.md` does not exist yet (the same words as `symphony init`'s). */
const HEADER = `# Handoff Log

An append-only record of the work: one entry per instrument turn, written by the
Conductor (or \`symphony handoff append\`). Entries below this line.

---
`;

/** The log, at the workspace root. */
export const HANDOFF_FILE = 'handoff.md';

export { DEFAULT_KEEP } from './handoffKeep';

/**
 * The lock every writer of `handoff.md` holds (appends, compaction). It lives in
 * .symphony/ so the workspace root is not cluttered by it.
 */
export function handoffLockPath(root: string): string {
  return join(root, '.symphony', 'handoff.md.lock');
}

const SEPARATOR = '---';
/** `### <id> — <title>`; the em dash escaped, so the CLI's bundle stays ASCII (scripts/cliBundle.mjs). */
const HEADING = /^### (\S+) \u2014 (.*)$/;

/** Whether a line of `handoff.md` starts an entry. */
export function isEntryHeading(line: string): boolean {
  return HEADING.test(line);
}
const META = /^- (Instrument|Model|Tokens|Files):(?: (.*))?$/;
const FILE_ITEM = /^ {2}- (.*)$/;
const TOKENS = /^(\d+) in \/ (\d+) out$/;

/**
 * Summary lines that would read as structure — a heading, the separator, a setext
 * underline, a metadata line — get a leading backslash, which Markdown also renders away.
 * Lines already starting with a backslash get one too, so unescaping is exact.
 */
const NEEDS_ESCAPE = /^(?:\\|#|---|===|- (?:Instrument|Model|Tokens|Files):)/;
const escapeLine = (line: string): string => (NEEDS_ESCAPE.test(line) ? `\\${line}` : line);
const unescapeLine = (line: string): string => (line.startsWith('\\') && NEEDS_ESCAPE.test(line.slice(1)) ? line.slice(1) : line);

/** Headings and list items are one line each: a newline inside a value would break the entry. */
const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** The Markdown of one entry, ending with its separator line. */
export function formatHandoffEntry(entry: HandoffInput): string {
  const nickname = oneLine(entry.nickname);
  if (!nickname) throw new RangeError('a handoff entry needs a nickname');
  const meta: string[] = [];
  if (entry.instrument) meta.push(`- Instrument: ${oneLine(entry.instrument)}`);
  if (entry.model) meta.push(`- Model: ${oneLine(entry.model)}`);
  if (entry.tokens) meta.push(`- Tokens: ${Math.round(entry.tokens.input)} in / ${Math.round(entry.tokens.output)} out`);
  const files = (entry.files ?? []).map(oneLine).filter(Boolean);
  if (files.length > 0) meta.push('- Files:', ...files.map((f) => `  - ${f}`));
  const summary = entry.summary.replace(/\r\n?/g, '\n').trim().split('\n').map(escapeLine).join('\n');
  const blocks = [`### ${(entry.at ?? new Date()).toISOString()} — ${nickname}`, meta.join('\n'), summary, SEPARATOR].filter(Boolean);
  return `${blocks.join('\n\n')}\n`;
}

/**
 * Appends one entry to `<root>/handoff.md`, creating it with a header when missing. Each
 * entry is one write under a lock shared with every other process, so entries never tear
 * or interleave however many instruments finish at once.
 */
export async function appendHandoff(root: string, entry: HandoffInput, options: { readonly lock?: LockOptions } = {}): Promise<void> {
  const text = formatHandoffEntry(entry);
  const path = join(root, HANDOFF_FILE);
  await withFileLock(
    handoffLockPath(root),
    async () => {
      const fd = await fsp.open(path, 'a+');
      try {
        const { size } = await fd.stat();
        let lead = HEADER;
        if (size > 0) {
          // A blank line before the heading, whatever the file (perhaps hand-edited) ends with.
          const end = Buffer.alloc(Math.min(2, size));
          await fd.read(end, 0, end.length, size - end.length);
          const tail = end.toString('latin1');
          lead = tail.endsWith('\n\n') ? '' : tail.endsWith('\n') ? '\n' : '\n\n';
        } else {
          lead += '\n';
        }
        await writeAll(fd, Buffer.from(lead + text, 'utf8'));
        await fd.datasync();
      } finally {
        await fd.close();
      }
    },
    options.lock,
  );
}

/**
 * The entries of a `handoff.md`, oldest first. Text before the first heading (the header,
 * notes) is ignored. An entry ends at its `---`, at the next heading or at the end of the
 * text, so hand-written entries without metadata read back too.
 */
export function parseHandoff(text: string): HandoffEntry[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const entries: HandoffEntry[] = [];
  let i = 0;
  while (i < lines.length) {
    const heading = HEADING.exec(lines[i]!);
    i++;
    if (!heading) continue;
    const entry: { -readonly [K in keyof HandoffEntry]: HandoffEntry[K] } = { at: heading[1]!, nickname: heading[2]!, summary: '' };
    while (i < lines.length && lines[i]!.trim() === '') i++;
    // The metadata list, up to the blank line that ends it.
    for (let m = META.exec(lines[i] ?? ''); m; m = META.exec(lines[i] ?? '')) {
      i++;
      const [, key, value = ''] = m;
      if (key === 'Instrument') entry.instrument = value;
      else if (key === 'Model') entry.model = value;
      else if (key === 'Tokens') {
        const t = TOKENS.exec(value);
        if (t) entry.tokens = { input: Number(t[1]), output: Number(t[2]) };
      } else {
        const files: string[] = [];
        for (let f = FILE_ITEM.exec(lines[i] ?? ''); f; f = FILE_ITEM.exec(lines[i] ?? '')) {
          files.push(f[1]!);
          i++;
        }
        entry.files = files;
      }
    }
    const summary: string[] = [];
    while (i < lines.length && lines[i] !== SEPARATOR && !HEADING.test(lines[i]!)) summary.push(unescapeLine(lines[i++]!));
    if (lines[i] === SEPARATOR) i++;
    entry.summary = summary.join('\n').trim();
    entries.push(entry);
  }
  return entries;
}
