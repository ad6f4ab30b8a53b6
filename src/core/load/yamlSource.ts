import { basename } from 'node:path';
import { Composer, isAlias, isMap, isNode, isPair, isScalar, isSeq, Lexer, LineCounter, parseDocument, Parser, YAMLParseError, type Document, type Node } from 'yaml';
import type { Diagnostic, DiagnosticCode, Range, Severity } from '../model/diagnostic';
import { fastYamlMap } from './fastYaml';
import { describeCharacter, firstForbiddenCharacter, MAX_YAML_BYTES, MAX_YAML_DEPTH, megabytes } from './limits';

/** A path into a YAML document: map keys and sequence indexes. */
export type YamlPath = readonly (string | number)[];

/**
 * A parsed YAML file that remembers where everything came from, so every problem found
 * later — by the schema, the graph or the expression checker — can point at the exact key
 * or value the user wrote.
 */
export class YamlSource {
  private parsed?: { doc: Document.Parsed; refused?: Diagnostic; hasProtoKey: boolean; plainData: boolean };
  private readonly early?: Diagnostic;
  private readonly lineCounter = new LineCounter();
  /** Whether `lineCounter` holds the lines positions may be asked for (it is filled while parsing). */
  private linesCounted = false;
  /**
   * The file's data, when it was asked for (`{ data: true }`) and read on the quick path
   * (`fastYamlMap`): a map, with nothing the `yaml` package would report. The YAML Document is
   * then built only when something needs a position (or the document itself).
   */
  readonly data?: Record<string, unknown>;

  /**
   * `noun` says what the file is in messages about limits: "a melody may be at most 5 MB".
   * With `data: true`, the data is read on the quick path when the file allows it (see `data`).
   */
  constructor(
    readonly file: string,
    readonly text: string,
    private readonly noun = 'a YAML file',
    options: { data?: boolean } = {},
  ) {
    // Checked before anything is parsed: the byte count only when the length leaves doubt.
    const bytes = text.length * 3 <= MAX_YAML_BYTES ? text.length : Buffer.byteLength(text, 'utf8');
    const forbidden = bytes > MAX_YAML_BYTES ? undefined : firstForbiddenCharacter(text);
    if (bytes > MAX_YAML_BYTES) {
      countLines(text, 0, this.lineCounter);
      this.linesCounted = true;
      this.early = this.refuse(0, `${basename(file)} is ${megabytes(bytes)}; ${noun} may be at most ${megabytes(MAX_YAML_BYTES).replace('.0', '')}`);
    } else if (forbidden) {
      countLines(text, forbidden.offset, this.lineCounter);
      this.linesCounted = true;
      this.early = {
        ...this.refuse(forbidden.offset, `the file contains ${describeCharacter(forbidden.code)}, which YAML does not allow; remove it, or write it as an escape in a double-quoted string`),
        code: 'encoding',
      };
    }
    if (this.early) {
      this.parsed = { doc: parseDocument('', { prettyErrors: false, logLevel: 'error' }), refused: this.early, hasProtoKey: false, plainData: false };
    } else if (options.data) {
      this.data = fastYamlMap(text);
    }
  }

  /** The YAML Document, parsed by the `yaml` package on first use. */
  get doc(): Document.Parsed {
    return this.parse().doc;
  }

  /**
   * Why the text was not parsed, or not to the end: too large, too deeply nested, or holding
   * characters YAML forbids. The document is then empty and this is its only diagnostic.
   */
  get refused(): Diagnostic | undefined {
    return this.early ?? (this.data ? undefined : this.parse().refused);
  }

  /**
   * Whether a map of the document may have a `__proto__` key (or a key given by an alias,
   * which may be one): when not, the loader's schema checks skip looking for such keys.
   */
  get hasProtoKey(): boolean {
    return this.data ? false : this.parse().hasProtoKey;
  }

  /**
   * Whether the data of this document holds each of its values once, at the path of its keys:
   * no alias or merge key (`<<`) shows a value at a second path, and every key is a string (so
   * no two keys become one, as `1` and `"1"` do). Walking the data then visits what walking
   * the document visits, at the same paths. False for a document that was not parsed.
   */
  get plainData(): boolean {
    return this.data ? true : this.parse().plainData;
  }

  private get lines(): LineCounter {
    if (!this.linesCounted) this.parse();
    return this.lineCounter;
  }

  private refuse(offset: number, message: string): Diagnostic {
    const at = this.rangeOfOffsets(offset, offset + 1);
    return { file: this.file, range: { start: at.start, end: at.start }, severity: 'error', code: 'limit', message };
  }

