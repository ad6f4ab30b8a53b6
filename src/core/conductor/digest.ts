import { tokenCounter, type TokenCounter } from '../context/pack';
import type { TokenUsage } from '../model/run';
import type { HandoffEntry } from './handoff';
import { extractiveSummary } from './summarize';

/**
 * Digests of `handoff.md`: what many entries come to, per instrument, in a few lines. The
 * `## Digest` section compaction writes covers the archived entries; `handoffDigest` is the
 * token-budgeted digest an instrument's prompt gets (DESIGN.md §4.1 and §4.5), so a log
 * of ten thousand entries costs a prompt no more than a log of ten.
 */

/** What one instrument (by nickname) did over a run of entries. */
export interface InstrumentDigest {
  readonly nickname: string;
  /** `ensemble/instrument` refs it played as, in order of first appearance. */
  readonly instruments: readonly string[];
  readonly turns: number;
  readonly tokens: TokenUsage;
  /** Distinct files touched, the most recently touched first. */
  readonly files: readonly string[];
  /** Timestamps of its first and last entries, as written. */
  readonly first: string;
  readonly last: string;
  /** A few sentences extracted from its most recent summaries. */
  readonly highlights: string;
}

/** How much a digest says per instrument. */
export interface DigestOptions {
  /** Sentences of highlights. Default 2. */
  readonly sentences?: number;
  /** Newest summaries the highlights are drawn from. Default 20. */
  readonly recent?: number;
  /** Files named per instrument; the rest are counted. Default 8. */
  readonly files?: number;
}

/** Per-instrument digests of `entries` (oldest first), the most recently active first. */
export function digestEntries(entries: readonly HandoffEntry[], options: DigestOptions = {}): InstrumentDigest[] {
  const groups = new Map<string, { entries: HandoffEntry[]; lastIndex: number }>();
  entries.forEach((entry, index) => {
    const group = groups.get(entry.nickname) ?? { entries: [], lastIndex: 0 };
    group.entries.push(entry);
    group.lastIndex = index;
    groups.set(entry.nickname, group);
  });
  return [...groups.entries()]
    .sort(([, a], [, b]) => b.lastIndex - a.lastIndex)
    .map(([nickname, { entries: mine }]) => {
      const files: string[] = [];
      const seen = new Set<string>();
      for (let i = mine.length - 1; i >= 0; i--) {
        for (const f of mine[i]!.files ?? []) if (!seen.has(f)) seen.add(f), files.push(f);
      }
      const recent = mine.slice(-(options.recent ?? 20)).map((e) => e.summary).filter(Boolean);
      return {
        nickname,
        instruments: [...new Set(mine.flatMap((e) => (e.instrument ? [e.instrument] : [])))],
        turns: mine.length,
        tokens: mine.reduce((t, e) => ({ input: t.input + (e.tokens?.input ?? 0), output: t.output + (e.tokens?.output ?? 0) }), { input: 0, output: 0 }),
        files,
        first: mine[0]!.at,
        last: mine[mine.length - 1]!.at,
        highlights: extractiveSummary(recent.join('\n\n'), options.sentences ?? 2),
      };
    });
}

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();
const turns = (n: number) => `${n} turn${n === 1 ? '' : 's'}`;
const entriesCount = (n: number, what = 'entry') => `${n} ${n === 1 ? what : what.replace(/y$/, 'ies')}`;

/**
 * One instrument's digest as a Markdown list item with its files and highlights beneath.
 * No line of it can read as a handoff entry's heading or separator.
 */
export function formatInstrumentDigest(d: InstrumentDigest, options: DigestOptions = {}): string {
  const shown = options.files ?? 8;
  const refs = d.instruments.length ? ` (${d.instruments.join(', ')})` : '';
  const span = d.first === d.last ? d.first : `${d.first} to ${d.last}`;
  const lines = [`- **${oneLine(d.nickname)}**${refs}: ${turns(d.turns)}, ${span}, ${d.tokens.input} in / ${d.tokens.output} out tokens`];
  if (d.files.length) {
    const more = d.files.length > shown ? `, and ${d.files.length - shown} more` : '';
    lines.push(`  - Files (${d.files.length}): ${d.files.slice(0, shown).join(', ')}${more}`);
  }
  if (d.highlights) lines.push(`  - Recent work: ${oneLine(d.highlights)}`);
  return lines.join('\n');
}

/** The body of a `## Digest` section over `entries` (oldest first). */
export function renderDigest(entries: readonly HandoffEntry[], where: string, options: DigestOptions = {}): string {
  if (entries.length === 0) return `No entry has been compacted yet.`;
  const range = `${entries[0]!.at} to ${entries[entries.length - 1]!.at}`;
  return [
    `${entriesCount(entries.length)} from ${range}, compacted; they are in ${where}.`,
    '',
    ...digestEntries(entries, options).map((d) => formatInstrumentDigest(d, options)),
  ].join('\n');
}

