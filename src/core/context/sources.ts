import { promises as fsp } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { readHandoff } from '../conductor/compact';
import { DIGEST_KEEP, handoffDigest, handoffHistory } from '../conductor/digest';
import { HANDOFF_FILE } from '../conductor/handoff';
import type { Instrument } from '../model/instrument';
import { realWorkspaceRoot } from '../nodes/support';
import { matchingFiles, readContextFile, type FilesContext } from './files';
import { NO_ROOM, tokenCounter, type Omission, type PackSection, type TokenCounter } from './pack';
import { constraintsText, goalsText, parseProduction } from './production';

/**
 * What an instrument's turn gets to read, gathered from the workspace in the three tiers
 * (DESIGN.md §4.5). Every file is read through the permission guard; what it refuses, and
 * binary files, become omissions the prompt lists rather than failures.
 *
 *   MUST READ            the task (the node's prompt); production.md's constraints
 *   SHOULD KNOW          the handoff digest (the stored digest of compacted entries, an
 *                        overview of older ones, the newest K); the ensemble's summary.txt;
 *                        production.md's other goals; files named in the prompt in
 *                        backticks; the files `with.files` matches
 *   REFERENCE IF NEEDED  older handoff entries, newest first; other files the instrument
 *                        `handles`
 *
 * Within SHOULD KNOW the small, bounded sections come first, so one large file cannot
 * crowd out the log and the goals.
 */

/** The optional tiers a turn may ask for; MUST READ is always there. */
export type OptionalTier = 'should' | 'reference';

/** What to gather. */
export interface ContextRequest {
  /** The task: the node's prompt. */
  readonly prompt: string;
  /** Globs of files the node asks for (`with.files`), packed as SHOULD KNOW. */
  readonly files?: readonly string[];
  /**
   * The tiers to gather beyond the prompt and `files`. Undefined: nothing else — not even
   * production.md (an instrument node without `with.context` reads what it names, as before).
   */
  readonly tiers?: readonly OptionalTier[];
  /** The prompt's token budget; the handoff's shares and how much is read scale with it. */
  readonly budget: number;
  /** Newest handoff entries shown in SHOULD KNOW. Default DIGEST_KEEP (5). */
  readonly keep?: number;
  readonly counter?: TokenCounter;
}

/** Sections for `pack`, and what is known to be missing. */
export interface GatheredContext {
  readonly sections: readonly PackSection[];
  readonly omitted: readonly Omission[];
}

/** Section titles the Conductor and tests can refer to. */
export const TITLES = {
  task: 'Task',
  constraints: 'Production constraints (production.md)',
  handoff: 'Handoff log (handoff.md)',
  goals: 'Production goals (production.md)',
  olderHandoff: 'Older handoff entries (handoff.md)',
  summary: (path: string) => `Ensemble summary (${path})`,
} as const;

/** The handoff digest's share of the budget (at most), and the older entries' share. */
export const HANDOFF_SHARE = { digest: { share: 1 / 8, max: 2000 }, history: { share: 1 / 4, max: 4000 } } as const;
/**
 * Files are read until their text passes this many characters per token of budget; the
 * rest could not fit anyway (code and prose run 3–5 characters a token) and are listed unread.
 */
export const CHARS_PER_TOKEN_READ = 8;

const shareOf = (budget: number, s: { share: number; max: number }) => Math.max(0, Math.min(s.max, Math.floor(budget * s.share)));