  private parse(): NonNullable<YamlSource['parsed']> {
    if (this.parsed) return this.parsed;
    this.linesCounted = true;
    const parsed = parseWithinDepth(this.text, this.lineCounter);
    if (parsed.tooDeepAt !== undefined) {
      this.parsed = { doc: parsed.doc, hasProtoKey: false, plainData: false };
      this.parsed.refused = this.refuse(parsed.tooDeepAt, `the YAML nests deeper than ${MAX_YAML_DEPTH} levels here; ${this.noun} may nest at most ${MAX_YAML_DEPTH}`);
      return this.parsed;
    }
    const keys = checkKeys(parsed.doc);
    parsed.doc.errors.push(...keys.duplicates);
    this.parsed = { doc: parsed.doc, hasProtoKey: keys.hasProtoKey, plainData: keys.plainData };
    return this.parsed;
  }

  /** The range of source offsets `[start, end)` as 1-based positions. */
  rangeOfOffsets(start: number, end: number): Range {
    const s = this.lines.linePos(Math.max(0, Math.min(start, this.text.length)));
    const e = this.lines.linePos(Math.max(0, Math.min(Math.max(end, start), this.text.length)));
    return { start: { line: s.line, column: s.col }, end: { line: e.line, column: e.col } };
  }

  rangeOf(node: Node | undefined | null): Range {
    const r = node?.range;
    return r ? this.rangeOfOffsets(r[0], r[1]) : this.rangeOfOffsets(0, 0);
  }

  /** The YAML node at `path`, or undefined when the path does not exist. */
  nodeAt(path: YamlPath): Node | undefined {
    if (path.length === 0) return this.doc.contents ?? undefined;
    const n = this.doc.getIn(path, true);
    return isNode(n) ? n : undefined;
  }

  /** The key node of the map entry at `path` (only for paths ending in a map key). */
  keyAt(path: YamlPath): Node | undefined {
    if (path.length === 0) return undefined;
    const parent = this.nodeAt(path.slice(0, -1));
    const last = path[path.length - 1];
    if (!isMap(parent)) return undefined;
    for (const pair of parent.items) {
      if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === String(last)) return pair.key;
    }
    return undefined;
  }

  /**
   * Where to point for a problem at `path`. `on: 'key'` prefers the key (unknown keys,
   * misplaced entries); otherwise the value. A path that does not exist (a missing key)
   * falls back to the nearest ancestor that does, pointing at that ancestor's key.
   */
  locate(path: YamlPath, on: 'key' | 'value' = 'value'): Range {
    if (on === 'key') {
      const key = this.keyAt(path);
      if (key) return this.rangeOf(key);
    }
    for (let i = path.length; i >= 0; i--) {
      const p = path.slice(0, i);
      const node = i === path.length ? this.nodeAt(p) : undefined;
      if (node) return this.rangeOf(node);
      const key = this.keyAt(p);
      if (key) return this.rangeOf(key);
    }
    return this.rangeOfOffsets(0, 0);
  }

  /** Source offsets of the node at `path`, for tools that search its raw text. */
  offsetsAt(path: YamlPath): [number, number] | undefined {
    const r = this.nodeAt(path)?.range;
    return r ? [r[0], r[1]] : undefined;
  }

  diagnostic(path: YamlPath, message: string, code: DiagnosticCode, opts: { on?: 'key' | 'value'; severity?: Severity } = {}): Diagnostic {
    return { file: this.file, range: this.locate(path, opts.on), severity: opts.severity ?? 'error', code, message };
  }

  /** YAML syntax errors and warnings, with the parser's location prose removed. */
  syntaxDiagnostics(): Diagnostic[] {
    if (this.refused) return [this.refused];
    const out: Diagnostic[] = [];
    for (const [list, severity, code] of [
      [this.doc.errors, 'error', 'yaml-syntax'],
      [this.doc.warnings, 'warning', 'yaml-warning'],
    ] as const) {
      for (const e of list) {
        out.push({
          file: this.file,
          range: this.rangeOfOffsets(e.pos[0], e.pos[1]),
          severity,
          code,
          message: `YAML: ${cleanYamlMessage(e.message)}`,
        });
      }
    }
    return out;
  }

  /**
   * Calls `visit` for every string scalar, with its path, value and source offsets `[start,
   * end)`. The path is one array reused for the whole walk: copy it to keep it beyond the call.
   */
  forEachString(visit: (path: YamlPath, value: string, start: number, end: number) => void): void {
    const path: (string | number)[] = [];
    const walk = (node: unknown): void => {
      if (isScalar(node)) {
        if (typeof node.value === 'string' && node.range) visit(path, node.value, node.range[0], node.range[1]);
      } else if (isMap(node)) {
        for (const pair of node.items) {
          path.push(isScalar(pair.key) ? String(pair.key.value) : String(pair.key));
          walk(pair.value);
          path.pop();
        }
      } else if (isSeq(node)) {
        for (let i = 0; i < node.items.length; i++) {
          path.push(i);
          walk(node.items[i]);
          path.pop();
        }
      }
    };
    walk(this.doc.contents);
  }
}

