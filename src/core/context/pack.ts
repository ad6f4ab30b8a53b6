import { err, ok, type Result } from '../model/result';
import { countTokens, truncateToTokens } from '../providers/tokens';

/**
 * Context packing (DESIGN.md §4.5): an instrument's prompt built from three tiers under a
 * token budget measured with the tokenizer the call is counted with.
 *
 *   MUST READ            never dropped; when it alone does not fit, packing fails and the
 *                        caller refuses the call
 *   SHOULD KNOW          packed next, in order
 *   REFERENCE IF NEEDED  packed last, in order
 *
 * A section that does not fit whole is cut on a token boundary when enough room is left
 * for the cut to be useful, else left out; later, smaller sections may still fit. What was
 * cut or left out is listed at the end of the prompt, so the model knows what it did not
 * see — that list's tokens are inside the budget too. Pure and deterministic: the same
 * sections and budget always give the same text.
 */

/** The three tiers, most important first. */
export type Tier = 'must' | 'should' | 'reference';

/** One piece of context. */
export interface PackSection {
  readonly tier: Tier;
  /** Names the section in its heading and in the list of what was left out (one line). */
  readonly title: string;
  readonly text: string;
  /** Higher is packed first within its tier; ties keep the given order. Default 0. */
  readonly priority?: number;
  /**
   * Fence the text as code (workspace files), so that headings and rules inside a file do
   * not read as the prompt's own structure.
   */
  readonly code?: boolean;
}

/** Something the caller already knows is left out (a file the guard refused, a binary file). */
export interface Omission {
  readonly title: string;
  readonly reason: string;
}

/** Counts and cuts text in the tokens of one model. */
export interface TokenCounter {
  count(text: string): number;
  /** The longest prefix of `text` with at most `limit` tokens. */
  truncate(text: string, limit: number): string;
}

/** The tokenizer `callModel` counts a model's calls with (`providers/tokens.ts`). */
export function tokenCounter(modelId?: string): TokenCounter {
  return {
    count: (text) => countTokens(text, modelId),
    truncate: (text, limit) => truncateToTokens(text, limit, modelId),
  };
}

export interface PackOptions {
  /** Tokens the packed text may take, measured on the final text. */
  readonly budget: number;
  /** Default: `tokenCounter()` (o200k_base). */
  readonly counter?: TokenCounter;
  /** Listed as left out after the sections that did not fit. */
  readonly omitted?: readonly Omission[];
  /** A cut keeping fewer tokens of a section than this leaves it out instead. Default MIN_CUT. */
  readonly minCut?: number;
}

/** A section packed only in part. */
export interface CutSection {
  readonly title: string;
  /** Tokens of its text that were kept, and of the whole text. */
  readonly kept: number;
  readonly of: number;
}

/** A section or omission that is not in the prompt. */
export interface LeftOut {
  readonly title: string;
  readonly reason: string;
}

/** The packed prompt and what it holds. */
export interface Packed {
  readonly text: string;
  /** Tokens of `text`, counted whole with the packing counter; never more than `budget`. */
  readonly tokens: number;
  readonly budget: number;
  /** Sections present whole, in prompt order. */
  readonly included: readonly string[];
  readonly cut: readonly CutSection[];
  /** Sections not present at all (for want of room), then the caller's omissions. */
  readonly leftOut: readonly LeftOut[];
}

/** MUST READ alone does not fit: the call must be refused, with this message. */
export interface MustReadTooLarge {
  readonly kind: 'must-read-too-large';
  /** Tokens MUST READ takes (with the note of what is left out, when there is optional context). */
  readonly needed: number;
  readonly budget: number;
  readonly message: string;
}

/** Cuts keeping fewer tokens than this are not worth their heading: the section is left out. */
export const MIN_CUT = 64;
/**
 * Tokens the list of what is left out may take before the fill: 5% of the budget, at least
 * 256 and at most 2,000; names beyond it are counted, not listed. Room the sections leave
 * unused goes to the list afterwards.
 */
export const TRAILER_TOKENS = { share: 0.05, min: 256, max: 2000 } as const;
/** The longest token of o200k_base and cl100k_base, in bytes (so at most this many characters). */
const MAX_TOKEN_CHARS = 128;
/** About what `[cut: N of M tokens]` and the blank line before it take. */
const CUT_MARKER_TOKENS = 12;
/** Why a section that did not fit is left out. */
export const NO_ROOM = 'no room in the budget';

