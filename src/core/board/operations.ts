import { parse as parseYaml, isMap, isPair, isScalar, type Pair, type Scalar } from 'yaml';
import { findCycles } from '../engine/graph';
import type { YamlPath } from '../load/yamlSource';
import { NODE_ID } from '../model/melody';
import { err, ok, type Result } from '../model/result';
import { refersTo, renameInTemplate } from './expressions';
import type { TextEdit } from './textEdit';
import { blockPaths, columnOf, entryBody, parseForEdit, patchYaml, type KeyRename, type ParsedYaml } from './yamlPatch';
import { isPlainObject } from './yamlText';
import { setOwn } from '../model/names';

/**
 * The Harmony Board's edits of a melody, as pure functions of the YAML text: each takes
 * the current text and returns the text edits that make the change — keeping the user's
 * comments and formatting — or a sentence saying why the change was refused. The
 * extension applies the edits as a `WorkspaceEdit`, so undo, redo, dirty state and save
 * behave as for any edit of the file.
 */

/** A successful board edit: the text edits, what to tell the user, what to select after. */
export interface BoardEdit {
  readonly edits: readonly TextEdit[];
  /** A short sentence for the status line and screen readers, e.g. "Connected lint → test". */
  readonly message: string;
  /** Node ids to select once the document has changed (a new or renamed node). */
  readonly select?: readonly string[];
}

/** A board edit, or the sentence that says why it was refused. */
export type EditResult = Result<BoardEdit, string>;

type Json = Record<string, unknown>;
type NodeMap = Record<string, Json>;

/** Collections a melody writes as blocks, as people do: nodes, triggers, inputs, layout. */
export const melodyBlockPaths = blockPaths([
  [],
  ['nodes'],
  ['nodes', '*'],
  ['triggers'],
  ['triggers', '*'],
  ['inputs'],
  ['permissions'],
  ['board'],
  ['board', 'positions'],
  ['nodes', '*', 'outputs'],
]);

/** The order keys take in a node when the board adds one, as in DESIGN.md §2. */
const NODE_KEY_ORDER = ['uses', 'name', 'description', 'instrument', 'fallback', 'needs', 'if', 'with', 'retry', 'timeout', 'continue-on-error', 'loop', 'outputs', 'env'];
/** The order of a melody's top-level keys. */
const MELODY_KEY_ORDER = ['$schema', 'name', 'description', 'triggers', 'concurrency', 'inputs', 'budget', 'permissions', 'nodes', 'on-failure', 'board'];

/** `obj` with `key` set, a new key placed after the keys that come before it in `order`. */
export function withKey(obj: Json, key: string, value: unknown, order: readonly string[] = []): Json {
  if (Object.hasOwn(obj, key) || !order.includes(key)) return { ...obj, [key]: value };
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : Number.POSITIVE_INFINITY);
  const out: Json = {};
  let placed = false;
  for (const [k, v] of Object.entries(obj)) {
    if (!placed && rank(k) > rank(key)) {
      setOwn(out, key, value);
      placed = true;
    }
    setOwn(out, k, v);
  }
  if (!placed) setOwn(out, key, value);
  return out;
}

function without(obj: Json, key: string): Json {
  const { [key]: _gone, ...rest } = obj;
  return rest;
}

/** The node map of a melody's data (empty when `nodes:` is missing or not a map). */
function nodesOf(data: Json): NodeMap {
  const nodes = data.nodes;
  if (!isPlainObject(nodes)) return {};
  const out: NodeMap = {};
  for (const [id, n] of Object.entries(nodes)) setOwn(out, id, isPlainObject(n) ? n : {});
  return out;
}

function needsList(node: Json): string[] {
  const n = node.needs;
  if (typeof n === 'string') return [n];
  return Array.isArray(n) ? n.filter((x): x is string => typeof x === 'string') : [];
}

