import type { BuildOptions } from 'esbuild';

/** Options for the Harmony Board's bundles (webview/build.mjs). */
export function webviewBuild(mode: { production: boolean }): BuildOptions & { plugins: NonNullable<BuildOptions['plugins']> };
