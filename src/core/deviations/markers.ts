import { MARKER_OF, SEVERITIES, type DeviationSeverity } from '../model/deviation';
import type { Diagnostic, Range, Severity } from '../model/diagnostic';

/**
 * Deviation markers in source text: `DEVIATION_MINOR:`, `ARCHITECTURAL_MISMATCH:` and
 * `FUNDAMENTAL_BREAK:` written in a comment, the rest of the comment being the message.
 *
 * The scanner knows no language. It recognises a marker that directly follows a comment
 * opener (spaces allowed between), as TODO tools do, so prose that merely mentions a
 * marker ("write `DEVIATION_MINOR:` to…") is not one:
 *
 * - line comments `//` `#` `--` `;` (and their runs: `///`, `##`, `;;`, `//!`, `#!`);
 *   `#` and `--` count only at the start of a line or after a space (not `a#b`, `x--`),
 *   `//` not after `:` (so `http://x` is no comment);
 * - block comments `/* … *\/` and `<!-- … -->`, on their first line or at the start of a
 *   continuation line (after optional `*`); the message ends at the closer;
 * - not inside string literals `"…"`, `'…'` (an apostrophe after a letter, as in `don't`,
 *   opens none) and `` `…` `` (which may span lines: template literals, Markdown code
 *   spans and fences);
 * - files with a NUL byte are binary and skipped (`isBinary`).
 *
 * Not recognised: markers in Python triple-quoted strings are taken as code (a `#` marker
 * inside one is found); nested block comments; a block opened after a `//` or `#` comment
 * on the same line; comment syntaxes not listed above (`%`, `'`, `REM`, `(* *)`).
 */

/** A marker found in text. Positions are 1-based; columns count UTF-16 code units, as editors do. */
export interface Marker {
  readonly line: number;
  /** Column of the marker's first letter. */
  readonly column: number;
  /** Column just after the message (or after the colon when there is no message). */
  readonly endColumn: number;
  readonly severity: DeviationSeverity;
  /** The marker word, e.g. `ARCHITECTURAL_MISMATCH`. */
  readonly marker: string;
  /** The message after the colon, trimmed. */
  readonly text: string;
  /** What to delete to remove the marker: its comment, or its whole line when nothing else is on it. */
  readonly removal: Range;
}

/** Marker word → severity, the inverse of MARKER_OF. */
export const SEVERITY_OF_MARKER: ReadonlyMap<string, DeviationSeverity> = new Map(SEVERITIES.map((s) => [MARKER_OF[s], s]));

const WORDS = SEVERITIES.map((s) => MARKER_OF[s]).join('|');

/** A marker word followed by its colon — what a fast pre-filter (ripgrep) looks for. */
export const MARKER_PATTERN = `(?:${WORDS}):`;

