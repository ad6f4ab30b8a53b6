/**
 * Extractive summaries: the sentences of a text that carry its most frequent content
 * words, in their original order. Used when no model is at hand (a `summarize` node
 * without an instrument, an ensemble's `summary.txt` in a workspace with no provider).
 * Deterministic: the same text always gives the same summary.
 */

/**
 * Words whose period does not end a sentence. Lower case, without the final period;
 * multi-dot forms (e.g., i.e.) are matched as written.
 */
const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'vs', 'cf', 'al', 'approx', 'dept', 'est', 'fig', 'figs',
  'no', 'nos', 'vol', 'p', 'pp', 'ch', 'sec', 'eq', 'ref', 'inc', 'ltd', 'co', 'corp', 'jan', 'feb', 'mar', 'apr',
  'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec', 'e.g', 'i.e', 'a.m', 'p.m', 'u.s', 'u.k', 'ph.d', 'resp',
]);

/** Function words that say nothing about what a text is about. */
const STOPWORDS = new Set(
  (
    'a about above after again against all also am an and any are as at be because been before being below between both but by ' +
    'can could did do does doing down during each either else even ever every few for from further had has have having he her ' +
    'here hers herself him himself his how however i if in into is it its itself just let like may me might more most must my ' +
    'myself neither no nor not now of off often on once only or other our ours ourselves out over own per quite rather same ' +
    'shall she should since so some such than that the their theirs them themselves then there these they this those though ' +
    'through thus to too under until up upon us very was we were what when where whether which while who whom whose why will ' +
    'with within without would yet you your yours yourself yourselves s t d ll m re ve one two many much well still already'
  ).split(' '),
);

// Typographic characters in the patterns below (a bullet, an ellipsis, curly quotes) are
// written as \u escapes: esbuild leaves regular expressions as written, and the CLI's bundle
// must stay ASCII (scripts/cliBundle.mjs).

/** A line that starts a block of its own: a list item, a heading, a quote, a table row. */
const BLOCK_START = /^\s*(?:[-*+\u2022]|\d{1,3}[.)]|#{1,6}|>|\|)\s+/;
/** Sentence-ending punctuation, closing quotes/brackets after it, then the space before the next. */
const SENTENCE_END = /([.!?\u2026]+)(["'\u2019\u201d)\]]*)(\s+)/g;
/** Candidates shorter than this (headings, fragments) are chosen only when nothing longer is left. */
const MIN_WORDS = 4;

/**
 * The `maxSentences` sentences of `text` that best represent it, in their original order,
 * joined with spaces. Sentences are scored by the normalized frequency of their content
 * words (stopwords excluded), divided by the square root of their length so that neither
 * fragments nor run-on sentences win by size alone; ties go to the earlier sentence.
 */
export function extractiveSummary(text: string, maxSentences = 3): string {
  const sentences = splitSentences(text);
  const limit = Math.max(0, Math.floor(maxSentences));
  if (sentences.length <= limit) return sentences.join(' ');

  const words = sentences.map(contentWords);
  const counts = new Map<string, number>();
  for (const w of words.flat()) counts.set(w, (counts.get(w) ?? 0) + 1);
  const top = Math.max(1, ...counts.values());
  const scored = sentences.map((sentence, index) => {
    const terms = words[index]!;
    const weight = terms.reduce((sum, w) => sum + counts.get(w)! / top, 0);
    const length = sentence.split(/\s+/).length;
    return { index, long: length >= MIN_WORDS, score: terms.length ? weight / Math.sqrt(terms.length) : 0 };
  });
  const chosen = scored
    .sort((a, b) => Number(b.long) - Number(a.long) || b.score - a.score || a.index - b.index)
    .slice(0, limit)
    .map((s) => s.index)
    .sort((a, b) => a - b);
  return chosen.map((i) => sentences[i]).join(' ');
}

/**
 * Splits text into sentences. Blank lines and block starts (list items, headings) always
 * break; a single newline inside a paragraph is just wrapping. Inside a block, a sentence
 * ends at `.`, `!` or `?` followed by space and a capital, digit or quote — unless the word
 * before the period is an abbreviation or a lone initial ("J. Smith").
 */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  for (const block of blocks(text)) {
    let start = 0;
    for (const m of block.matchAll(SENTENCE_END)) {
      const end = m.index + m[1]!.length + m[2]!.length;
      const next = block.slice(m.index + m[0].length);
      if (!/^["'\u2018\u201c(\[]?[\p{Lu}\p{N}]/u.test(next)) continue;
      if (m[1] === '.' && !m[2] && isAbbreviation(block.slice(start, m.index))) continue;
      out.push(block.slice(start, end).trim());
      start = m.index + m[0].length;
    }
    out.push(block.slice(start).trim());
  }
  return out.filter((s) => /[\p{L}\p{N}]/u.test(s));
}

/** Paragraphs and list items, each with its markers stripped and its whitespace folded. */
function blocks(text: string): string[] {
  const out: string[] = [];
  let current: string[] = [];
  const flush = () => {
    if (current.length) out.push(current.join(' ').replace(/\s+/g, ' ').trim());
    current = [];
  };
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (line.trim() === '' || /^\s*(?:```|~~~|---+\s*$|\*\*\*+\s*$)/.test(line)) {
      flush();
      continue;
    }
    if (BLOCK_START.test(line)) flush();
    current.push(line.replace(BLOCK_START, '').trim());
  }
  flush();
  return out;
}

/** Whether the text before a period ends in an abbreviation or an initial. */
function isAbbreviation(before: string): boolean {
  const word = /(\S+)$/.exec(before)?.[1]?.replace(/^["'\u2018\u201c(\[]+/, '') ?? '';
  if (/^\p{Lu}$/u.test(word)) return true; // an initial: "J. R. R. Tolkien"
  return ABBREVIATIONS.has(word.toLowerCase());
}

/** Lower-cased words that are not stopwords or bare numbers; possessive 's dropped. */
function contentWords(sentence: string): string[] {
  return (sentence.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'\u2019-]*/gu) ?? [])
    .map((w) => w.replace(/['\u2019]s$/, '').replace(/['\u2019-]+$/, ''))
    .filter((w) => w.length > 1 && !STOPWORDS.has(w) && !/^\d+$/.test(w));
}
