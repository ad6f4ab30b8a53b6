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
 * overlap the loading of the board's own script instead of following it. ELK's script
 * travels gzipped (0.63 MB instead of 1.6 MB; the browser's DecompressionStream restores
 * it in a few milliseconds), so this script arrives — and starts the worker — before
 * board.js, whose evaluation would otherwise hold the worker's start up. When the page
 * carries the melody's graph (`data-graph` on this script's tag, html.ts), it also starts
 * the layout at once, so ELK works while the board's script loads, runs and asks for the
 * document; `canvas/layout.ts` takes that layout when it asks for the same graph.
 */
import ELK from 'elkjs/lib/elk-api.js';
import type { ELK as ElkEngine } from 'elkjs/lib/elk-api';
import compressed from 'elk-worker.gz';
import { base64Bytes } from './base64';
import { elkGraph, measuredLayout, positionsOf } from './canvas/elkGraph';
import { graphKey, type LayoutNode, type Positions } from './canvas/layoutCache';

/** What this script leaves on the page for `canvas/layout.ts`. */
export interface ElkScript {
  /** A `blob:` URL of ELK's worker script, once it is decompressed. */
  readonly url: Promise<string>;
  /** The worker started from it, until the layout takes it; none if it could not start (or not yet). */
  worker?: Worker;
  /** Why the worker failed before the layout listened, if it did. */
  failure?: string;
  /** ELK on that worker, when this script starts a layout on it (the board reuses it), once the worker runs. */
  engine?: Promise<{ readonly elk: ElkEngine; readonly died: Promise<never> }>;
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

/** ELK's worker script from its gzip copy (elk-worker-gzip in webview/build.mjs), as a `blob:` URL. */
async function workerUrl(): Promise<string> {
  const bytes = base64Bytes(compressed);
  // Written straight into the decompressor, not read back from a Blob: a Blob's stream
  // reads through the browser process, one round trip per chunk, each waiting its turn
  // behind whatever this thread runs (the board's script) — the worker then started late.
  const gunzip = new DecompressionStream('gzip');
  const writer = gunzip.writable.getWriter();
  void writer.write(bytes).catch(() => undefined);
  void writer.close().catch(() => undefined);
  const source = await new Response(gunzip.readable).arrayBuffer();
  return URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
}

const url = workerUrl();
url.catch(() => undefined);
const script: ElkScript = { url };
const graph = pageGraph();
/** The worker, started as soon as its script is decompressed, and a promise that rejects if it dies. */
const started = url.then((u) => {
  let died: (e: Error) => void = () => undefined;
  const dead = new Promise<never>((_, reject) => (died = reject));
  dead.catch(() => undefined);
  const worker = new Worker(u, { name: 'ELK layout' });
  worker.addEventListener('error', (e) => {
    script.failure ??= e.message || 'it could not start';
    died(new Error(`the layout worker failed: ${e.message || 'it could not start'}`));
  });
  // Without a graph, the layout takes this worker when it needs one (set here, before the
  // layout, which waits for the same URL, looks for it).
  if (!graph) script.worker = worker;
  return { worker, dead };
});
if (graph) {
  // The worker is ELK's from now on: the board takes this engine instead of the worker.
  const engine = started.then(({ worker, dead }) => ({ elk: new ELK({ algorithms: ['layered'], workerFactory: () => worker }), died: dead }));
  engine.catch(() => undefined);
  script.engine = engine;
  const positions = engine.then(({ elk, died }) => measuredLayout(elk, elkGraph(graph), died)).then(positionsOf);
  positions.catch(() => undefined);
  script.early = { key: graphKey(graph), positions };
} else {
  // If it could not start, the layout starts its own and reports why that fails.
  started.catch(() => undefined);
}
(globalThis as { SymphonyElk?: ElkScript }).SymphonyElk = script;
