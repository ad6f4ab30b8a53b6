/**
 * The layout engine's worker, as a bundle of its own (dist/webview/elk.js). ELK is 1.6 MB
 * of JavaScript that most openings of the board never need (a melody the board has laid
 * out keeps its positions), so the page runs this script only when a layout is needed:
 * from its own `<script async>` when the melody has no positions (html.ts), else when
 * `canvas/layout.ts` adds it (Tidy up). It carries ELK's worker script as text: a webview
 * cannot start a worker from its resource URLs (another origin), but it can from a `blob:`
 * URL made of this text — the page's policy allows exactly that (`worker-src blob:`), and
 * the layout then runs off the thread that draws the board.
 *
 * It starts the worker at once: compiling ELK takes a few hundred milliseconds, which then
 * overlap the loading of the board's own script instead of following it. When the page
 * carries the melody's graph (`data-graph` on this script's tag, html.ts), it also starts
 * the layout at once, so ELK works while the board's script loads, runs and asks for the
 * document; `canvas/layout.ts` takes that layout when it asks for the same graph.
 */
import ELK from 'elkjs/lib/elk-api.js';
import type { ELK as ElkEngine } from 'elkjs/lib/elk-api';
import source from 'elkjs/lib/elk-worker.min.js' with { type: 'text' };
import { elkGraph, positionsOf } from './canvas/elkGraph';
import { graphKey, type LayoutNode, type Positions } from './canvas/layoutCache';

/** What this script leaves on the page for `canvas/layout.ts`. */
export interface ElkScript {
  /** A `blob:` URL of ELK's worker script. */
  readonly url: string;
  /** The worker started from it, until the layout takes it; none if it could not start. */
  worker?: Worker;
  /** Why the worker failed before the layout listened, if it did. */
  failure?: string;
  /** ELK on that worker, when this script started a layout on it (the board reuses it). */
  engine?: { readonly elk: ElkEngine; readonly died: Promise<never> };
  /** The layout started from the page's graph: its shape (`graphKey`) and positions. */
  early?: { readonly key: string; readonly positions: Promise<Positions> };
}

/** The graph on this script's tag, if the page carries one (and it reads as one). */
function pageGraph(): LayoutNode[] | undefined {
  const text = (document.currentScript as HTMLScriptElement | null)?.dataset.graph;
  if (!text) return undefined;
  try {
    const nodes: unknown = JSON.parse(text);
    const isNode = (n: unknown): n is LayoutNode => {
      const o = n as Partial<LayoutNode> | null;
      return typeof o?.id === 'string' && Array.isArray(o.needs) && o.needs.every((x) => typeof x === 'string') && typeof o.compensation === 'boolean';
    };
    return Array.isArray(nodes) && nodes.length > 0 && nodes.every(isNode) ? nodes : undefined;
  } catch {
    return undefined;
  }
}

const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
const script: ElkScript = { url };
const graph = pageGraph();
try {
  const worker = new Worker(url, { name: 'ELK layout' });
  let died: (e: Error) => void = () => undefined;
  const dead = new Promise<never>((_, reject) => (died = reject));
  dead.catch(() => undefined);
  worker.addEventListener('error', (e) => {
    script.failure ??= e.message || 'it could not start';
    died(new Error(`the layout worker failed: ${e.message || 'it could not start'}`));
  });
  if (graph) {
    // The worker is ELK's from now on: the board takes this engine instead of the worker.
    const elk = new ELK({ algorithms: ['layered'], workerFactory: () => worker });
    script.engine = { elk, died: dead };
    const positions = Promise.race([elk.layout(elkGraph(graph)), dead]).then(positionsOf);
    positions.catch(() => undefined);
    script.early = { key: graphKey(graph), positions };
  } else {
    script.worker = worker;
  }
} catch {
  // The layout starts its own worker, and reports why that fails.
}
(globalThis as { SymphonyElk?: ElkScript }).SymphonyElk = script;