const TIER_HEADINGS: Readonly<Record<Tier, string>> = { must: 'MUST READ', should: 'SHOULD KNOW', reference: 'REFERENCE IF NEEDED' };
const TIERS: readonly Tier[] = ['must', 'should', 'reference'];
const LEFT_OUT_HEADING = '## LEFT OUT';
/** Attempts at filling the room exactly (each measures the whole text once). */
const MAX_ATTEMPTS = 6;

/** How one optional section is placed. */
type Placement = { readonly index: number; readonly body: string; readonly cut?: CutSection };

interface Attempt {
  readonly text: string;
  readonly tokens: number;
  readonly placed: readonly Placement[];
  readonly leftOut: readonly LeftOut[];
}

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim() || '(untitled)';

/** A code fence longer than any run of backticks in the text (CommonMark closes a fence only with one as long). */
function fenced(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}\n${text}${text.endsWith('\n') || text === '' ? '' : '\n'}${fence}`;
}

/** Blocks joined by one blank line, however each block ends. */
function joinBlocks(blocks: readonly string[]): string {
  const parts: string[] = [];
  let before = '';
  for (const block of blocks) {
    if (!block) continue;
    // Judged on the block before, not the text so far: asking a long concatenation how it
    // ends flattens it every time.
    if (parts.length) parts.push(before.endsWith('\n\n') ? '' : before.endsWith('\n') ? '\n' : '\n\n');
    parts.push(block);
    before = block;
  }
  return parts.join('');
}

/** The Markdown of one section. */
function sectionBlock(section: PackSection, body: string, cut?: CutSection): string {
  const shown = section.code ? fenced(body) : body;
  const marker = cut ? `${shown.endsWith('\n') ? '\n' : '\n\n'}[cut: ${cut.kept} of ${cut.of} tokens]` : '';
  return `### ${oneLine(section.title)}\n\n${shown}${marker}`;
}

const tierBlock = (tier: Tier): string => `## ${TIER_HEADINGS[tier]}`;
/** What a block costs in the prompt: itself and the blank line before the next. */
const SEPARATED = (block: string): string => `${block}\n\n`;

/** Sorted by priority (higher first), ties in the given order. */
function ordered(sections: readonly { section: PackSection; index: number }[]) {
  return [...sections].sort((a, b) => (b.section.priority ?? 0) - (a.section.priority ?? 0) || a.index - b.index);
}

/**
 * Packs `sections` into at most `budget` tokens: MUST READ whole, then SHOULD KNOW, then
 * REFERENCE IF NEEDED, each in priority order, with the list of what is missing at the end.
 * Fails only when MUST READ (with that list, if anything optional exists) does not fit.
 */