const MARKER_AT = new RegExp(`(${WORDS}):`, 'y');
/** A marker word with its colon anywhere in a line: lines without one hold no marker. */
const MARKER_IN = new RegExp(`(?:${WORDS}):`);
const LINE_BREAK = /\r\n|\r|\n/;
const WORD_CHAR = /[\p{L}\p{N}_]/u;
const SPACE = /\s/;
/** The only characters that can start a string, a comment or a comment opener: the scanner jumps between them. */
const SIGNIFICANT = /["'`/<#;-]/g;
/** The first characters of line-comment openers (`lineOpenerAt`). */
const LINE_OPENER_START = /[/#;-]/g;

/** The diagnostic severity of each marker severity: minor → info, major → warning, fundamental → error. */
export const DIAGNOSTIC_SEVERITY: Readonly<Record<DeviationSeverity, Severity>> = {
  minor: 'info',
  major: 'warning',
  fundamental: 'error',
};

/** True when the bytes hold a NUL: binary files are skipped, as ripgrep and git do. */
export function isBinary(bytes: Uint8Array): boolean {
  return bytes.indexOf(0) >= 0;
}

/** Where the scanner is between lines. */
type Carry = { readonly kind: 'code' } | { readonly kind: 'block'; readonly close: '*/' | '-->' } | { readonly kind: 'template' };

const CODE: Carry = { kind: 'code' };

/** The lines of a text, at `\r\n`, `\r` or `\n`; splitting at a plain `\n` is several times faster than at the pattern. */
function splitLines(text: string): string[] {
  return text.includes('\r') ? text.split(LINE_BREAK) : text.split('\n');
}

/** Scans one file's text for markers, top to bottom. Never throws. */
export function scanText(text: string): Marker[] {
  let first = -1;
  let last = -1;
  for (const word of MARKER_WORDS) {
    const at = text.indexOf(word);
    if (at < 0) continue;
    if (first < 0 || at < first) first = at;
    last = Math.max(last, text.lastIndexOf(word));
  }
  if (first < 0) return [];
  const lines = splitLines(text);
  // No marker can follow the line of the last marker word: the scan stops there.
  const firstLine = lineIndex(text, lines, first, false);
  const lastLine = lineIndex(text, lines, last, true);
  const found: Marker[] = [];
  let carry: Carry = CODE;
  // Lines before the first marker word can only change the state, and only with a backtick
  // or a block opener: without one before it, they all start and end in code.
  const head = text.slice(0, first);
  let i = CARRY_OPENERS.some((opener) => head.includes(opener)) ? 0 : firstLine;
  for (; i < firstLine; i++) if (mayChangeCarry(lines[i]!, carry)) carry = scanLine(lines, i, carry, found);
  for (; i <= lastLine; i++) {
    const line = lines[i]!;
    // Most lines hold no marker word and change no state: they are passed over unread.
    if (MARKER_IN.test(line) || mayChangeCarry(line, carry)) carry = scanLine(lines, i, carry, found);
  }
  return found;
}

/** What can take a line that starts in code out of code (`mayChangeCarry`). */
const CARRY_OPENERS = ['`', '/*', '<!--'];

/**
 * The index of the line holding offset `at` of `text`, whose lines (`splitLines`) are
 * `lines`: counted from the top, or from the bottom for an offset near the end.
 */
function lineIndex(text: string, lines: readonly string[], at: number, fromEnd: boolean): number {
  if (fromEnd) {
    let end = text.length;
    for (let i = lines.length - 1; i > 0; i--) {
      const start = end - lines[i]!.length;
      if (at >= start) return i;
      // The line break before `start`: `\r\n`, or one `\r` or `\n`.
      end = start - (text.charCodeAt(start - 1) === 10 && text.charCodeAt(start - 2) === 13 ? 2 : 1);
    }
    return 0;
  }
  let start = 0;
  for (let i = 0; i < lines.length - 1; i++) {
    const end = start + lines[i]!.length;
    if (at <= end) return i;
    start = end + (text.charCodeAt(end) === 13 && text.charCodeAt(end + 1) === 10 ? 2 : 1);
  }
  return lines.length - 1;
}

/**
 * `scanText` without its shortcuts: every line read in full, to the end of the text. The
 * two agree on every text; the tests hold `scanText` to it.
 */
export function scanEveryLine(text: string): Marker[] {
  const lines = text.split(LINE_BREAK);
  const found: Marker[] = [];
  let carry: Carry = CODE;
  for (let i = 0; i < lines.length; i++) carry = scanLine(lines, i, carry, found);
  return found;
}

/**
 * Whether reading `line` from `carry` could end in another state. When it says no and the
 * line has no marker word, `scanLine` would find nothing and return `carry`: a line from
 * code ends in code unless a backtick or a block opener is on it (an unclosed `"` or `'`
 * ends with the line); a template literal or a block comment goes on until its closer.
 */
function mayChangeCarry(line: string, carry: Carry): boolean {
  switch (carry.kind) {
    case 'code':
      return line.includes('`') || line.includes('/*') || line.includes('<!--');
    case 'template':
      return line.includes('`');
    case 'block':
      return line.includes(carry.close);
  }
}

/** Each marker word with its colon: a text with none of them holds no marker. */
const MARKER_WORDS = [...SEVERITY_OF_MARKER.keys()].map((word) => `${word}:`);

/** Every state a line can start in. */
const CARRIES: readonly Carry[] = [CODE, { kind: 'block', close: '*/' }, { kind: 'block', close: '-->' }, { kind: 'template' }];

/**
 * Whether this line could hold a marker, whatever comes before it in its file. A marker
 * needs its word on its own line, so a file none of whose candidate lines passes this
 * holds no marker, and need not be read: ripgrep's matched lines are enough to tell.
 */
export function couldHoldMarker(line: string): boolean {
  // ripgrep splits lines at "\n" only; a lone "\r" still ends a line for the scanner.
  return splitLines(line).some((part) =>
    CARRIES.some((carry) => {
      const out: Marker[] = [];
      scanLine([part], 0, carry, out);
      return out.length > 0;
    }),
  );
}

/** Reads one line, adding its markers to `out`; returns the state the next line starts in. */
function scanLine(lines: readonly string[], index: number, carry: Carry, out: Marker[]): Carry {
  const line = lines[index]!;
  const at = new LineReader(lines, index, out);
  let i = 0;
  if (carry.kind === 'template') {
    const end = closingQuote(line, 0, '`');
    if (end < 0) return carry;
    i = end + 1;
  } else if (carry.kind === 'block') {
    const close = line.indexOf(carry.close);
    const segment = close < 0 ? line.length : close;
    const lead = carry.close === '*/' ? /^\s*(?:\*+(?!\/)\s*)?/ : /^\s*/;
    const start = lead.exec(line)![0].length;
    if (!at.marker(start, { kind: 'continuation' }, segment)) at.lineCommentsIn(0, segment);
    if (close < 0) return carry;
    i = close + carry.close.length;
  }

  // Once a `//` or `#` comment starts, the rest of the line is comment: quotes and block
  // openers there open nothing, but another opener may still introduce a marker.
  let inLineComment = false;
  while (i < line.length) {
    // Any other character is plain code or comment text, in every state: skipped at once.
    SIGNIFICANT.lastIndex = i;
    if (!SIGNIFICANT.test(line)) break;
    i = SIGNIFICANT.lastIndex - 1;
    const ch = line[i]!;
    if (!inLineComment && (ch === '"' || ch === "'" || ch === '`')) {
      if (ch === "'" && i > 0 && WORD_CHAR.test(line[i - 1]!)) {
        i++;
        continue;
      }
      const end = closingQuote(line, i + 1, ch);
      if (end >= 0) {
        i = end + 1;
        continue;
      }
      // An unclosed `"` or `'` ends with the line; a backtick string goes on.
      return ch === '`' ? { kind: 'template' } : CODE;
    }
    const block = blockOpenerAt(line, i);
    if (block) {
      const after = openerEnd(line, i + block.open.length, block.open === '/*' ? '*!' : '-');
      // The closer may overlap the opener's run (`/**/` is an empty comment).
      const close = line.indexOf(block.close, i + block.open.length);
      const segment = close < 0 ? line.length : close;
      const place = { kind: 'block', opener: i, close: block.close } as const;
      if (inLineComment) {
        // Inside a line comment this opens no block; only a marker right after it counts.
        if (!at.marker(after, place, segment)) i = after;
        else if (close < 0) return CODE;
        else i = close + block.close.length;
        continue;
      }
      if (!at.marker(after, place, segment)) at.lineCommentsIn(after, segment);
      if (close < 0) return { kind: 'block', close: block.close };
      i = close + block.close.length;
      continue;
    }
    const opener = lineOpenerAt(line, i);
    if (opener) {
      const after = openerEnd(line, i + opener.length, opener.extra);
      if (at.marker(after, { kind: 'line', opener: i }, line.length)) return CODE;
      if (opener.definite) inLineComment = true;
      i = after;
      continue;
    }
    i++;
  }
  return CODE;
}

/** The index of the quote closing a string opened before `from`, honouring backslash escapes; -1 when the line ends first. */
function closingQuote(line: string, from: number, quote: string): number {
  for (let j = from; j < line.length; j++) {
    const c = line[j];
    if (c === '\\') j++;
    else if (c === quote) return j;
  }
  return -1;
}

/** Skips a run of `extra` characters after an opener (`///`, `/**`, `<!---`). */
function openerEnd(line: string, from: number, extra: string): number {
  let j = from;
  while (j < line.length && extra.includes(line[j]!)) j++;
  return j;
}

function blockOpenerAt(line: string, i: number): { open: '/*' | '<!--'; close: '*/' | '-->' } | undefined {
  if (line.startsWith('<!--', i)) return { open: '<!--', close: '-->' };
  // `/*` after a word, `*` or `.` is a path or glob (`src/*`, `**/*.ts`, `./*`), not a comment.
  if (line.startsWith('/*', i) && !(i > 0 && /[\p{L}\p{N}_*.]/u.test(line[i - 1]!))) return { open: '/*', close: '*/' };
  return undefined;
}

/**
 * A line-comment opener at `i`. `definite` openers (`//`, `#`) make the rest of the line a
 * comment; `--` and `;` are also operators and statement ends, so after them the scanner
 * keeps reading the line as code.
 */
function lineOpenerAt(line: string, i: number): { length: number; extra: string; definite: boolean } | undefined {
  const ch = line[i];
  const afterSpace = i === 0 || SPACE.test(line[i - 1]!);
  if (ch === '/' && line[i + 1] === '/' && line[i - 1] !== ':') return { length: 2, extra: '/!', definite: true };
  if (ch === '#' && afterSpace) return { length: 1, extra: '#!', definite: true };
  if (ch === '-' && line[i + 1] === '-' && afterSpace) return { length: 2, extra: '-', definite: false };
  if (ch === ';') return { length: 1, extra: ';', definite: false };
  return undefined;
}

/**
 * Where a marker's comment is, for working out what removing it deletes: after a line
 * comment's opener, right after a block comment's opener, or at the start of a block
 * comment's continuation line.
 */
type Place = { readonly kind: 'line'; readonly opener: number } | { readonly kind: 'block'; readonly opener: number; readonly close: string } | { readonly kind: 'continuation' };

/** Recognises markers on one line and records them with their removal range. */
class LineReader {
  private readonly line: string;

  constructor(
    private readonly lines: readonly string[],
    private readonly index: number,
    private readonly out: Marker[],
  ) {
    this.line = lines[index]!;
  }

  /** Records the marker starting at `from` (after spaces) if there is one, its message running to `end`. */
  marker(from: number, place: Place, end: number): boolean {
    const line = this.line;
    let start = from;
    while (start < end && (line[start] === ' ' || line[start] === '\t')) start++;
    MARKER_AT.lastIndex = start;
    const m = MARKER_AT.exec(line);
    if (!m || start + m[0].length > end) return false;
    const word = m[1]!;
    const raw = line.slice(start + m[0].length, end);
    const text = raw.trim();
    const textEnd = text ? start + m[0].length + raw.trimEnd().length : start + m[0].length;
    this.out.push({
      line: this.index + 1,
      column: start + 1,
      endColumn: textEnd + 1,
      severity: SEVERITY_OF_MARKER.get(word)!,
      marker: word,
      text,
      removal: this.removal(start, place, end),
    });
    return true;
  }

  /** A marker after a line-comment opener inside a block comment's text (`/* … # FUNDAMENTAL_BREAK: x`). */
  lineCommentsIn(from: number, end: number): boolean {
    for (let i = from; i < end; i++) {
      LINE_OPENER_START.lastIndex = i;
      if (!LINE_OPENER_START.test(this.line)) return false;
      i = LINE_OPENER_START.lastIndex - 1;
      if (i >= end) return false;
      const opener = lineOpenerAt(this.line, i);
      if (opener && this.marker(openerEnd(this.line, i + opener.length, opener.extra), { kind: 'line', opener: i }, end)) return true;
    }
    return false;
  }

  /**
   * What to delete to remove the marker at `start` whose message ends at `end`: its
   * comment and the spaces before it, or the whole line when nothing else is on it. A
   * block comment's opener or closer on another line is kept, so the code stays valid.
   */
  private removal(start: number, place: Place, end: number): Range {
    const line = this.line;
    let cutStart: number;
    let cutEnd: number;
    if (place.kind === 'continuation') {
      cutStart = line.length - line.trimStart().length;
      cutEnd = end;
    } else if (place.kind === 'block' && end === line.length) {
      // The block goes on below: keep its opener and take only the marker's words.
      return this.cut(start, end);
    } else {
      cutStart = line.slice(0, place.opener).trimEnd().length;
      cutEnd = place.kind === 'block' ? end + place.close.length : end;
    }
    if (line.slice(0, cutStart).trim() === '' && line.slice(cutEnd).trim() === '') return this.wholeLine();
    return this.cut(cutStart, cutEnd);
  }

  private cut(from: number, to: number): Range {
    const n = this.index + 1;
    return { start: { line: n, column: from + 1 }, end: { line: n, column: to + 1 } };
  }

  private wholeLine(): Range {
    const n = this.index + 1;
    if (n < this.lines.length) return { start: { line: n, column: 1 }, end: { line: n + 1, column: 1 } };
    // The last line has no line break after it: take the one before it instead.
    if (n > 1) return { start: { line: n - 1, column: this.lines[n - 2]!.length + 1 }, end: { line: n, column: this.line.length + 1 } };
    return this.cut(0, this.line.length);
  }
}

/** A marker as a core diagnostic: it shows in the Problems panel and prints as `file:line:col`. */
export function markerDiagnostic(file: string, m: Marker, note?: string): Diagnostic {
  return {
    file,
    range: { start: { line: m.line, column: m.column }, end: { line: m.line, column: m.endColumn } },
    severity: DIAGNOSTIC_SEVERITY[m.severity],
    code: 'deviation-marker',
    message: `${m.marker}: ${m.text || '(no description)'}${note ? ` ${note}` : ''}`,
  };
}
