import { stringify } from 'yaml';
import type { YamlPath } from '../load/yamlSource';

/**
 * Writing YAML text for values the board inserts into a user's file. The editor never
 * re-serializes a whole document (that would reflow the user's indentation, comment
 * spacing and flow collections); it writes only the new pieces, in the style of the file
 * around them — its indentation, its sequence indentation, its line endings — and in the
 * compact style people write melodies in: short lists and maps inline (`[a, b]`,
 * `{ max: 3 }`), nodes and long values as blocks.
 */

/** How the file around an edit is written. */
export interface WriteStyle {
  /** Spaces per nesting level. */
  readonly indent: number;
  /** Whether block sequence items sit indented under their key (`key:\n  - a`) or not. */
  readonly indentSeq: boolean;
  readonly eol: '\n' | '\r\n';
  /** Lines longer than this are written as blocks rather than inline. */
  readonly width: number;
  /** Paths whose collections are always written as blocks (a melody's nodes, triggers…). */
  readonly forceBlock: (path: YamlPath) => boolean;
}

/** The style of a file with nothing to learn from. */
export const DEFAULT_STYLE: WriteStyle = { indent: 2, indentSeq: true, eol: '\n', width: 100, forceBlock: () => false };

/** The quoting a scalar was written with, as the `yaml` package names it. */
export type ScalarStyle = 'PLAIN' | 'QUOTE_DOUBLE' | 'QUOTE_SINGLE' | 'BLOCK_LITERAL' | 'BLOCK_FOLDED';

type Plain = Record<string, unknown>;

/** A JSON-like object (not an array, not null). */
export function isPlainObject(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Strings, numbers, booleans and null: what YAML writes as one scalar. */
export function isScalarValue(v: unknown): v is string | number | boolean | null | undefined {
  return v === null || v === undefined || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

const FLOW_INDICATORS = /[,[\]{}]/;

/**
 * Whether `s` can be written without quotes and read back as the same string: the `yaml`
 * package's own judgement (it quotes `true`, `1`, `a: b`, `#x`…), plus flow indicators
 * inside flow collections.
 */
export function plainOk(s: string, flow: boolean): boolean {
  if (s === '' || s !== s.trim() || /[\n\r\t]/.test(s)) return false;
  if (flow && FLOW_INDICATORS.test(s)) return false;
  return stringify(s, { lineWidth: 0 }) === `${s}\n`;
}

const doubleQuoted = (s: string): string => JSON.stringify(s);

/**
 * One scalar on one line. `prefer` keeps the quoting the user chose for the value being
 * replaced; a string that cannot be written that way falls back to double quotes.
 */
export function scalarText(value: unknown, flow: boolean, prefer: ScalarStyle = 'PLAIN'): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return '.nan';
    if (!Number.isFinite(value)) return value > 0 ? '.inf' : '-.inf';
    return String(value);
  }
  if (typeof value !== 'string') return flowText(value);
  if (prefer === 'QUOTE_DOUBLE' || value.includes('\n')) return doubleQuoted(value);
  if (prefer === 'QUOTE_SINGLE') return `'${value.replace(/'/g, "''")}'`;
  return plainOk(value, flow) ? value : doubleQuoted(value);
}

/** A map key: plain when it can be, quoted otherwise. */
export function keyText(key: string): string {
  return plainOk(key, true) ? key : doubleQuoted(key);
}

