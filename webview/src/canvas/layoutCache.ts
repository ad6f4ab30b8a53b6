/**
 * The last ELK layout, remembered in the webview's state with the graph's shape it was
 * computed for (`graphKey`: ids and needs). Reopening the same melody — the panel shown
 * again, the window reloaded — draws it at once instead of waiting for ELK again; a
 * changed node or need is a different shape, laid out afresh.
 */
import type { BoardNode } from '../../../src/protocol/boardModel';
import { nameRecord } from '../../../src/core/model/names';

/** A position on the canvas, `[x, y]`, as `board.positions` stores it. */
export type Point = readonly [number, number];
/** Positions by node id. */
export type Positions = Readonly<Record<string, Point>>;

/** What the layout needs of a node: its id and its needs (none count into the compensation node). */
export type LayoutNode = Pick<BoardNode, 'id' | 'needs' | 'compensation'>;

/** The edges the scheduler sees: needs between existing nodes, none into the compensation node. */
export function edgesOf(nodes: readonly LayoutNode[]): { from: string; to: string }[] {
  const ids = new Set(nodes.map((n) => n.id));
  return nodes.flatMap((n) => (n.compensation ? [] : n.needs.filter((need) => ids.has(need) && need !== n.id).map((need) => ({ from: need, to: n.id }))));
}

/** The graph's shape, as the layout sees it: ids and needs (positions, labels and fields do not matter). */
export function graphKey(nodes: readonly LayoutNode[]): string {
  return edgesOf(nodes)
    .map((e) => `${e.from}>${e.to}`)
    .concat(nodes.map((n) => n.id))
    .join('\n');
}

/** A layout as the webview's state keeps it. */
export interface CachedLayout {
  readonly shape: string;
  readonly positions: Readonly<Record<string, Point>>;
}

/** The cached positions if `cached` was computed for exactly this shape. */
export function cachedLayout(cached: CachedLayout | undefined, shape: string): Positions | undefined {
  if (cached?.shape !== shape || typeof cached.positions !== 'object' || cached.positions === null) return undefined;
  // Without a prototype, as every Positions record: a node called `constructor` is just a node.
  return nameRecord<Point>(Object.entries(cached.positions));
}

/** What to keep for `positions`, laid out for `shape`. */
export function layoutToCache(shape: string, positions: Positions): CachedLayout {
  return { shape, positions: Object.fromEntries(Object.entries(positions).map(([id, [x, y]]) => [id, [x, y] as const])) };
}
