// The Harmony Board's bundles, as esbuild builds them: esbuild.mjs for the extension (and
// the .vsix), bench/board.bench.ts for production in a folder of its own. One definition,
// so the bench measures the bytes that ship.

/**
 * zod's translations of its error messages into fifty languages, a quarter of the board's
 * script (258 kB of 1 MB minified) that it loaded and parsed on every open: the protocol's
 * schemas (src/protocol/board.ts) use zod, and `import { z } from 'zod'` brings every
 * locale along (`z.locales`). The board checks messages and never shows zod's words in
 * another language — English, which zod imports by itself, stays.
 */
const withoutZodLocales = {
  name: 'without-zod-locales',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'without-zod-locales' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'without-zod-locales' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

/**
 * Options for the board's bundles: React + React Flow; CSS imported from TS (React Flow's
 * included) becomes board.css. The ELK layout engine is a bundle of its own, loaded only
 * when a layout needs it.
 * @param {{ production: boolean }} mode
 * @returns {import('esbuild').BuildOptions & { plugins: import('esbuild').Plugin[] }}
 */
export function webviewBuild({ production }) {
  return {
    entryPoints: { board: 'webview/src/main.tsx', elk: 'webview/src/elk.ts' },
    bundle: true,
    minify: production,
    legalComments: 'none',
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    jsx: 'automatic',
    loader: { '.css': 'css' },
    // Linked, not inline: an inline map would more than double what the webview loads on
    // every open; the packaged board ships without maps.
    sourcemap: production ? false : 'linked',
    define: { 'process.env.NODE_ENV': JSON.stringify(production ? 'production' : 'development') },
    plugins: [withoutZodLocales],
  };
}
