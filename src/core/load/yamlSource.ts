import { isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Diagnostic, DiagnosticCode, Range, Severity } from '../model/diagnostic';

/** A path into a YAML document: map keys and sequence indexes. */
export type YamlPath = readonly (string | number)[];

/**
 * A parsed YAML file that remembers where everything came from, so every problem found
 * later — by the schema, the graph or the expression checker — can point at the exact key
 * or value the user wrote.
 */
export class YamlSource {
  readonly doc: Document.Parsed;
  private readonly lines = new LineCounter();

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
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

  /** Calls `visit` for every string scalar, with its path, value and source offsets. */
  forEachString(visit: (path: YamlPath, value: string, offsets: [number, number]) => void): void {
    const walk = (node: unknown, path: (string | number)[]): void => {
      if (isScalar(node)) {
        if (typeof node.value === 'string' && node.range) visit(path, node.value, [node.range[0], node.range[1]]);
      } else if (isMap(node)) {
        for (const pair of node.items) {
          const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
          walk(pair.value, [...path, key]);
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, i) => walk(item, [...path, i]));
      }
    };
    walk(this.doc.contents, []);
  }
}

/** The yaml package appends " at line L, column C:" and a code excerpt; we carry positions separately. */
function cleanYamlMessage(message: string): string {
  const cut = message.search(/ at line \d+, column \d+/);
  return (cut >= 0 ? message.slice(0, cut) : message).trim();
}
