import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node, type Pair, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { err, ok, type Result } from '../model/result';
import { YamlSource, type YamlPath } from '../load/yamlSource';
import type { TextEdit } from './textEdit';
import { normalizeEdits } from './textEdit';
import { blockScalar, DEFAULT_STYLE, flowText, isPlainObject, isScalarValue, itemLines, keyText, pairLines, scalarText, suitsBlock, valueAfter, type ScalarStyle, type WriteStyle } from './yamlText';

/**
 * Minimal, comment-preserving edits of a YAML file. The caller says what the data should
 * become; `patchYaml` compares it with what the file holds and writes text edits for the
 * differences only — a changed scalar is replaced where it stands (in its quoting style),
 * a new key is inserted as a line in the style of its neighbours, a removed entry takes
 * its lines (and the comment lines right above it) with it. Everything else, comments,
 * blank lines, flow or block style, stays byte for byte.
 */

/** A map key renamed in place (so the entry keeps its position and comments). */
export interface KeyRename {
  /** Path of the map holding the key. */
  readonly map: YamlPath;
  readonly from: string;
  readonly to: string;
}

/** A YAML file parsed for editing. */
export interface ParsedYaml {
  readonly text: string;
  readonly doc: Document.Parsed;
  /** The document as plain data (what the edit operations transform). */
  readonly data: unknown;
}

/** Parses YAML for editing; refuses a file with syntax errors (there is no safe edit of it). */
export function parseForEdit(text: string): Result<ParsedYaml, string> {
  // The loader's parse: within its size and nesting limits, duplicate keys found in one pass
  // (the `yaml` package's own check is quadratic in the keys of a map — of a big melody's nodes).
  const { doc, refused } = new YamlSource('', text);
  const first = refused?.message ?? doc.errors[0]?.message;
  if (first) return err(`the YAML has errors; fix them in the text editor first (${first.split('\n')[0]})`);
  try {
    return ok({ text, doc, data: doc.toJS({ maxAliasCount: 1000 }) as unknown });
  } catch (e) {
    return err(`the YAML cannot be read: ${(e as Error).message}`);
  }
}

/** The style of an existing file: its indentation, sequence indentation and line endings. */
export function detectStyle(parsed: ParsedYaml, forceBlock: (path: YamlPath) => boolean = () => false): WriteStyle {
  const { text, doc } = parsed;
  let indent: number | undefined;
  let indentSeq: boolean | undefined;
  const visit = (node: unknown): void => {
    if ((indent !== undefined && indentSeq !== undefined) || !isMap(node) || node.flow) return;
    for (const pair of node.items) {
      if (!isScalar(pair.key) || !pair.key.range) continue;
      const keyColumn = columnOf(text, pair.key.range[0]);
      const v = pair.value;
      if (isMap(v) && !v.flow && v.range) {
        const childColumn = columnOf(text, v.range[0]);
        if (childColumn > keyColumn) indent ??= childColumn - keyColumn;
        visit(v);
      } else if (isSeq(v) && !v.flow && v.range) {
        // A block sequence's range starts at its first dash.
        indentSeq ??= columnOf(text, v.range[0]) > keyColumn;
      }
    }
  };
  visit(doc.contents);
  return {
    ...DEFAULT_STYLE,
    indent: indent && indent <= 8 ? indent : DEFAULT_STYLE.indent,
    indentSeq: indentSeq ?? DEFAULT_STYLE.indentSeq,
    eol: text.includes('\r\n') ? '\r\n' : '\n',
    forceBlock,
  };
}

/** Options of {@link patchYaml}. */
export interface PatchOptions {
  readonly renames?: readonly KeyRename[];
  /** Paths ('*' matches any key) whose new collections are always written as blocks. */
  readonly forceBlock?: (path: YamlPath) => boolean;
}

/**
 * The edits that turn `parsed` into a file holding `next`. Keys of `next` keep the order
 * of the file; new keys go after the key that precedes them in `next` (or first).
 */
export function patchYaml(parsed: ParsedYaml, next: unknown, options: PatchOptions = {}): Result<TextEdit[], string> {
  try {
    const patcher = new Patcher(parsed, detectStyle(parsed, options.forceBlock), options.renames ?? []);
    const root = parsed.doc.contents;
    if (!isMap(root) || !isPlainObject(next)) return err('the file is not a YAML map');
    patcher.diff(root, parsed.data, next, [], { kind: 'root' });
    return ok(normalizeEdits(patcher.edits));
  } catch (e) {
    return err(`the edit could not be written: ${(e as Error).message}`);
  }
}