/** Any value inline, in flow style: `[a, b]`, `{ max: 3, delay: 1s }`, `"text"`. */
export function flowText(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(flowText).join(', ')}]`;
  if (isPlainObject(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    return `{ ${entries.map(([k, v]) => `${keyText(k)}: ${flowText(v)}`).join(', ')} }`;
  }
  return scalarText(value, true);
}

function depth(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depth));
  if (isPlainObject(value)) return 1 + Math.max(0, ...Object.values(value).map(depth));
  return 0;
}

const hasNewline = (value: unknown): boolean =>
  typeof value === 'string' ? value.includes('\n') : Array.isArray(value) ? value.some(hasNewline) : isPlainObject(value) && Object.values(value).some(hasNewline);

const pad = (n: number): string => ' '.repeat(n);

/** How a value is written after `key:` or `-`: on the same line, or as following lines. */
type Form = { inline: string } | { lines: string[] } | { header: string; lines: string[] };

/**
 * A multi-line string as a literal block scalar (`|`), its lines at `column`. The header
 * carries the chomping that gives back the string's trailing newline, or its absence
 * (`|-`); see {@link suitsBlock} for what may be written this way.
 */
export function blockScalar(value: string, column: number, style: WriteStyle): { header: string; lines: string[] } {
  const trailing = value.endsWith('\n') ? 1 : 0;
  const body = value.slice(0, value.length - trailing).split('\n');
  // A first line that starts with spaces would be taken for indentation: say how much there is.
  const indicator = body[0]?.startsWith(' ') ? String(style.indent) : '';
  const lines = body.map((l) => (l === '' ? '' : pad(column) + l));
  return { header: `|${indicator}${trailing ? '' : '-'}`, lines };
}

const BLOCK_SAFE = /^[^\r\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u0085\u2028\u2029\ufeff]*$/;

/**
 * Strings written as literal blocks: several lines with text on them, and nothing a block
 * cannot hold (carriage returns, control characters). Others are double-quoted — so are
 * strings ending in blank lines, which only `|+` keeps, and `|+` would also swallow the
 * blank lines that follow it in the file.
 */
export function suitsBlock(value: string): boolean {
  return value.includes('\n') && value.trim() !== '' && !value.endsWith('\n\n') && BLOCK_SAFE.test(value);
}

/**
 * `column` is the key's or dash's; `item` says the value follows a dash, where a nested
 * block sequence must sit deeper than that dash whatever the file's sequence style.
 */
function form(value: unknown, column: number, startColumn: number, path: YamlPath, style: WriteStyle, item = false): Form {
  if (typeof value === 'string' && suitsBlock(value)) return blockScalar(value, column + style.indent, style);
  if (isScalarValue(value)) return { inline: scalarText(value, false) };
  const empty = Array.isArray(value) ? value.length === 0 : Object.keys(value as Plain).length === 0;
  if (empty) return { inline: Array.isArray(value) ? '[]' : '{}' };
  if (!style.forceBlock(path) && !hasNewline(value) && depth(value) <= 2) {
    const inline = flowText(value);
    if (startColumn + inline.length <= style.width) return { inline };
  }
  if (Array.isArray(value)) {
    const dash = item ? column + 2 : column + (style.indentSeq ? style.indent : 0);
    return { lines: value.flatMap((item, i) => itemLines(item, dash, [...path, i], style)) };
  }
  return { lines: mapLines(value as Plain, column + style.indent, path, style) };
}

/** The lines of a block map's entries, keys at `column`. */
export function mapLines(value: Plain, column: number, path: YamlPath, style: WriteStyle): string[] {
  return Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .flatMap(([k, v]) => pairLines(k, v, column, [...path, k], style));
}

/** `key: value` at `column`, as one line or several. */
export function pairLines(key: string, value: unknown, column: number, path: YamlPath, style: WriteStyle): string[] {
  const head = `${pad(column)}${keyText(key)}:`;
  return joinForm(head, form(value, column, head.length + 1, path, style));
}

/** `- value` with the dash at `column`, as one line or several. */
export function itemLines(value: unknown, column: number, path: YamlPath, style: WriteStyle): string[] {
  const head = `${pad(column)}-`;
  if (isPlainObject(value) && Object.keys(value).length > 0) {
    const f = form(value, column, column + 2, path, style);
    if ('inline' in f) return [`${head} ${f.inline}`];
    // A map in a sequence starts on the dash's line: `- on: save`, then its other keys.
    const lines = mapLines(value, column + 2, path, style);
    lines[0] = `${head} ${lines[0]!.slice(column + 2)}`;
    return lines;
  }
  return joinForm(head, form(value, column, column + 2, path, style, true));
}

function joinForm(head: string, f: Form): string[] {
  if ('inline' in f) return [`${head} ${f.inline}`];
  if ('header' in f) return [`${head} ${f.header}`, ...f.lines];
  return [head, ...f.lines];
}

/**
 * What follows `key:` (or `-`) when an existing value is replaced: ` text` on the same
 * line, or a line break and the block. `column` is the key's (or dash's) column.
 */
export function valueAfter(value: unknown, column: number, startColumn: number, path: YamlPath, style: WriteStyle, item = false): string {
  if (item) {
    const lines = itemLines(value, column, path, style);
    return lines.join(style.eol).slice(column + 1);
  }
  const f = form(value, column, startColumn, path, style);
  if ('inline' in f) return ` ${f.inline}`;
  if ('header' in f) return ` ${f.header}${style.eol}${f.lines.join(style.eol)}`;
  return `${style.eol}${f.lines.join(style.eol)}`;
}

/** A whole document (a melody created from data, e.g. an imported JSON file). */
export function documentText(value: Plain, style: WriteStyle): string {
  return mapLines(value, 0, [], style).join(style.eol) + style.eol;
}