function compensationOf(data: Json): string | undefined {
  const f = data['on-failure'];
  return isPlainObject(f) && typeof f.compensate === 'string' ? f.compensate : undefined;
}

/** The needs graph the scheduler would see (the compensation node stands apart). */
function needsGraph(data: Json): Map<string, string[]> {
  const compensate = compensationOf(data);
  const graph = new Map<string, string[]>();
  for (const [id, node] of Object.entries(nodesOf(data))) if (id !== compensate) graph.set(id, needsList(node));
  return graph;
}

const cycleKey = (c: readonly string[]) => [...c].sort().join('\u0000');

/** A cycle `after` has that `before` did not, written as the loader writes cycles. */
function newCycle(before: Json, after: Json): string | undefined {
  const known = new Set(findCycles(needsGraph(before)).map(cycleKey));
  const fresh = findCycles(needsGraph(after)).find((c) => !known.has(cycleKey(c)));
  return fresh ? [...fresh, fresh[0]].join(' → ') : undefined;
}

interface Change {
  readonly data: Json;
  readonly message: string;
  readonly select?: readonly string[];
  readonly renames?: readonly KeyRename[];
}

/**
 * Runs `change` on the melody's data and writes the difference as minimal edits. Every
 * change is refused when it would add a cycle: that rule lives here, once, for all edits.
 */
function editMelody(text: string, change: (data: Json, parsed: ParsedYaml) => Result<Change, string>): EditResult {
  const parsed = parseForEdit(text);
  if (!parsed.ok) return parsed;
  const data = parsed.value.data;
  if (!isPlainObject(data)) return err('the melody is not a YAML map; fix it in the text editor first');
  const changed = change(structuredClone(data), parsed.value);
  if (!changed.ok) return changed;
  const cycle = newCycle(data, changed.value.data);
  if (cycle) return err(`refused: that would make a cycle (${cycle}); nodes on a cycle wait for each other and could never start`);
  const edits = patchYaml(parsed.value, changed.value.data, { renames: changed.value.renames, forceBlock: melodyBlockPaths });
  if (!edits.ok) return edits;
  return ok({ edits: edits.value, message: changed.value.message, select: changed.value.select });
}

/** `data` with its nodes replaced (a melody without `nodes:` gets one in its place). */
function withNodes(data: Json, nodes: NodeMap): Json {
  return withKey(data, 'nodes', nodes, MELODY_KEY_ORDER);
}

function setNode(data: Json, id: string, node: Json): Json {
  return withNodes(data, { ...nodesOf(data), [id]: node });
}

/** A node id made from `hint` that no node has yet: `review`, `review-2`, … */
export function uniqueNodeId(hint: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  let base = hint.trim().replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
  if (!NODE_ID.test(base)) base = base ? `node-${base}`.replace(/^node--/, 'node-') : 'node';
  if (!used.has(base)) return base;
  for (let i = 2; ; i++) if (!used.has(`${base}-${i}`)) return `${base}-${i}`;
}

function exists(nodes: NodeMap, id: string): Result<true, string> {
  return Object.hasOwn(nodes, id) ? ok(true) : err(`there is no node \`${id}\` in this melody`);
}

/** What a new node is: an id to start from and its body (which may mention its own id). */
export interface NewNode {
  readonly idHint: string;
  readonly body: (id: string) => Json;
  /** Where to put it on the board, `[x, y]`. */
  readonly position?: readonly [number, number];
  /** Nodes the new one needs (e.g. "add after the selected node"). */
  readonly needs?: readonly string[];
}

/** Adds a node (and its board position). */
export function addNode(text: string, node: NewNode): EditResult {
  return editMelody(text, (data) => {
    const nodes = nodesOf(data);
    const id = uniqueNodeId(node.idHint, Object.keys(nodes));
    let body = node.body(id);
    const needs = (node.needs ?? []).filter((n) => Object.hasOwn(nodes, n));
    if (needs.length) body = withKey(body, 'needs', needs, NODE_KEY_ORDER);
    let next = setNode(data, id, body);
    if (node.position) next = withPositions(next, { [id]: node.position });
    return ok({ data: next, message: `Added ${id}`, select: [id] });
  });
}

