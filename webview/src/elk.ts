/**
 * The layout engine's worker, as a bundle of its own (dist/webview/elk.js). ELK is 1.6 MB
 * of JavaScript that most openings of the board never need (a melody the board has laid
 * out keeps its positions), so `canvas/layout.ts` loads this script only when a layout is
 * needed. It carries ELK's worker script as text: a webview cannot start a worker from
 * its resource URLs (another origin), but it can from a `blob:` URL made of this text —
 * the page's policy allows exactly that (`worker-src blob:`), and the layout then runs
 * off the thread that draws the board.
 */
import source from 'elkjs/lib/elk-worker.min.js' with { type: 'text' };

(globalThis as { SymphonyElkWorker?: string }).SymphonyElkWorker = source;