/** The yaml package appends " at line L, column C:" and a code excerpt; we carry positions separately. */
function cleanYamlMessage(message: string): string {
  const cut = message.search(/ at line \d+, column \d+/);
  return (cut >= 0 ? message.slice(0, cut) : message).trim();
}

/**
 * `parseDocument`, stopping as soon as the nesting passes MAX_YAML_DEPTH: the parser keeps
 * its open collections on an explicit stack, so the depth is known at every token — before
 * the composer's recursion could exhaust the call stack, and without reading the rest of a
 * file built to be deep. Keys are checked for uniqueness afterwards, in linear time (the
 * `yaml` package's own check compares each key with every earlier key of its map).
 */
function parseWithinDepth(text: string, lines: LineCounter): { doc: Document.Parsed; tooDeepAt?: number } {
  const parser = new Parser(lines.addNewLine);
  lines.addNewLine(0); // what `parser.parse()` would do first
  const composer = new Composer({ prettyErrors: false, uniqueKeys: false, logLevel: 'error' });
  let tooDeepAt: number | undefined;
  function* tokens() {
    for (const lexeme of new Lexer().lex(text)) {
      yield* parser.next(lexeme);
      // The stack holds the document and pending tokens too, so it is at least as deep as
      // the nesting: the collections are counted only when it could be too deep.
      if (parser.stack.length > MAX_YAML_DEPTH) {
        const collections = parser.stack.filter((t) => t.type === 'block-map' || t.type === 'block-seq' || t.type === 'flow-collection');
        if (collections.length > MAX_YAML_DEPTH) {
          tooDeepAt = collections[MAX_YAML_DEPTH]!.offset;
          return;
        }
      }
    }
    yield* parser.end();
  }
  let doc: Document.Parsed | undefined;
  for (const next of composer.compose(tokens(), true, text.length)) {
    if (!doc) doc = next;
    else {
      doc.errors.push(new YAMLParseError([next.range[0], next.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents; please use YAML.parseAllDocuments()'));
      break;
    }
  }
  if (tooDeepAt !== undefined) return { doc: parseDocument('', { prettyErrors: false, logLevel: 'error' }), tooDeepAt };
  return { doc: doc!, tooDeepAt };
}

/**
 * "Map keys must be unique", where the `yaml` package would say it, in one pass; whether any
 * key is `__proto__` or an alias (whose value may be `__proto__`); and whether the data will
 * be plain (see `YamlSource.plainData`).
 */
function checkKeys(doc: Document.Parsed): { duplicates: YAMLParseError[]; hasProtoKey: boolean; plainData: boolean } {
  const out: YAMLParseError[] = [];
  let hasProtoKey = false;
  let plainData = true;
  const walk = (node: unknown): void => {
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          if (seen.has(pair.key.value) && pair.key.range) out.push(new YAMLParseError([pair.key.range[0], pair.key.range[0] + 1], 'DUPLICATE_KEY', 'Map keys must be unique'));
          seen.add(pair.key.value);
          if (pair.key.value === '__proto__') hasProtoKey = true;
          if (typeof pair.key.value !== 'string' || pair.key.value === '<<') plainData = false;
        } else {
          if (isAlias(pair.key)) hasProtoKey = true;
          plainData = false;
        }
        walk(pair.key);
        walk(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) walk(item);
    } else if (isAlias(node)) {
      plainData = false;
    }
  };
  walk(doc.contents);
  return { duplicates: out, hasProtoKey, plainData };
}

/** Feeds `lines` the line starts up to `end`, for positions in text that was never parsed. */
function countLines(text: string, end: number, lines: LineCounter): void {
  lines.addNewLine(0);
  for (let i = text.indexOf('\n'); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) lines.addNewLine(i + 1);
}
