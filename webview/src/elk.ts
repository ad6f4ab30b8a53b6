/**
 * The layout engine as a bundle of its own (dist/webview/elk.js): ELK is 1.6 MB of
 * JavaScript that most openings of the board never need (a melody the board has laid out
 * keeps its positions), so it is loaded on demand by `canvas/layout.ts`.
 */
import ELK from 'elkjs/lib/elk.bundled.js';

(globalThis as { SymphonyElk?: typeof ELK }).SymphonyElk = ELK;