/** Draws an edge: `to` now needs `from`. Refused when it would close a cycle. */
export function connect(text: string, from: string, to: string): EditResult {
  return editMelody(text, (data) => {
    const nodes = nodesOf(data);
    for (const id of [from, to]) {
      const found = exists(nodes, id);
      if (!found.ok) return found;
    }
    if (from === to) return err(`refused: a node cannot need itself (\`${to}\`)`);
    const compensate = compensationOf(data);
    if (to === compensate) return err(`refused: \`${to}\` is the compensation node (on-failure.compensate); it runs alone after a failed run, so it takes no needs`);
    if (from === compensate) return err(`refused: \`${from}\` is the compensation node; it runs only when the run fails, so no node can need it`);
    const needs = needsList(nodes[to]!);
    if (needs.includes(from)) return ok({ data, message: `${to} already needs ${from}` });
    const node = withKey(nodes[to]!, 'needs', [...needs, from], NODE_KEY_ORDER);
    return ok({ data: setNode(data, to, node), message: `Connected ${from} → ${to}` });
  });
}

/** Removes an edge: `to` no longer needs `from` (and loses `needs:` when it was the last). */
export function disconnect(text: string, from: string, to: string): EditResult {
  return editMelody(text, (data) => {
    const nodes = nodesOf(data);
    const found = exists(nodes, to);
    if (!found.ok) return found;
    const needs = needsList(nodes[to]!);
    if (!needs.includes(from)) return ok({ data, message: `${to} does not need ${from}` });
    const rest = needs.filter((n) => n !== from);
    const node = rest.length ? { ...nodes[to]!, needs: rest } : without(nodes[to]!, 'needs');
    return ok({ data: setNode(data, to, node), message: `Disconnected ${from} → ${to}` });
  });
}

/** Every string of a node with the path inside the node, for expression scans. */
function forEachString(value: unknown, path: YamlPath, visit: (s: string, path: YamlPath) => string | void): unknown {
  if (typeof value === 'string') return visit(value, path) ?? value;
  if (Array.isArray(value)) return value.map((v, i) => forEachString(v, [...path, i], visit));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, forEachString(v, [...path, k], visit)]));
  return value;
}

/** `if:` and `loop.until` may hold bare CEL; everywhere else expressions sit in `${{ }}`. */
const isConditionPath = (path: YamlPath): boolean => (path.length === 1 && path[0] === 'if') || (path.length === 2 && path[0] === 'loop' && path[1] === 'until');

/** An edge of the graph: `to` needs `from`. */
export interface Edge {
  readonly from: string;
  readonly to: string;
}

/**
 * Deletes a selection: edges, and nodes with their edges, their board positions and
 * their role as compensation node — one edit, so one undo brings it all back.
 */