export function pack(sections: readonly PackSection[], options: PackOptions): Result<Packed, MustReadTooLarge> {
  const counter = options.counter ?? tokenCounter();
  const budget = Math.floor(options.budget);
  const minCut = options.minCut ?? MIN_CUT;
  const omitted = options.omitted ?? [];
  const indexed = sections.map((section, index) => ({ section, index }));
  const must = ordered(indexed.filter((s) => s.section.tier === 'must'));
  const optional = [...ordered(indexed.filter((s) => s.section.tier === 'should')), ...ordered(indexed.filter((s) => s.section.tier === 'reference'))];
  const mustBlocks = must.length ? [tierBlock('must'), ...must.map((s) => sectionBlock(s.section, s.section.text))] : [];
  const mustTitles = must.map((s) => s.section.title);

  const tooLarge = (needed: number): Result<Packed, MustReadTooLarge> =>
    err({
      kind: 'must-read-too-large',
      needed,
      budget,
      message: `MUST READ needs ${needed} tokens and the budget is ${budget}`,
    });

  // Nothing optional: the prompt is MUST READ alone — a lone section as its bare text.
  if (optional.length === 0 && omitted.length === 0) {
    const text = must.length === 1 ? must[0]!.section.text : joinBlocks(mustBlocks);
    const tokens = counter.count(text);
    return tokens > budget ? tooLarge(tokens) : ok({ text, tokens, budget, included: mustTitles, cut: [], leftOut: [] });
  }

  // Counts are taken once, and only for the sections the fill reaches: a workspace of
  // files must not be tokenized whole to fill a small budget.
  const memo = (f: (i: number) => number) => {
    const cache = new Map<number, number>();
    return (i: number): number => {
      let c = cache.get(i);
      if (c === undefined) cache.set(i, (c = f(i)));
      return c;
    };
  };
  // A block costs about its frame (heading, fence, blank lines) plus its text; the whole
  // text is measured at the end anyway.
  const frameOf = memo((i) => counter.count(SEPARATED(sectionBlock(sections[i]!, ''))));
  const textOf = memo((i) => counter.count(sections[i]!.text));
  /**
   * The tokens of a section's text when at most `limit`, else false. No token of the BPE
   * encodings is longer than 128 bytes (so 128 characters), which rules out a text too long
   * to fit without tokenizing it.
   */
  const textWithin = (i: number, limit: number): number | false => {
    if (sections[i]!.text.length > limit * MAX_TOKEN_CHARS) return false;
    return textOf(i) <= limit ? textOf(i) : false;
  };
  const tierCost = new Map(TIERS.map((t) => [t, counter.count(SEPARATED(tierBlock(t)))]));

  /** Optional sections placed greedily into `room` tokens (their blocks' costs add up to at most it). */
  const fill = (room: number): { placed: Placement[]; leftOut: LeftOut[]; used: number } => {
    const placed: Placement[] = [];
    const leftOut: LeftOut[] = [];
    const opened = new Set<Tier>();
    let left = room;
    for (const { section, index } of optional) {
      const heading = opened.has(section.tier) ? 0 : tierCost.get(section.tier)!;
      const frame = heading + frameOf(index);
      if (frame >= left) {
        leftOut.push({ title: section.title, reason: NO_ROOM });
        continue;
      }
      const text = textWithin(index, left - frame);
      if (text !== false) {
        placed.push({ index, body: section.text });
        left -= frame + text;
        opened.add(section.tier);
        continue;
      }
      // Too long to fit whole; a cut is counted only when one could be useful.
      const keep = left - frame - CUT_MARKER_TOKENS;
      if (keep < minCut) {
        leftOut.push({ title: section.title, reason: NO_ROOM });
        continue;
      }
      const of = textOf(index);
      // The cut is taken from a prefix rather than tokenizing a large file whole once more.
      const body = counter.truncate(section.text.slice(0, keep * MAX_TOKEN_CHARS), keep);
      const kept = body ? counter.count(body) : 0;
      if (kept < minCut) {
        leftOut.push({ title: section.title, reason: NO_ROOM });
        continue;
      }
      const cut = { title: section.title, kept, of };
      placed.push({ index, body, cut });
      left -= heading + counter.count(SEPARATED(sectionBlock(section, body, cut)));
      opened.add(section.tier);
    }
    return { placed, leftOut: [...leftOut, ...omitted.map((o) => ({ title: o.title, reason: o.reason }))], used: room - left };
  };

  const assemble = (placed: readonly Placement[], trailer: string): string => {
    const blocks = [...mustBlocks];
    for (const tier of TIERS.slice(1)) {
      const mine = placed.filter((p) => sections[p.index]!.tier === tier);
      if (mine.length) blocks.push(tierBlock(tier), ...mine.map((p) => sectionBlock(sections[p.index]!, p.body, p.cut)));
    }
    if (trailer) blocks.push(trailer);
    return joinBlocks(blocks);
  };

  const trailerOf = (placed: readonly Placement[], leftOut: readonly LeftOut[], allowance: number): string => {
    const cuts = placed.flatMap((p) => (p.cut ? [`- ${oneLine(p.cut.title)} (cut: ${p.cut.kept} of ${p.cut.of} tokens)`] : []));
    const missing = leftOut.map((l) => (l.reason === NO_ROOM ? `- ${oneLine(l.title)}` : `- ${oneLine(l.title)}: ${oneLine(l.reason)}`));
    return renderTrailer([...cuts, ...missing], allowance, counter);
  };

  // The floor: MUST READ and the shortest list of what is left out.
  const everything = fill(-1);
  const floorTrailer = trailerOf([], everything.leftOut, 0);
  const floor = assemble([], floorTrailer);
  const floorTokens = counter.count(floor);
  if (floorTokens > budget) return tooLarge(floorTokens);

  const mustTokens = counter.count(SEPARATED(joinBlocks(mustBlocks)));
  // The longest list there can be: every optional section cut (a cut's line is the longer).
  const everyCut = optional.map(({ section }) => ({ index: -1, body: '', cut: { title: section.title, kept: 99999, of: 99999 } }));
  const share = Math.max(counter.count(floorTrailer), Math.min(TRAILER_TOKENS.max, Math.max(TRAILER_TOKENS.min, Math.floor(budget * TRAILER_TOKENS.share))));
  // Only the part of the longest list that could be within the share needs counting.
  const fullText = trailerOf(everyCut, omitted, Number.POSITIVE_INFINITY).slice(0, (share + 1) * MAX_TOKEN_CHARS);
  const allowance = Math.min(counter.count(fullText), share, budget - mustTokens);

  const measured = (placed: readonly Placement[], leftOut: readonly LeftOut[], trailerTokens: number): Attempt => {
    const trailer = leftOut.length || placed.some((p) => p.cut) ? trailerOf(placed, leftOut, trailerTokens) : '';
    const text = assemble(placed, trailer);
    return { text, tokens: counter.count(text), placed, leftOut };
  };
  const attempt = (room: number): Attempt => {
    const { placed, leftOut } = fill(room);
    return measured(placed, leftOut, allowance);
  };

  // Fill, measure the whole text, and correct: counts of parts need not add up exactly,
  // and the list of what is left out shrinks as more fits.
  let room = budget - mustTokens - allowance;
  // Sections never get more than MUST READ leaves; a room that overflowed is not tried again.
  let ceiling = budget - mustTokens;
  // First settle the room on estimates alone (counts of parts are cached, the list of what
  // is left out is short): each measurement of the whole text tokenizes all of it.
  for (let i = 0; i < 3; i++) {
    const { placed, leftOut, used } = fill(room);
    const trailer = leftOut.length || placed.some((p) => p.cut) ? trailerOf(placed, leftOut, allowance) : '';
    const estimate = mustTokens + used + (trailer ? counter.count(trailer) : 0);
    if (estimate === budget || leftOut.every((l) => l.reason !== NO_ROOM)) break;
    room = Math.min(ceiling, room + budget - estimate);
  }
  let best: Attempt | undefined;
  let previous = '';
  let overflows = 0;
  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    const a = attempt(room);
    if (a.tokens <= budget) {
      if (!best || a.tokens > best.tokens) best = a;
      const complete = !a.leftOut.some((l) => l.reason === NO_ROOM) && !a.placed.some((p) => p.cut);
      if (a.text === previous || complete || budget - a.tokens <= Math.floor(budget * 0.002)) break;
      room = Math.min(ceiling, room + budget - a.tokens);
    } else {
      // Estimates ran short: step back by the overflow, twice as far each time it recurs.
      ceiling = Math.min(ceiling, room - 1);
      room = Math.min(ceiling, room - (a.tokens - budget) * 2 ** overflows++);
    }
    previous = a.text;
  }
  best ??= { text: floor, tokens: floorTokens, placed: [], leftOut: everything.leftOut };
  // Room the sections could not use names more of what is left out.
  if (best.tokens < budget && best.text.includes('\n- …and ')) {
    const longer = measured(best.placed, best.leftOut, allowance + budget - best.tokens);
    if (longer.tokens <= budget) best = longer;
  }

  const cut = best.placed.flatMap((p) => (p.cut ? [p.cut] : []));
  const included = [...mustTitles, ...TIERS.slice(1).flatMap((tier) => best.placed.filter((p) => !p.cut && sections[p.index]!.tier === tier).map((p) => sections[p.index]!.title))];
  return ok({ text: best.text, tokens: best.tokens, budget, included, cut, leftOut: best.leftOut });
}

/**
 * The list of what the prompt does not hold, within `allowance` tokens: as many lines as
 * fit, then how many more there are. With no allowance, only the count.
 */
function renderTrailer(lines: readonly string[], allowance: number, counter: TokenCounter): string {
  if (lines.length === 0) return '';
  // No figures here: what MUST READ needs must not depend on the budget it is checked against.
  const head = `${LEFT_OUT_HEADING}\n\nNot in this prompt, for want of room or for the reason given; ask for what you need:`;
  const render = (n: number) => [head, ...lines.slice(0, n), ...(n < lines.length ? [`- …and ${lines.length - n}${n ? ' more' : ' sections'}`] : [])].join('\n');
  if (allowance === Number.POSITIVE_INFINITY) return render(lines.length);
  // Lines add up nearly exactly (each starts after a newline); the final count decides.
  let n = 0;
  let used = counter.count(render(0));
  while (n < lines.length && used + counter.count(`\n${lines[n]}`) <= allowance) used += counter.count(`\n${lines[n++]}`);
  while (n > 0 && counter.count(render(n)) > allowance) n--;
  return render(n);
}
