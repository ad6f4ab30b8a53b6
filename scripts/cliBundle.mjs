// esbuild plugins for the CLI's bundle (esbuild.mjs), which every `symphony` command starts
// by reading, decoding and compiling (src/cli/codeCache.ts).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

/**
 * Keeps the bundle ASCII. V8 takes an ASCII source as one byte per character; anything
 * else has to be decoded to UTF-16 first, 10 ms of every start for 1.7 MB. esbuild escapes
 * strings and identifiers but leaves regular expressions as written, so:
 * - our own patterns write typographic characters as `\u` escapes;
 * - the dependencies' files listed in ESCAPED get theirs escaped as they are loaded (a
 *   `\uXXXX` means the same character in a pattern, a string, an identifier or a comment);
 * - any other character left in the output fails the build, with where it is.
 */
export const asciiBundle = {
  name: 'ascii-bundle',
  setup(build) {
    build.initialOptions.metafile = true;
    build.onLoad({ filter: ESCAPED }, async (args) => ({
      contents: escapeNonAscii(await readFile(args.path, 'utf8')),
      loader: 'js',
    }));
    build.onEnd((result) => {
      // The outputs as written (on-end callbacks run once they are): the entry points' code, not their maps.
      const errors = [];
      for (const [file, output] of Object.entries(result.metafile?.outputs ?? {})) {
        if (!output.entryPoint) continue;
        const found = nonAscii(readFileSync(resolve(build.initialOptions.absWorkingDir ?? process.cwd(), file), 'utf8'));
        if (found) {
          errors.push({
            text: `${file}:${found.line}:${found.column}: "${found.context}" is not ASCII; write it as a \\u escape in the source, or add its file to ESCAPED in scripts/cliBundle.mjs`,
          });
        }
      }
      return { errors };
    });
  },
};

/** Dependencies' files with non-ASCII characters in regular expressions (cel-js: `µs`, a duration unit). */
const ESCAPED = /[\\/]node_modules[\\/]@marcbachmann[\\/]cel-js[\\/]lib[\\/]functions\.js$/;

/** Every character outside ASCII as `\uXXXX` (a pair of them beyond the BMP, as JavaScript reads them). */
function escapeNonAscii(text) {
  return text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The first character outside ASCII, where it is (1-based line and column), or undefined. */
function nonAscii(text) {
  if (text === undefined) return undefined;
  const at = text.search(/[^\x00-\x7f]/);
  if (at < 0) return undefined;
  const before = text.slice(0, at);
  const lineStart = before.lastIndexOf('\n') + 1;
  const lineEnd = text.indexOf('\n', at);
  const context = text.slice(Math.max(lineStart, at - 30), Math.min(lineEnd < 0 ? text.length : lineEnd, at + 10));
  return { line: before.split('\n').length, column: at - lineStart + 1, context };
}

/**
 * commander requires `node:child_process` when it loads, for subcommands that are programs
 * of their own — which `symphony` has none of. Loading it (and `net`, `stream`, `dgram`
 * with it) is about 5 ms of every start, so it is required when commander spawns, never
 * before. If commander's line changes, the build warns and keeps the file as it is.
 */
export const lazyCommanderSpawn = {
  name: 'lazy-commander-spawn',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]commander[\\/]lib[\\/]command\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const line = "const childProcess = require('node:child_process');";
      if (!text.includes(line)) return { warnings: [{ text: `commander's ${line} is gone: scripts/cliBundle.mjs no longer defers it` }] };
      const lazy = "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };";
      return { contents: text.replace(line, lazy), loader: 'js' };
    });
  },
};