/** One entry on one line: when, who, with what, which files, what happened. */
export function formatEntryLine(entry: HandoffEntry, summaryTokens = ENTRY_SUMMARY_TOKENS, counter: TokenCounter = tokenCounter()): string {
  const facts = [entry.instrument, entry.model, entry.tokens ? `${entry.tokens.input} in / ${entry.tokens.output} out tokens` : undefined].filter(Boolean);
  const files = entry.files?.length ? `; files: ${entry.files.join(', ')}` : '';
  const about = facts.length || files ? ` (${facts.join(', ')}${facts.length ? files : files.slice(2)})` : '';
  let summary = oneLine(entry.summary);
  const short = counter.truncate(summary, summaryTokens);
  if (short.length < summary.length) summary = `${short.trimEnd()} […]`;
  return `- ${entry.at} ${oneLine(entry.nickname)}${about}: ${summary || '(no summary)'}`;
}

/** Tokens of one entry's summary in a digest; a longer summary is cut. */
export const ENTRY_SUMMARY_TOKENS = 300;
/** Newest entries a prompt's handoff digest shows in full (DESIGN.md's K). */
export const DIGEST_KEEP = 5;

/** What a prompt's handoff digest is built from besides the entries. */
export interface HandoffDigestOptions {
  /** Newest entries shown one by one. Default DIGEST_KEEP. */
  readonly keep?: number;
  /** The `## Digest` section's body from `handoff.md`, covering archived entries. */
  readonly stored?: string;
  /** Sum up the older entries still in `handoff.md` per instrument (default true); off when they are shown one by one elsewhere. */
  readonly overview?: boolean;
  readonly counter?: TokenCounter;
}

/**
 * The handoff log for a prompt, in at most `budgetTokens` tokens: the stored digest of
 * compacted entries, a per-instrument overview of the older entries still in `handoff.md`,
 * and the newest `keep` entries one per line, newest first. When it does not all fit, the
 * newest entries win, then the stored digest, then the overview; a part that does not fit
 * whole is cut. Empty when there is nothing to say.
 */
export function handoffDigest(entries: readonly HandoffEntry[], budgetTokens: number, options: HandoffDigestOptions = {}): string {
  const counter = options.counter ?? tokenCounter();
  const keep = Math.max(0, options.keep ?? DIGEST_KEEP);
  const newest = keep ? entries.slice(-keep).reverse() : [];
  const older = entries.slice(0, entries.length - newest.length);
  const stored = options.stored?.trim() ?? '';

  const parts: { order: number; text: string }[] = [];
  let left = Math.floor(budgetTokens);
  const add = (order: number, text: string) => {
    if (!text || left <= 0) return;
    const cost = counter.count(`${text}\n\n`);
    if (cost <= left) {
      parts.push({ order, text });
      left -= cost;
    } else if (left > 16) {
      parts.push({ order, text: `${counter.truncate(text, left - 8).trimEnd()} […]` });
      left = 0;
    }
  };
  // The newest entries first, one at a time, so that as many as fit are shown.
  if (newest.length) {
    const lines = [`Newest ${entriesCount(newest.length)}, newest first:`];
    let cost = counter.count(`${lines[0]}\n\n`);
    for (const e of newest) {
      const line = formatEntryLine(e, Math.min(ENTRY_SUMMARY_TOKENS, Math.max(32, Math.floor(budgetTokens / (keep + 2)))), counter);
      const c = counter.count(`\n${line}`);
      if (cost + c > left) break;
      lines.push(line);
      cost += c;
    }
    if (lines.length > 1) add(3, lines.join('\n'));
  }
  if (stored) add(1, `Compacted earlier (the digest in handoff.md):\n\n${stored}`);
  if (older.length && options.overview !== false) {
    const overview = digestEntries(older, { sentences: 1, files: 5 }).map((d) => formatInstrumentDigest(d, { files: 5 }));
    add(2, [`${entriesCount(older.length, 'older entry')} in handoff.md, by instrument:`, ...overview].join('\n'));
  }
  const text = parts.sort((a, b) => a.order - b.order).map((p) => p.text).join('\n\n');
  // Parts were counted apart; the whole decides.
  return counter.count(text) <= budgetTokens ? text : counter.truncate(text, Math.max(0, budgetTokens));
}

/**
 * Older entries for a prompt's REFERENCE tier: `entries` (oldest first) one per line,
 * newest first, as many as fit in `budgetTokens`, then how many more there are and where.
 */
export function handoffHistory(entries: readonly HandoffEntry[], budgetTokens: number, counter: TokenCounter = tokenCounter()): string {
  const lines: string[] = [];
  let used = 0;
  for (let i = entries.length - 1; i >= 0; i--) {
    const line = formatEntryLine(entries[i]!, ENTRY_SUMMARY_TOKENS, counter);
    const cost = counter.count(`${line}\n`);
    // Room is kept for the line that says what is not shown.
    if (used + cost > budgetTokens - 24) break;
    lines.push(line);
    used += cost;
  }
  const rest = entries.length - lines.length;
  if (rest > 0) lines.push(`- …and ${entriesCount(rest, 'older entry')} not shown (in handoff.md, and handoff.archive.md once compacted)`);
  const text = lines.join('\n');
  return counter.count(text) <= budgetTokens ? text : counter.truncate(text, Math.max(0, budgetTokens));
}