/** Paths in backticks that may be workspace files: `src/a.ts`, `README.md`. */
const MENTION = /`([^`\s]+)`/g;
const looksLikePath = (s: string) => /[./]/.test(s) && /^[\w.@+~-][\w./@+~-]*$/.test(s) && !/^\.+$/.test(s) && !s.endsWith('/');

/** Gathers the sections of one instrument turn. */
export async function gatherContext(ctx: FilesContext, instrument: Instrument | undefined, request: ContextRequest): Promise<GatheredContext> {
  const counter = request.counter ?? tokenCounter();
  const tiers = new Set(request.tiers ?? []);
  const full = request.tiers !== undefined;
  const root = await realWorkspaceRoot(ctx.workspaceRoot);
  const sections: PackSection[] = [{ tier: 'must', title: TITLES.task, text: request.prompt }];
  const omitted: Omission[] = [];
  const seen = new Set<string>();

  /** A file's text through the guard; undefined when it does not exist (nothing to say). */
  const readIfThere = async (path: string, title = path): Promise<string | undefined> => {
    const exists = await fsp.stat(isAbsolute(path) ? path : join(root, path)).then((s) => s.isFile(), () => false);
    if (!exists) return undefined;
    const file = await readContextFile(ctx, path);
    if (file.ok) return file.text;
    omitted.push({ title, reason: file.reason });
    return undefined;
  };

  // Files are read in tier order until the text read could no longer fit.
  let readChars = 0;
  const readCap = Math.max(0, request.budget) * CHARS_PER_TOKEN_READ;
  const addFiles = async (paths: readonly string[], tier: 'should' | 'reference') => {
    for (const path of paths) {
      if (seen.has(path)) continue;
      seen.add(path);
      if (readChars > readCap) {
        omitted.push({ title: path, reason: NO_ROOM });
        continue;
      }
      const file = await readContextFile(ctx, path);
      if (!file.ok) {
        omitted.push({ title: file.path, reason: file.reason });
        continue;
      }
      readChars += file.text.length;
      sections.push({ tier, title: file.path, text: file.text, code: true });
    }
  };

  // MUST READ: production.md's constraints.
  const production = full ? await readIfThere('production.md') : undefined;
  const goals = production === undefined ? undefined : parseProduction(production);
  if (goals?.constraints.length) sections.push({ tier: 'must', title: TITLES.constraints, text: constraintsText(goals) });

  // SHOULD KNOW: the handoff digest, the ensemble's summary, the other goals.
  const handoff = full && (tiers.has('should') || tiers.has('reference')) ? await readIfThere(HANDOFF_FILE) : undefined;
  const log = handoff === undefined ? undefined : readHandoff(handoff);
  const keep = request.keep ?? DIGEST_KEEP;
  const older = log ? log.entries.slice(0, Math.max(0, log.entries.length - keep)) : [];
  const history = older.length && tiers.has('reference') ? handoffHistory(older, shareOf(request.budget, HANDOFF_SHARE.history), counter) : '';
  if (log && tiers.has('should')) {
    // When REFERENCE lists every older entry, an overview of them would say it twice.
    const overview = !history || history.includes('\n- …and ') || history.startsWith('- …and ');
    const digest = handoffDigest(log.entries, shareOf(request.budget, HANDOFF_SHARE.digest), { keep, stored: log.digest, overview, counter });
    if (digest) sections.push({ tier: 'should', title: TITLES.handoff, text: digest });
  }
  if (tiers.has('should') && instrument) {
    const abs = join(dirname(instrument.file), 'summary.txt');
    const rel = relative(root, abs).split('\\').join('/');
    const title = TITLES.summary(rel);
    const summary = await readIfThere(rel.startsWith('..') ? abs : rel, title);
    if (summary?.trim()) sections.push({ tier: 'should', title, text: summary.trim() });
  }
  if (tiers.has('should') && goals) {
    const text = goalsText(goals);
    if (text) sections.push({ tier: 'should', title: TITLES.goals, text });
  }

  // SHOULD KNOW: files named in the prompt, then the node's `files`.
  if (tiers.has('should')) {
    const named: string[] = [];
    for (const [, mention] of request.prompt.matchAll(MENTION)) {
      const path = mention!.replace(/^\.\//, '');
      if (!looksLikePath(path) || named.includes(path)) continue;
      if (await fsp.stat(join(root, path)).then((s) => s.isFile(), () => false)) named.push(path);
    }
    await addFiles(named, 'should');
  }
  if (request.files?.length) {
    const paths = await matchingFiles(ctx, request.files);
    if (paths.length === 0) omitted.push({ title: request.files.join(', '), reason: 'no workspace file matches' });
    await addFiles(paths, 'should');
  }

  // REFERENCE IF NEEDED: older handoff entries, the files the instrument handles.
  if (history) sections.push({ tier: 'reference', title: TITLES.olderHandoff, text: history });
  if (tiers.has('reference') && instrument?.handles?.length) {
    let paths: string[] = [];
    try {
      paths = await matchingFiles(ctx, instrument.handles, `${instrument.ref} handles`);
    } catch (e) {
      if (ctx.signal.aborted) throw e;
      // A bad glob in an instrument file is the instrument's problem, not this turn's.
      omitted.push({ title: `${instrument.ref} handles`, reason: e instanceof Error ? e.message : String(e) });
    }
    await addFiles(paths, 'reference');
  }
  return { sections, omitted };
}