export function deleteNodes(text: string, ids: readonly string[], edges: readonly Edge[] = []): EditResult {
  return editMelody(text, (data) => {
    const nodes = nodesOf(data);
    const gone = ids.filter((id) => Object.hasOwn(nodes, id));
    const cut = edges.filter((e) => Object.hasOwn(nodes, e.to) && !gone.includes(e.to) && needsList(nodes[e.to]!).includes(e.from));
    if (gone.length === 0 && cut.length === 0) return err(ids.length ? `there is no node \`${ids[0]}\` in this melody` : 'nothing to delete');
    for (const e of cut) {
      const rest = needsList(nodes[e.to]!).filter((n) => n !== e.from);
      setOwn(nodes, e.to, rest.length ? { ...nodes[e.to]!, needs: rest } : without(nodes[e.to]!, 'needs'));
    }
    const kept: NodeMap = {};
    const dangling = new Set<string>();
    for (const [id, node] of Object.entries(nodes)) {
      if (gone.includes(id)) continue;
      const needs = needsList(node);
      const rest = needs.filter((n) => !gone.includes(n));
      setOwn(kept, id, rest.length === needs.length ? node : rest.length ? { ...node, needs: rest } : without(node, 'needs'));
      forEachString(node, [], (s, path) => {
        if (gone.some((g) => refersTo(s, g, isConditionPath(path)))) dangling.add(id);
      });
    }
    let next = withNodes(data, kept);
    next = withoutPositions(next, gone);
    const compensate = compensationOf(next);
    if (compensate && gone.includes(compensate)) {
      const rest = without(next['on-failure'] as Json, 'compensate');
      next = Object.keys(rest).length ? { ...next, 'on-failure': rest } : without(next, 'on-failure');
    }
    const what = [...gone, ...cut.map((e) => `${e.from} → ${e.to}`)].join(', ');
    const note = dangling.size ? `; ${[...dangling].join(', ')} still refer${dangling.size === 1 ? 's' : ''} to it in an expression` : '';
    return ok({ data: next, message: `Deleted ${what}${note}` });
  });
}

/**
 * Renames a node and every reference to it: other nodes' `needs`, `${{ nodes.<id>… }}`
 * expressions (and bare `if:` conditions), `on-failure.compensate`, its board position.
 */
export function renameNode(text: string, from: string, to: string): EditResult {
  return editMelody(text, (data) => {
    const nodes = nodesOf(data);
    const found = exists(nodes, from);
    if (!found.ok) return found;
    if (from === to) return ok({ data, message: `${to} keeps its name`, select: [to] });
    if (!NODE_ID.test(to)) return err(`\`${to}\` is not a valid node id: use letters, digits, "_" and "-", starting with a letter or "_"`);
    if (Object.hasOwn(nodes, to)) return err(`there is already a node \`${to}\``);
    const renamed: NodeMap = {};
    for (const [id, node] of Object.entries(nodes)) {
      let n = forEachString(node, [], (s, path) => (path[0] === 'needs' ? undefined : renameInTemplate(s, from, to, isConditionPath(path)))) as Json;
      const needs = needsList(n);
      if (needs.includes(from)) n = { ...n, needs: typeof n.needs === 'string' ? to : needs.map((x) => (x === from ? to : x)) };
      setOwn(renamed, id === from ? to : id, n);
    }
    let next = withNodes(data, renamed);
    const renames: KeyRename[] = [{ map: ['nodes'], from, to }];
    if (compensationOf(next) === from) next = { ...next, 'on-failure': { ...(next['on-failure'] as Json), compensate: to } };
    const positions = positionsOf(next);
    if (positions && Object.hasOwn(positions, from)) {
      const { [from]: at, ...rest } = positions;
      next = { ...next, board: { ...(next.board as Json), positions: { ...rest, [to]: at } } };
      renames.push({ map: ['board', 'positions'], from, to });
    }
    return ok({ data: next, message: `Renamed ${from} to ${to}`, select: [to], renames });
  });
}

function positionsOf(data: Json): Json | undefined {
  const board = data.board;
  return isPlainObject(board) && isPlainObject(board.positions) ? board.positions : undefined;
}

function withPositions(data: Json, moves: Readonly<Record<string, readonly [number, number]>>): Json {
  const board = isPlainObject(data.board) ? data.board : {};
  const positions = { ...(positionsOf(data) ?? {}) };
  for (const [id, [x, y]] of Object.entries(moves)) setOwn(positions, id, [Math.round(x), Math.round(y)]);
  return withKey(data, 'board', withKey(board, 'positions', positions, ['positions', 'viewport']), MELODY_KEY_ORDER);
}

function withoutPositions(data: Json, ids: readonly string[]): Json {
  const positions = positionsOf(data);
  if (!positions || !ids.some((id) => Object.hasOwn(positions, id))) return data;
  const rest = Object.fromEntries(Object.entries(positions).filter(([id]) => !ids.includes(id)));
  return { ...data, board: { ...(data.board as Json), positions: rest } };
}

