/**
 * Where nodes go when the melody does not say. A melody the board has never seen gets a
 * layered layout from ELK (needs flow left to right); a node added in the text editor to
 * a laid-out melody is placed beside what it needs, leaving everything else where the
 * user put it. "Tidy up" runs ELK over everything and saves the result.
 */
import type ELK from 'elkjs/lib/elk.bundled.js';
import type { ElkNode } from 'elkjs/lib/elk-api';
import type { BoardNode } from '../../../src/protocol/boardModel';
import { nameRecord } from '../../../src/core/model/names';

/** The size the layout reserves for a node card (CSS keeps cards within it). */
export const NODE_WIDTH = 220;
/** The height of a node card. */
export const NODE_HEIGHT = 76;
const GAP_X = 80;
const GAP_Y = 32;
/** Snapping grid of the canvas, in canvas pixels. */
export const GRID = 20;

/** A position on the canvas, `[x, y]`, as `board.positions` stores it. */
export type Point = readonly [number, number];
/** Positions by node id. */
export type Positions = Readonly<Record<string, Point>>;

/** The script tag of board.js, read while it runs: elk.js sits beside it and takes its nonce. */
const boardScript = document.currentScript as HTMLScriptElement | null;
let elk: Promise<InstanceType<typeof ELK>> | undefined;

/** Loads elk.js (once) and makes the layout engine. */
function layoutEngine(): Promise<InstanceType<typeof ELK>> {
  elk ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = (boardScript?.src ?? 'board.js').replace(/board\.js(?=$|\?)/, 'elk.js');
    script.nonce = boardScript?.nonce ?? '';
    script.onload = () => {
      const Engine = (globalThis as { SymphonyElk?: typeof ELK }).SymphonyElk;
      if (Engine) resolve(new Engine());
      else reject(new Error('elk.js did not load the layout engine'));
    };
    script.onerror = () => reject(new Error('elk.js could not be loaded'));
    document.head.appendChild(script);
  });
  return elk;
}

const snap = (v: number): number => Math.round(v / GRID) * GRID;

/** The edges the scheduler sees: needs between existing nodes, none into the compensation node. */
export function edgesOf(nodes: readonly BoardNode[]): { from: string; to: string }[] {
  const ids = new Set(nodes.map((n) => n.id));
  return nodes.flatMap((n) => (n.compensation ? [] : n.needs.filter((need) => ids.has(need) && need !== n.id).map((need) => ({ from: need, to: n.id }))));
}

/** A layered layout of every node (ELK, left to right). */
export async function layoutAll(nodes: readonly BoardNode[]): Promise<Positions> {
  const engine = await layoutEngine();
  const graph: ElkNode = {
    id: 'melody',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.layered.spacing.nodeNodeBetweenLayers': String(GAP_X),
      'elk.spacing.nodeNode': String(GAP_Y),
      'elk.spacing.componentComponent': String(GAP_Y * 2),
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      // Fewer crossing-minimization sweeps on big graphs: the layout is almost as tidy
      // and arrives in a fraction of the time.
      'elk.layered.thoroughness': nodes.length > 200 ? '1' : '7',
    },
    children: nodes.map((n) => ({ id: n.id, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: edgesOf(nodes).map((e, i) => ({ id: `e${i}`, sources: [e.from], targets: [e.to] })),
  };
  const out = await engine.layout(graph);
  const positions = nameRecord<Point>();
  for (const c of out.children ?? []) positions[c.id] = [snap(c.x ?? 0), snap(c.y ?? 0)];
  return positions;
}

/**
 * Places nodes that have no position among nodes that do: right of the rightmost node
 * they need, else below everything, never on top of another card.
 */
export function placeMissing(nodes: readonly BoardNode[], known: Positions): Positions {
  // Without a prototype: a node called `constructor` is not already placed.
  const placed = nameRecord<Point>(Object.entries(known));
  const occupied = (x: number, y: number) =>
    Object.values(placed).some(([px, py]) => Math.abs(px - x) < NODE_WIDTH && Math.abs(py - y) < NODE_HEIGHT + GAP_Y / 2);
  const all = Object.values(known);
  const left = all.length ? Math.min(...all.map(([x]) => x)) : 0;
  let bottom = all.length ? Math.max(...all.map(([, y]) => y)) + NODE_HEIGHT + GAP_Y : 0;
  const out = nameRecord<Point>();
  for (const n of nodes) {
    if (placed[n.id]) continue;
    const needs = n.needs.map((id) => placed[id]).filter((p): p is Point => p !== undefined);
    let x: number;
    let y: number;
    if (needs.length) {
      x = Math.max(...needs.map(([nx]) => nx)) + NODE_WIDTH + GAP_X;
      y = needs[0]![1];
    } else {
      x = left;
      y = bottom;
      bottom += NODE_HEIGHT + GAP_Y;
    }
    while (occupied(x, y)) y += NODE_HEIGHT + GAP_Y;
    placed[n.id] = out[n.id] = [snap(x), snap(y)];
  }
  return out;
}

/** A free spot for a new node: beside `anchor`, or at `near` (the middle of the view). */
export function freeSpot(positions: Positions, near: Point, anchor?: Point): Point {
  let [x, y] = anchor ? [anchor[0] + NODE_WIDTH + GAP_X, anchor[1]] : near;
  const taken = Object.values(positions);
  const clash = () => taken.some(([px, py]) => Math.abs(px - x) < NODE_WIDTH && Math.abs(py - y) < NODE_HEIGHT);
  while (clash()) y += NODE_HEIGHT + GAP_Y;
  return [snap(x), snap(y)];
}
