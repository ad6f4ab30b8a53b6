/**
 * The graph ELK lays out, and its answer as positions: shared by the board (layout.ts) and
 * by elk.js, which starts the layout of a melody without positions as soon as it runs,
 * from the graph the page carries (html.ts), before the board's own script has loaded.
 * Kept small: elk.js bundles it.
 */
import type { ELK, ElkNode } from 'elkjs/lib/elk-api';
import { nameRecord } from '../../../src/core/model/names';
import { edgesOf, type LayoutNode, type Point, type Positions } from './layoutCache';

/** The size the layout reserves for a node card (CSS keeps cards within it). */
export const NODE_WIDTH = 220;
/** The height of a node card. */
export const NODE_HEIGHT = 76;
/** Gap between layers. */
export const GAP_X = 80;
/** Gap between cards in a layer. */
export const GAP_Y = 32;
/** Snapping grid of the canvas, in canvas pixels. */
export const GRID = 20;

/** A layered layout of every node, left to right, as ELK is asked for it. */
export function elkGraph(nodes: readonly LayoutNode[]): ElkNode {
  const big = nodes.length > 200;
  return {
    id: 'melody',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.layered.spacing.nodeNodeBetweenLayers': String(GAP_X),
      'elk.spacing.nodeNode': String(GAP_Y),
      'elk.spacing.componentComponent': String(GAP_Y * 2),
      // Big graphs: each layer's nodes stacked compactly (SIMPLE) instead of Brandes-Köpf,
      // which spends a tenth to a sixth of ELK's time on 500 nodes and, on the bench's
      // 500-node melody, spreads the layout four times as tall (9,600 px against 2,300)
      // with fewer straight edges (8 against 112). Edges share one port per side, as the
      // board draws them (one handle left, one right), so ELK sizes and orders far fewer ports.
      'elk.layered.nodePlacement.strategy': big ? 'SIMPLE' : 'BRANDES_KOEPF',
      ...(big ? { 'elk.layered.mergeEdges': 'true' } : {}),
      // The board draws its own edges and keeps only ELK's node positions. Polyline routing
      // is the cheapest ELK offers, and it does not widen the gaps between layers for
      // orthogonal edge channels, which keeps big melodies compact.
      'elk.edgeRouting': 'POLYLINE',
      // Big graphs get cheaper phases: the layout is almost as tidy and arrives in a
      // fraction of the time. Fewer crossing-minimization sweeps, and layers by longest
      // path from the entry nodes instead of network simplex (a third or more of ELK's time
      // on 500 nodes): every node sits in the first column after everything it needs, as
      // early as it could start, and the entry nodes — where the board first looks —
      // are all in the first column. Network simplex only shortens a few long edges.
      'elk.layered.thoroughness': big ? '1' : '7',
      ...(big ? { 'elk.layered.layering.strategy': 'LONGEST_PATH_SOURCE' } : {}),
    },
    children: nodes.map((n) => ({ id: n.id, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: edgesOf(nodes).map((e, i) => ({ id: `e${i}`, sources: [e.from], targets: [e.to] })),
  };
}

const snap = (v: number): number => Math.round(v / GRID) * GRID;

/** ELK's answer as positions on the canvas grid. */
export function positionsOf(out: ElkNode): Positions {
  const positions = nameRecord<Point>();
  for (const c of out.children ?? []) positions[c.id] = [snap(c.x ?? 0), snap(c.y ?? 0)];
  return positions;
}

/** The name of a layout's span on the page's performance timeline (`npm run bench board` reads it). */
export const LAYOUT_MEASURE = 'symphony: ELK layout';

/** ELK's layout of `graph`, or the worker's death; its span is measured as LAYOUT_MEASURE. */
export async function measuredLayout(elk: ELK, graph: ElkNode, died: Promise<never>): Promise<ElkNode> {
  const start = performance.now();
  const out = await Promise.race([elk.layout(graph), died]);
  performance.measure(LAYOUT_MEASURE, { start, end: performance.now() });
  return out;
}