/** Moves nodes on the board: their positions go under `board.positions`. */
export function moveNodes(text: string, moves: Readonly<Record<string, readonly [number, number]>>): EditResult {
  return editMelody(text, (data) => {
    const nodes = nodesOf(data);
    const known = Object.fromEntries(Object.entries(moves).filter(([id, p]) => Object.hasOwn(nodes, id) && p.every(Number.isFinite)));
    const count = Object.keys(known).length;
    if (count === 0) return err('none of the moved nodes is in this melody');
    return ok({ data: withPositions(data, known), message: count === 1 ? `Moved ${Object.keys(known)[0]}` : `Moved ${count} nodes` });
  });
}

/** Keys of a melody the board edits as fields (nodes have their own operations). */
const FIELD_ROOTS = new Set(['name', 'description', 'triggers', 'concurrency', 'inputs', 'budget', 'permissions', 'on-failure', 'nodes']);

/** Containers that stay even when emptied: a node's `with:` is required. */
const keepsWhenEmpty = (path: YamlPath): boolean => path.length === 3 && path[0] === 'nodes' && path[2] === 'with';

function setIn(value: unknown, path: YamlPath, leaf: unknown, order: (path: YamlPath) => readonly string[], at: YamlPath = []): unknown {
  if (path.length === 0) return leaf;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (typeof head === 'number') {
    const list = Array.isArray(value) ? [...value] : [];
    if (leaf === undefined && rest.length === 0) {
      list.splice(head, 1);
      return list;
    }
    list[Math.min(head, list.length)] = setIn(list[head], rest, leaf, order, [...at, head]);
    return list;
  }
  const obj = isPlainObject(value) ? value : {};
  if (leaf === undefined && rest.length === 0) return without(obj, head);
  const child = setIn(obj[head], rest, leaf, order, [...at, head]);
  const emptied = leaf === undefined && (Array.isArray(child) ? child.length === 0 : isPlainObject(child) && Object.keys(child).length === 0);
  if (emptied && !keepsWhenEmpty([...at, head])) return without(obj, head);
  return withKey(obj, head, child, order(at));
}

/** The key order at a path: a node's keys, a melody's keys, or none (append). */
const keyOrderAt = (path: YamlPath): readonly string[] => (path.length === 0 ? MELODY_KEY_ORDER : path.length === 2 && path[0] === 'nodes' ? NODE_KEY_ORDER : []);

/**
 * Sets (or, with `undefined`, removes) the value at `path` — a melody setting such as
 * `['budget', 'usd']` or a node field such as `['nodes', 'test', 'retry', 'max']`.
 * Emptied containers go too, so removing the last trigger removes `triggers:`.
 */
export function setField(text: string, path: YamlPath, value: unknown): EditResult {
  const [root, id, field] = path;
  if (typeof root !== 'string' || !FIELD_ROOTS.has(root)) return err(`the board does not edit \`${String(root)}\` as a field`);
  if (root === 'nodes' && (typeof id !== 'string' || field === undefined)) return err('a node field needs a node id and a field name');
  return editMelody(text, (data) => {
    if (root === 'nodes') {
      const found = exists(nodesOf(data), id as string);
      if (!found.ok) return found;
    }
    const next = setIn(data, path, value, keyOrderAt) as Json;
    const where = root === 'nodes' ? `${String(id)}: ${path.slice(2).join('.')}` : path.join('.');
    return ok({ data: next, message: value === undefined ? `Removed ${where}` : `Set ${where}` });
  });
}

