// The Harmony Board's bundles, as esbuild builds them: esbuild.mjs for the extension (and
// the .vsix), bench/board.bench.ts for production in a folder of its own. One definition,
// so the bench measures the bytes that ship.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
// Should zod come back into the board (it imports none now: src/protocol/boardHost.ts), its
// fifty translations stay out.
import { zodEnglishOnly } from '../scripts/zodEnglishOnly.mjs';

/**
 * ELK's worker script (1.6 MB, which elk.js carries as text to start its worker from a
 * `blob:` URL) as gzip in base64: 0.63 MB. elk.js then arrives before board.js instead of
 * after it, and runs first, so ELK's worker starts compiling while board.js is evaluated
 * rather than after; the page decompresses it with the browser's DecompressionStream.
 */
const elkWorkerGzip = {
  name: 'elk-worker-gzip',
  setup(build) {
    build.onResolve({ filter: /^elk-worker\.gz$/ }, () => ({ path: 'elk-worker.gz', namespace: 'elk-worker-gzip' }));
    build.onLoad({ filter: /.*/, namespace: 'elk-worker-gzip' }, () => {
      const file = createRequire(import.meta.url).resolve('elkjs/lib/elk-worker.min.js');
      const base64 = gzipSync(readFileSync(file), { level: 9 }).toString('base64');
      return { contents: `export default ${JSON.stringify(base64)};`, loader: 'js', watchFiles: [file] };
    });
  },
};

/**
 * Options for the board's bundles: React + React Flow; CSS imported from TS (React Flow's
 * included) becomes board.css. Two builds into one folder:
 *
 * - board.js, an ES module split by esbuild: what draws the canvas loads with the page;
 *   the side panels, the toolbar's buttons, the debug console, the Webview UI Toolkit and
 *   YAML — drawn only after the cards are painted (ui/afterPaint.ts) — are a chunk of
 *   their own (webview/src/later.ts), fetched then. The page evaluates 36 % less script
 *   before its first paint, and the toolkit's design tokens are not on the page while the
 *   cards are first drawn.
 * - elk.js, the ELK layout engine: a classic script of its own, loaded only when a layout
 *   needs it and run as soon as it arrives (webview/src/elk.ts).
 * @param {{ production: boolean }} mode
 * @returns {(import('esbuild').BuildOptions & { plugins: import('esbuild').Plugin[] })[]}
 */
export function webviewBuilds({ production }) {
  const shared = {
    bundle: true,
    minify: production,
    legalComments: 'none',
    platform: 'browser',
    target: 'chrome120',
    jsx: 'automatic',
    loader: { '.css': 'css' },
    // Linked, not inline: an inline map would more than double what the webview loads on
    // every open; the packaged board ships without maps.
    sourcemap: production ? false : 'linked',
    define: { 'process.env.NODE_ENV': JSON.stringify(production ? 'production' : 'development') },
  };
  return [
    {
      ...shared,
      entryPoints: { board: 'webview/src/main.tsx' },
      format: 'esm',
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      plugins: [zodEnglishOnly],
    },
    { ...shared, entryPoints: { elk: 'webview/src/elk.ts' }, format: 'iife', plugins: [elkWorkerGzip] },
  ];
}
