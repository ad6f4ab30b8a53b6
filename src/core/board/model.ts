import { isMap, isPair, isScalar, isSeq, type Node, type Pair } from 'yaml';
import { diagnosticsOf, loadMelody, type MelodyContext } from '../load/melody';
import { YamlSource, type YamlPath } from '../load/yamlSource';
import type { Diagnostic } from '../model/diagnostic';
import type { BoardDiagnostic, BoardDocument, BoardMelody, BoardNode } from '../../protocol/boardModel';
import { contentEnd, entryBody } from './yamlPatch';
import { isPlainObject } from './yamlText';
import { own, setOwn } from '../model/names';

/**
 * The board's view of a melody document, rebuilt from the text on every change. It is
 * tolerant: a melody with schema errors still draws (each node shows its problems, each
 * field its own error), and only YAML that cannot be read at all leaves the canvas out —
 * the board then lists the diagnostics, each linking to its line.
 */

type Json = Record<string, unknown>;

/** Options of {@link boardDocument}. */
export interface BoardDocumentOptions {
  readonly fileName: string;
  readonly version: number;
  /** The workspace's instruments and melodies, so unknown references are reported. */
  readonly context?: MelodyContext;
}

/** Builds what the board shows for `text`. Never throws. */
export function boardDocument(text: string, file: string, options: BoardDocumentOptions): BoardDocument {
  const base = { fileName: options.fileName, version: options.version };
  const loaded = loadMelody(text, file, options.context);
  let source: YamlSource;
  try {
    // A melody that loaded brings its parsed source; parse again only for one that did not.
    source = loaded.ok ? loaded.value.source : new YamlSource(file, text);
  } catch (e) {
    return { ...base, diagnostics: [internal(e)] };
  }
  const starts = lineStartsOf(text);
  const diagnostics = diagnosticsOf(loaded).map((d) => toBoardDiagnostic(source, starts, d));
  if (source.doc.errors.length > 0 || !isMap(source.doc.contents)) return { ...base, diagnostics };
  try {
    return { ...base, melody: melodyOf(source, diagnostics), diagnostics };
  } catch (e) {
    return { ...base, diagnostics: [...diagnostics, internal(e)] };
  }
}

function internal(e: unknown): BoardDiagnostic {
  return { severity: 'error', code: 'schema', message: `the board could not read this melody: ${(e as Error).message}`, line: 1, column: 1, path: [] };
}

function offsetOf(text: string, lineStarts: readonly number[], line: number, column: number): number {
  const start = lineStarts[line - 1] ?? text.length;
  return Math.min(text.length, start + column - 1);
}

function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function toBoardDiagnostic(source: YamlSource, starts: readonly number[], d: Diagnostic): BoardDiagnostic {
  const offset = offsetOf(source.text, starts, d.range.start.line, d.range.start.column);
  return {
    severity: d.severity,
    message: d.message,
    code: d.code,
    line: d.range.start.line,
    column: d.range.start.column,
    path: pathAt(source.text, source.doc.contents, offset),
  };
}

/**
 * The path of the deepest key or value at `offset`: what a diagnostic at that position is
 * about. A position on a key gives the path of that key's entry.
 */
export function pathAt(text: string, node: unknown, offset: number, path: YamlPath = []): YamlPath {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = pair.key as Node | null;
      const value = pair.value as Node | null;
      const start = key?.range?.[0] ?? value?.range?.[0];
      if (start === undefined || offset < start) continue;
      const end = value?.range ? contentEnd(text, value) : (key?.range?.[1] ?? start);
      if (offset > end) continue;
      const name = isScalar(key) ? String(key.value) : String(key);
      if (key?.range && offset < key.range[1]) return [...path, name];
      return pathAt(text, value, offset, [...path, name]);
    }
  } else if (isSeq(node)) {
    for (let i = 0; i < node.items.length; i++) {
      const item = node.items[i] as Node | null;
      if (!item?.range) continue;
      const start = item.range[0];
      if (offset >= start - 2 && offset <= contentEnd(text, item)) return pathAt(text, item, offset, [...path, i]);
    }
  }
  return path;
}