/** Where a value stands, which decides how it may be rewritten. */
type Parent =
  | { readonly kind: 'root' }
  | { readonly kind: 'flow' }
  | { readonly kind: 'pair'; readonly pair: Pair }
  | { readonly kind: 'item'; readonly node: Node };

/** The 0-based column of `offset` on its line. */
export function columnOf(text: string, offset: number): number {
  return offset - lineStart(text, offset);
}

/** The offset where the line holding `offset` starts. */
export function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/**
 * The offset just after the line break that ends the line holding `offset`, provided
 * the rest of that line is blank or a comment; `offset` itself otherwise.
 */
export function lineEndAfter(text: string, offset: number): number {
  let i = offset;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r')) i++;
  if (text[i] === '#') while (i < text.length && text[i] !== '\n') i++;
  if (i >= text.length) return text.length;
  return text[i] === '\n' ? i + 1 : offset;
}

/**
 * Where the value of a map entry is written: for a block map, the lines under the key
 * (from the line after it, so a comment on the key's line stays); otherwise the value
 * itself. `column` is the indentation of those lines.
 */
export function entryBody(text: string, pair: Pair): { start: number; end: number; column: number; block: boolean } {
  const key = pair.key as Node;
  const colon = text.indexOf(':', key.range![1]);
  const value = pair.value as Node | null;
  const hasValue = !!value?.range && value.range[0] !== value.range[1];
  if (!hasValue) return { start: colon + 1, end: colon + 1, column: columnOf(text, key.range![0]) + 2, block: false };
  if (isMap(value) && !value.flow) return { start: lineEndAfter(text, colon + 1), end: contentEnd(text, value), column: columnOf(text, value.range![0]), block: true };
  return { start: value!.range![0], end: contentEnd(text, value), column: 0, block: false };
}

const isBlockScalar = (n: Scalar): boolean => n.type === 'BLOCK_LITERAL' || n.type === 'BLOCK_FOLDED';

/** The offset just after the last character of a value's content (not its trailing comments). */
export function contentEnd(text: string, node: unknown): number {
  if (isScalar(node) && node.range) {
    let end = node.range[1];
    if (isBlockScalar(node)) while (end > node.range[0] && /\s/.test(text[end - 1]!)) end--;
    return end;
  }
  if ((isMap(node) || isSeq(node)) && node.range) {
    if (node.flow) return node.range[1];
    const last = node.items[node.items.length - 1];
    if (isPair(last)) {
      const v = last.value;
      if (isScalar(v) && v.range && v.range[0] === v.range[1]) return (last.key as Node).range![1];
      return v ? contentEnd(text, v) : (last.key as Node).range![1];
    }
    if (last) return contentEnd(text, last);
    return node.range[1];
  }
  if (isAlias(node) && node.range) return node.range[1];
  throw new Error('a value without a source position');
}

/** The dash of a block sequence item: the `-` before `item` on its line. */
function dashOf(text: string, item: Node): number {
  let i = item.range![0] - 1;
  while (i >= 0 && text[i] !== '-') i--;
  return i;
}

/** Comment lines right above `offset`'s line, at exactly `column`: they describe what follows. */
function withCommentsAbove(text: string, lineAt: number, column: number): number {
  let start = lineAt;
  for (;;) {
    if (start === 0) return start;
    const prev = lineStart(text, start - 1);
    const line = text.slice(prev, start).replace(/\r?\n$/, '');
    if (line.length > column && line.slice(0, column).trim() === '' && line[column] === '#') start = prev;
    else return start;
  }
}

const pathMatches = (pattern: YamlPath, path: YamlPath): boolean =>
  pattern.length === path.length && pattern.every((p, i) => p === '*' || p === path[i]);

/** A matcher for `forceBlock` from path patterns such as `['nodes', '*']`. */
export function blockPaths(patterns: readonly YamlPath[]): (path: YamlPath) => boolean {
  return (path) => patterns.some((p) => pathMatches(p, path));
}

