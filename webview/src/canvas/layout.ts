/**
 * Where nodes go when the melody does not say. A melody the board has never seen gets a
 * layered layout from ELK (needs flow left to right); a node added in the text editor to
 * a laid-out melody is placed beside what it needs, leaving everything else where the
 * user put it. "Tidy up" runs ELK over everything and saves the result.
 */
import ELK from 'elkjs/lib/elk-api.js';
import type { ELK as ElkEngine, ElkNode } from 'elkjs/lib/elk-api';
import type { BoardNode } from '../../../src/protocol/boardModel';
import type { ElkScript } from '../elk';
import { nameRecord } from '../../../src/core/model/names';
import { loadViewState, saveViewState } from '../host';
import { GAP_X, GAP_Y, GRID, NODE_HEIGHT, NODE_WIDTH, elkGraph, measuredLayout, positionsOf } from './elkGraph';
import { cachedLayout, graphKey, layoutToCache, type Point, type Positions } from './layoutCache';

export { GRID, NODE_HEIGHT, NODE_WIDTH } from './elkGraph';

export type { Point, Positions } from './layoutCache';

/**
 * The script tag of board.js: elk.js sits beside it and takes its nonce. board.js is a
 * module (webview/build.mjs), which has no `document.currentScript`: its tag is found by
 * its file name.
 */
const boardScript = (): HTMLScriptElement | undefined => [...document.scripts].find((s) => /\/board\.js(?=$|\?)/.test(s.src));

/** ELK in its worker, and a promise that rejects if the worker dies (ELK's API would wait forever). */
interface Engine {
  readonly elk: ElkEngine;
  readonly died: Promise<never>;
}
let engine: Promise<Engine> | undefined;

/** What elk.js left on the page, if it ran. */
const elkScript = (): ElkScript | undefined => (globalThis as { SymphonyElk?: ElkScript }).SymphonyElk;

/**
 * elk.js, run (once): the page's own `<script async>` when the melody has no positions,
 * else one added now.
 */
function loadElkScript(): Promise<ElkScript> {
  const ran = elkScript();
  if (ran) return Promise.resolve(ran);
  const board = boardScript();
  const src = (board?.src ?? 'board.js').replace(/board\.js(?=$|\?)/, 'elk.js');
  return new Promise((resolve, reject) => {
    const done = () => {
      const script = elkScript();
      if (script) resolve(script);
      else reject(new Error('elk.js could not be loaded'));
    };
    const pageScript = [...document.scripts].find((s) => s.src === src);
    if (pageScript) {
      // The page's own: it has run, or it runs before the page's load event.
      if (document.readyState === 'complete') done();
      else window.addEventListener('load', done, { once: true });
      pageScript.addEventListener('load', done, { once: true });
      return;
    }
    const script = document.createElement('script');
    script.src = src;
    script.nonce = board?.nonce ?? '';
    script.onload = done;
    script.onerror = () => reject(new Error('elk.js could not be loaded'));
    document.head.appendChild(script);
  });
}

/** Starts the layout engine (once): ELK in a Web Worker, so a layout never blocks the board. */
function layoutEngine(): Promise<Engine> {
  engine ??= loadElkScript().then(async (script) => {
    // The engine elk.js started a layout on, from the page's graph (taken once; if its
    // worker failed, a new one starts below).
    const started = script.engine;
    script.engine = undefined;
    const ready = await started?.catch(() => undefined);
    if (ready && !script.failure) return ready;
    const url = await script.url;
    let died: (e: Error) => void = () => undefined;
    const dead = new Promise<never>((_, reject) => (died = reject));
    dead.catch(() => undefined);
    const elk = new ELK({
      algorithms: ['layered'],
      workerFactory: () => {
        // The worker elk.js started (taken once: a retry after a failure starts a new one).
        const started = script.worker;
        script.worker = undefined;
        if (started && script.failure) died(new Error(`the layout worker failed: ${script.failure}`));
        const worker = started ?? new Worker(url, { name: 'ELK layout' });
        script.failure = undefined;
        worker.addEventListener('error', (e) => died(new Error(`the layout worker failed: ${e.message || 'it could not start'}`)));
        return worker;
      },
    });
    return { elk, died: dead };
  });
  // A failure is not kept: the next layout (Tidy up) tries again.
  engine.catch(() => (engine = undefined));
  return engine;
}

const snap = (v: number): number => Math.round(v / GRID) * GRID;

export { edgesOf } from './layoutCache';

export { needsLayout } from '../../../src/protocol/boardModel';

/** The last layout asked for: the board asks for the same graph as soon as the document arrives and again when it draws. */
let last: { key: string; positions: Promise<Positions> } | undefined;

/**
 * A layered layout of every node (ELK, left to right), computed in ELK's worker. The same
 * graph asked for again shares the layout already under way (or done), or takes the one
 * the webview's state remembers for it (layoutCache.ts).
 */
export function layoutAll(nodes: readonly BoardNode[]): Promise<Positions> {
  const key = graphKey(nodes);
  if (last?.key === key) return last.positions;
  const cached = cachedLayout(loadViewState().layout, key);
  const script = elkScript();
  if (cached && script?.early && !engine) {
    // Remembered: the layout elk.js started is not needed, and no one else uses its worker.
    // It stops (a later Tidy up starts another).
    void script.engine?.then(({ elk }) => elk.terminateWorker(), () => undefined);
    script.engine = undefined;
    script.early = undefined;
  }
  const positions = cached
    ? Promise.resolve(cached)
    : runLayout(nodes, key).then((laidOut) => {
        saveViewState({ layout: layoutToCache(key, laidOut) });
        return laidOut;
      });
  const entry = { key, positions };
  last = entry;
  positions.catch(() => {
    if (last === entry) last = undefined;
  });
  return positions;
}

async function runLayout(nodes: readonly BoardNode[], key: string): Promise<Positions> {
  const { elk, died } = await layoutEngine();
  // The layout elk.js started from the page's graph, if it is this one (taken once).
  const script = elkScript();
  const early = script?.early;
  if (early?.key === key) {
    script!.early = undefined;
    return early.positions;
  }
  return positionsOf(await measuredLayout(elk, elkGraph(nodes), died));
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