/** The node's YAML as written under its key, dedented: what the inspector shows and edits. */
export function nodeSource(text: string, pair: Pair): string {
  const { start, end, column } = entryBody(text, pair);
  return text
    .slice(start, end)
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((l) => (l.slice(0, column).trim() === '' ? l.slice(column) : l.trimStart()))
    .join('\n');
}

function positionOf(data: Json, id: string): [number, number] | undefined {
  const board = data.board;
  const p = isPlainObject(board) && isPlainObject(board.positions) ? own(board.positions, id) : undefined;
  return Array.isArray(p) && p.length === 2 && p.every((n) => typeof n === 'number' && Number.isFinite(n)) ? [p[0], p[1]] : undefined;
}

function viewportOf(data: Json): [number, number, number] | undefined {
  const board = data.board;
  const v = isPlainObject(board) ? board.viewport : undefined;
  return Array.isArray(v) && v.length === 3 && v.every((n) => typeof n === 'number' && Number.isFinite(n)) ? [v[0], v[1], v[2]] : undefined;
}

const asString = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'boolean' ? String(v) : undefined);

/** A short, stable fingerprint (FNV-1a), enough to tell renders apart. */
function fingerprint(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}

function melodyOf(source: YamlSource, diagnostics: readonly BoardDiagnostic[]): BoardMelody {
  const data = source.doc.toJS({ maxAliasCount: 1000 }) as Json;
  const root = source.doc.contents as unknown as { get(key: string, keepScalar: true): unknown };
  const nodesNode = root.get('nodes', true);
  const failure = data['on-failure'];
  const compensate = isPlainObject(failure) && typeof failure.compensate === 'string' ? failure.compensate : undefined;
  const nodes: BoardNode[] = [];
  if (isMap(nodesNode)) {
    for (const pair of nodesNode.items) {
      if (!isPair(pair) || !isScalar(pair.key)) continue;
      const id = String(pair.key.value);
      const raw = (isPlainObject(data.nodes) ? data.nodes[id] : undefined) ?? {};
      const node: Json = isPlainObject(raw) ? raw : {};
      const mine = diagnostics.filter((d) => d.path[0] === 'nodes' && d.path[1] === id);
      const text = nodeSource(source.text, pair);
      const needs = typeof node.needs === 'string' ? [node.needs] : Array.isArray(node.needs) ? node.needs.filter((n): n is string => typeof n === 'string') : [];
      const loop = isPlainObject(node.loop) ? `until ${String(node.loop.until ?? '?')} (max ${String(node.loop.max ?? '?')})` : undefined;
      const position = positionOf(data, id);
      const errors = mine.filter((d) => d.severity === 'error').length;
      const warnings = mine.filter((d) => d.severity === 'warning').length;
      nodes.push({
        id,
        uses: typeof node.uses === 'string' ? node.uses : '?',
        label: typeof node.name === 'string' && node.name ? node.name : id,
        description: asString(node.description),
        instrument: asString(node.instrument),
        needs,
        condition: asString(node.if),
        loop,
        compensation: id === compensate,
        continueOnError: node['continue-on-error'] === true,
        position,
        data: node,
        source: text,
        line: source.rangeOf(pair.key).start.line,
        errors,
        warnings,
        rev: fingerprint(`${text}\u0000${String(position)}\u0000${mine.map((d) => d.message).join('\u0000')}\u0000${id === compensate}`),
      });
    }
  }
  const settings: Json = {};
  for (const [k, v] of Object.entries(data)) if (k !== 'nodes' && k !== 'board' && k !== '$schema') setOwn(settings, k, v);
  return {
    name: asString(data.name),
    description: asString(data.description),
    settings,
    nodes,
    viewport: viewportOf(data),
  };
}