/** Equality of plain data, where a key set to `undefined` counts as absent (as in YAML). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

class Patcher {
  readonly edits: TextEdit[] = [];
  private readonly text: string;

  constructor(
    parsed: ParsedYaml,
    private readonly style: WriteStyle,
    private readonly renames: readonly KeyRename[],
  ) {
    this.text = parsed.text;
  }

  private edit(start: number, end: number, text: string): void {
    this.edits.push({ start, end, text });
  }

  diff(node: unknown, old: unknown, next: unknown, path: YamlPath, parent: Parent): void {
    if (deepEqual(old, next)) return;
    // An empty `{}` or `[]` has no formatting to keep: write the new value in the file's style.
    if ((isMap(node) || isSeq(node)) && node.flow && node.items.length === 0 && parent.kind !== 'flow') return this.replaceValue(node, next, path, parent);
    if (isMap(node) && isPlainObject(next) && isPlainObject(old) && Object.keys(next).length > 0) return this.diffMap(node, old, next, path, parent);
    if (isSeq(node) && Array.isArray(next) && Array.isArray(old) && next.length > 0) return this.diffSeq(node, old, next, path);
    if (isScalar(node) && isScalarValue(next) && node.range && node.range[0] !== node.range[1] && this.replaceScalar(node, next, parent)) return;
    this.replaceValue(node, next, path, parent);
  }

  private replaceScalar(node: Scalar, next: unknown, parent: Parent): boolean {
    const [start, end] = node.range!;
    const flow = parent.kind === 'flow';
    if (isBlockScalar(node)) {
      if (typeof next !== 'string' || !suitsBlock(next)) return false;
      const firstContent = this.text.indexOf('\n', start) + 1;
      const column = firstContent > 0 ? this.text.slice(firstContent).search(/\S/) : this.style.indent;
      const block = blockScalar(next, Math.max(1, column), this.style);
      const tail = /\r?\n$/.test(this.text.slice(start, end)) ? this.style.eol : '';
      // What follows the indicator on the header line (a comment) stays.
      const header = /^[|>][-+0-9]*([^\r\n]*)/.exec(this.text.slice(start))?.[1] ?? '';
      this.edit(start, end, [block.header + header, ...block.lines].join(this.style.eol) + tail);
      return true;
    }
    if (typeof next === 'string' && suitsBlock(next) && !flow && node.type !== 'QUOTE_DOUBLE') return false;
    this.edit(start, end, scalarText(next, flow, (node.type ?? 'PLAIN') as ScalarStyle));
    return true;
  }

  /** Rewrites a whole value where it stands. */
  private replaceValue(node: unknown, next: unknown, path: YamlPath, parent: Parent): void {
    const { text, style } = this;
    switch (parent.kind) {
      case 'flow': {
        const n = node as Node;
        this.edit(n.range![0], n.range![1], flowText(next));
        return;
      }
      case 'pair': {
        const key = parent.pair.key as Node;
        const colon = text.indexOf(':', key.range![1]);
        const keyColumn = columnOf(text, key.range![0]);
        const hasValue = isNode(node) && node.range && node.range[0] !== node.range[1];
        const end = hasValue ? contentEnd(text, node) : colon + 1;
        this.replaceKeepingComment(colon + 1, end, valueAfter(next, keyColumn, colon - lineStart(text, colon) + 2, path, style));
        return;
      }
      case 'item': {
        const dash = dashOf(text, parent.node);
        this.replaceKeepingComment(dash + 1, contentEnd(text, node), valueAfter(next, columnOf(text, dash), 0, path, style, true));
        return;
      }
      case 'root':
        throw new Error('the document itself cannot be replaced');
    }
  }

  /**
   * Replaces `[start, end)` with `replacement`. A comment after the old value on its line
   * would end up inside a new multi-line value (in a block scalar it would become text):
   * it moves to the end of the replacement's first line instead.
   */
  private replaceKeepingComment(start: number, end: number, replacement: string): void {
    const { text, style } = this;
    const comment = /^[ \t]+#[^\r\n]*/.exec(text.slice(end))?.[0];
    const firstBreak = replacement.indexOf(style.eol);
    if (!comment || firstBreak < 0) return this.edit(start, end, replacement);
    this.edit(start, end + comment.length, replacement.slice(0, firstBreak) + comment + replacement.slice(firstBreak));
  }

  private diffMap(map: YAMLMap, old: Record<string, unknown>, next: Record<string, unknown>, path: YamlPath, parent: Parent): void {
    const pairs = map.items.filter((p) => isScalar(p.key) && p.key.range) as Pair<Scalar, unknown>[];
    const targets: string[] = [];
    const deleted: number[] = [];
    pairs.forEach((pair, i) => {
      const key = String(pair.key.value);
      const rename = this.renames.find((r) => r.from === key && pathMatches(r.map, path));
      const target = rename?.to ?? key;
      targets.push(target);
      if (!Object.hasOwn(next, target) || next[target] === undefined) {
        deleted.push(i);
        return;
      }
      if (rename) this.edit(pair.key.range![0], pair.key.range![1], keyText(rename.to));
      const parent: Parent = map.flow ? { kind: 'flow' } : { kind: 'pair', pair };
      this.diff(pair.value, old[key], next[target], [...path, target], parent);
    });
    const added = Object.keys(next).filter((k) => next[k] !== undefined && !targets.includes(k));
    if (map.flow && (added.length > 0 || deleted.length > 0)) return this.rebuildFlowMap(map, pairs, targets, old, next);
    if (deleted.length === pairs.length && parent.kind !== 'root') {
      // Nothing of the old map survives: write the new one in its place.
      this.dropEditsWithin(map);
      return this.replaceValue(map, next, path, parent);
    }
    for (const i of deleted) this.deletePair(pairs, i);
    // New keys go after the key that precedes them in `next`, grouped by that anchor.
    const order = Object.keys(next);
    const groups = new Map<number, string[]>();
    for (const k of added) {
      let anchor = -1;
      for (let j = order.indexOf(k) - 1; j >= 0; j--) {
        const at = targets.indexOf(order[j]!);
        if (at >= 0 && !deleted.includes(at)) {
          anchor = at;
          break;
        }
      }
      if (anchor < 0 && order.indexOf(k) > 0) anchor = pairs.length - 1;
      groups.set(anchor, [...(groups.get(anchor) ?? []), k]);
    }
    for (const [anchor, keys] of groups) this.insertPairs(pairs, anchor, keys, next, path);
  }

  private insertPairs(pairs: Pair<Scalar, unknown>[], anchor: number, keys: string[], next: Record<string, unknown>, path: YamlPath): void {
    const { text, style } = this;
    const ref = pairs[Math.max(0, anchor)]!;
    const column = columnOf(text, ref.key.range![0]);
    const lines = keys.flatMap((k) => pairLines(k, next[k], column, [...path, k], style));
    if (anchor >= 0) {
      const at = lineEndAfter(text, this.pairEnd(ref));
      const lead = at === text.length && !text.endsWith('\n') ? style.eol : '';
      this.edit(at, at, lead + lines.join(style.eol) + (lead ? '' : style.eol));
      return;
    }
    // Before the first key. When that key shares its line with a dash (`- on: save`), the
    // new key takes its place after the dash and the old one moves to its own line.
    const keyStart = ref.key.range![0];
    const before = text.slice(lineStart(text, keyStart), keyStart);
    if (before.trim() !== '') {
      this.edit(keyStart, keyStart, lines.join(style.eol).slice(column) + style.eol + ' '.repeat(column));
    } else {
      const at = withCommentsAbove(text, lineStart(text, keyStart), column);
      this.edit(at, at, lines.join(style.eol) + style.eol);
    }
  }

  private pairEnd(pair: Pair<Scalar, unknown>): number {
    const v = pair.value;
    if (isNode(v) && v.range && v.range[0] !== v.range[1]) return contentEnd(this.text, v);
    return this.text.indexOf(':', pair.key.range![1]) + 1;
  }

  private deletePair(pairs: Pair<Scalar, unknown>[], i: number): void {
    const { text } = this;
    const pair = pairs[i]!;
    const keyStart = pair.key.range![0];
    const lineAt = lineStart(text, keyStart);
    const following = pairs[i + 1];
    if (text.slice(lineAt, keyStart).trim() !== '' && following) {
      // The first key of a map in a sequence (`- on: save`): the next key moves up after the dash.
      this.edit(keyStart, following.key.range![0], '');
      return;
    }
    this.edit(withCommentsAbove(text, lineAt, columnOf(text, keyStart)), lineEndAfter(text, this.pairEnd(pair)), '');
  }

  /** A flow map that gains or loses keys is rewritten, keeping the text of unchanged entries. */
  private rebuildFlowMap(map: YAMLMap, pairs: Pair<Scalar, unknown>[], targets: string[], old: Record<string, unknown>, next: Record<string, unknown>): void {
    const { text } = this;
    const parts = Object.keys(next)
      .filter((k) => next[k] !== undefined)
      .map((k) => {
        const pair = pairs[targets.indexOf(k)];
        const same = pair && String(pair.key.value) === k && isNode(pair.value) && pair.value.range && deepEqual(old[k], next[k]);
        return same ? text.slice(pair.key.range![0], (pair.value as Node).range![1]) : `${keyText(k)}: ${flowText(next[k])}`;
      });
    this.dropEditsWithin(map);
    const padded = text[map.range![0] + 1] === ' ' || pairs.length === 0;
    this.edit(map.range![0], map.range![1], parts.length === 0 ? '{}' : padded ? `{ ${parts.join(', ')} }` : `{${parts.join(', ')}}`);
  }

  /** Edits already made inside a collection that is now rewritten whole. */
  private dropEditsWithin(node: Node): void {
    const [start, end] = [node.range![0], contentEnd(this.text, node)];
    const keep = this.edits.filter((e) => e.end <= start || e.start >= end);
    this.edits.splice(0, this.edits.length, ...keep);
  }

  private diffSeq(seq: YAMLSeq, old: unknown[], next: unknown[], path: YamlPath): void {
    const items = seq.items as Node[];
    if (seq.flow) {
      if (old.length === next.length) {
        items.forEach((item, i) => this.diff(item, old[i], next[i], [...path, i], { kind: 'flow' }));
        return;
      }
      return this.rebuildFlowSeq(seq, old, next);
    }
    // Longest common subsequence of equal items; what lies between is changed in place,
    // deleted or inserted.
    const matches = lcs(old, next);
    matches.push([old.length, next.length]);
    let po = -1;
    let pn = -1;
    for (const [mo, mn] of matches) {
      const olds = range(po + 1, mo);
      const news = range(pn + 1, mn);
      const common = Math.min(olds.length, news.length);
      for (let t = 0; t < common; t++) {
        const item = items[olds[t]!]!;
        this.diff(item, old[olds[t]!], next[news[t]!], [...path, news[t]!], { kind: 'item', node: item });
      }
      for (const o of olds.slice(common)) this.deleteItem(items, o);
      const inserted = news.slice(common);
      if (inserted.length) this.insertItems(items, common > 0 ? olds[common - 1]! : po, inserted.map((n) => next[n]), path, inserted[0]!);
      po = mo;
      pn = mn;
    }
  }

  private insertItems(items: Node[], after: number, values: unknown[], path: YamlPath, firstIndex: number): void {
    const { text, style } = this;
    const ref = items[Math.max(0, after)]!;
    const dash = dashOf(text, ref);
    const column = columnOf(text, dash);
    const lines = values.flatMap((v, i) => itemLines(v, column, [...path, firstIndex + i], style));
    if (after >= 0) {
      const at = lineEndAfter(text, contentEnd(text, ref));
      const lead = at === text.length && !text.endsWith('\n') ? style.eol : '';
      this.edit(at, at, lead + lines.join(style.eol) + (lead ? '' : style.eol));
    } else {
      const at = withCommentsAbove(text, lineStart(text, dash), column);
      this.edit(at, at, lines.join(style.eol) + style.eol);
    }
  }

  private deleteItem(items: Node[], i: number): void {
    const { text } = this;
    const item = items[i]!;
    const dash = dashOf(text, item);
    const lineAt = lineStart(text, dash);
    const end = lineEndAfter(text, contentEnd(text, item));
    this.edit(withCommentsAbove(text, lineAt, columnOf(text, dash)), end, '');
  }

  private rebuildFlowSeq(seq: YAMLSeq, old: unknown[], next: unknown[]): void {
    const { text } = this;
    const items = seq.items as Node[];
    const used = new Set<number>();
    const parts = next.map((v) => {
      const i = old.findIndex((o, j) => !used.has(j) && deepEqual(o, v));
      if (i >= 0 && items[i]?.range) {
        used.add(i);
        return text.slice(items[i].range[0], items[i].range[1]);
      }
      return flowText(v);
    });
    const padded = text[seq.range![0] + 1] === ' ' && items.length > 0;
    this.edit(seq.range![0], seq.range![1], parts.length === 0 ? '[]' : padded ? `[ ${parts.join(', ')} ]` : `[${parts.join(', ')}]`);
  }
}

function isNode(v: unknown): v is Node {
  return isScalar(v) || isMap(v) || isSeq(v) || isAlias(v);
}

const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

/** Index pairs of a longest common subsequence of deep-equal items. */
function lcs(a: readonly unknown[], b: readonly unknown[]): [number, number][] {
  if (a.length * b.length > 250_000) return [];
  const dp: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      dp[i]![j] = deepEqual(a[i], b[j]) ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
    }
  }
  const out: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (deepEqual(a[i], b[j])) {
      out.push([i++, j++]);
    } else if (dp[i + 1]![j]! >= dp[i]![j + 1]!) i++;
    else j++;
  }
  return out;
}
