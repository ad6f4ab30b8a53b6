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
 * overlap the loading of the board's own script instead of following it.
 */
import source from 'elkjs/lib/elk-worker.min.js' with { type: 'text' };

/** What this script leaves on the page for `canvas/layout.ts`. */
export interface ElkScript {
  /** A `blob:` URL of ELK's worker script. */
  readonly url: string;
  /** The worker started from it, until the layout takes it; none if it could not start. */
  worker?: Worker;
  /** Why the worker failed before the layout listened, if it did. */
  failure?: string;
}

const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
const script: ElkScript = { url };
try {
  const worker = new Worker(url, { name: 'ELK layout' });
  worker.addEventListener('error', (e) => (script.failure ??= e.message || 'it could not start'));
  script.worker = worker;
} catch {
  // The layout starts its own worker, and reports why that fails.
}
(globalThis as { SymphonyElk?: ElkScript }).SymphonyElk = script;
