import type { BuildOptions } from 'esbuild';

/** Options for the Harmony Board's bundles (webview/build.mjs): board.js and its chunks, then elk.js. */
export function webviewBuilds(mode: { production: boolean }): (BuildOptions & { plugins: NonNullable<BuildOptions['plugins']> })[];