/** Like {@link setField}, from YAML text the user typed (an empty text removes the field). */
export function setFieldYaml(text: string, path: YamlPath, source: string): EditResult {
  if (source.trim() === '') return setField(text, path, undefined);
  let value: unknown;
  try {
    value = parseYaml(source, { maxAliasCount: 100 }) as unknown;
  } catch (e) {
    return err(`that is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return setField(text, path, value);
}

/** The node's entry in the file, for {@link replaceNodeSource}. */
function nodePair(parsed: ParsedYaml, id: string): Pair<Scalar, unknown> | undefined {
  const root = parsed.doc.contents;
  const nodes = isMap(root) ? root.get('nodes', true) : undefined;
  if (!isMap(nodes)) return undefined;
  return nodes.items.find((p): p is Pair<Scalar, unknown> => isPair(p) && isScalar(p.key) && String(p.key.value) === id);
}

/**
 * Replaces a node's body with YAML the user wrote in the inspector, as they wrote it
 * (their comments included), re-indented to its place in the file.
 */
export function replaceNodeSource(text: string, id: string, source: string): EditResult {
  let body: unknown;
  try {
    body = parseYaml(source, { maxAliasCount: 100 }) as unknown;
  } catch (e) {
    return err(`that is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!isPlainObject(body) || Object.keys(body).length === 0) return err('a node is a map of keys such as `uses:` and `with:`');
  const checked = editMelody(text, (data) => ok({ data: setNode(data, id, body as Json), message: '' }));
  if (!checked.ok) return checked;
  const parsed = parseForEdit(text);
  if (!parsed.ok) return parsed;
  const pair = nodePair(parsed.value, id);
  if (!pair) return err(`there is no node \`${id}\` in this melody`);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const span = entryBody(text, pair);
  const column = span.block ? span.column : columnOf(text, pair.key.range![0]) + 2;
  const lines = dedent(source).map((l) => (l.trim() === '' ? '' : ' '.repeat(column) + l));
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  // A block body is replaced line for line; anything else becomes one, after the key.
  const start = span.block ? span.start : text.indexOf(':', pair.key.range![1]) + 1;
  const end = span.end;
  const replacement = (span.block ? '' : eol) + lines.join(eol);
  return ok({ edits: [{ start, end, text: replacement }], message: `Updated ${id} from its YAML`, select: [id] });
}

function dedent(source: string): string[] {
  const lines = source.replace(/\r\n/g, '\n').replace(/^\n+/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(Number.isFinite(indent) ? indent : 0));
}

/** The instruments a melody names (`instrument:` and `fallback:`), sorted, each once. */
export function instrumentRefs(text: string): string[] {
  const parsed = parseForEdit(text);
  if (!parsed.ok || !isPlainObject(parsed.value.data)) return [];
  const refs = new Set<string>();
  for (const node of Object.values(nodesOf(parsed.value.data))) {
    if (typeof node.instrument === 'string') refs.add(node.instrument);
    if (Array.isArray(node.fallback)) for (const f of node.fallback) if (typeof f === 'string') refs.add(f);
  }
  return [...refs].sort();
}

/**
 * A melody made the user's own: a new `name:` and instruments swapped for the
 * workspace's (`{ 'core/reviewer': 'backend/reviewer' }`) — how a template is instantiated.
 */
export function rebindMelody(text: string, change: { readonly name?: string; readonly instruments?: Readonly<Record<string, string>> }): EditResult {
  return editMelody(text, (data) => {
    const map = change.instruments ?? {};
    const swap = (ref: unknown) => (typeof ref === 'string' && Object.hasOwn(map, ref) ? map[ref] : ref);
    const nodes: NodeMap = {};
    for (const [id, node] of Object.entries(nodesOf(data))) {
      let n = node;
      if (n.instrument !== undefined) n = { ...n, instrument: swap(n.instrument) };
      if (Array.isArray(n.fallback)) n = { ...n, fallback: n.fallback.map(swap) };
      setOwn(nodes, id, n);
    }
    let next = withNodes(data, nodes);
    if (change.name !== undefined) next = withKey(next, 'name', change.name, MELODY_KEY_ORDER);
    return ok({ data: next, message: `Named ${change.name ?? String(data.name)}` });
  });
}
