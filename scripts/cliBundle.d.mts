import type { Plugin } from 'esbuild';

/** Keeps the CLI's bundle ASCII: see scripts/cliBundle.mjs. */
export declare const asciiBundle: Plugin;
/** Requires commander's `node:child_process` when it spawns, not when it loads. */
export declare const lazyCommanderSpawn: Plugin;
