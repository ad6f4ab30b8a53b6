// Bundles Symphony's three targets — the extension (Node, CommonJS, `vscode` external),
// the `symphony` CLI and the Harmony Board webview (browser) — with the expression worker
// both Node targets start, plus the integration test suite that runs inside a real
// extension host.
//
//   node esbuild.mjs               development build (source maps, no minification)
//   node esbuild.mjs --watch       rebuild on change
//   node esbuild.mjs --production  minified build for packaging (no test bundle)
import * as esbuild from 'esbuild';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { zodEnglishOnly } from './scripts/zodEnglishOnly.mjs';
import { webviewBuild } from './webview/build.mjs';

const pkg = JSON.parse(await readFile('package.json', 'utf8'));
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** Logs the outcome of every (re)build, so `--watch` shows when a bundle is fresh. */
function reporter(name) {
  return {
    name: `report-${name}`,
    setup(build) {
      let started = 0;
      build.onStart(() => {
        started = Date.now();
      });
      build.onEnd((result) => {
        const errors = result.errors.length;
        const status = errors ? `failed with ${errors} error${errors === 1 ? '' : 's'}` : 'ok';
        console.log(`[esbuild] ${name}: ${status} in ${Date.now() - started} ms`);
      });
    },
  };
}

const shared = {
  bundle: true,
  sourcemap: production ? 'linked' : 'inline',
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
};

const nodeShared = {
  ...shared,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // The CEL library ships ESM with `import.meta`; nothing we call depends on it.
  define: { 'import.meta.url': 'import_meta_url', SYMPHONY_VERSION: JSON.stringify(pkg.version) },
  banner: { js: "const import_meta_url = require('url').pathToFileURL(__filename).href;" },
};

// node-llama-cpp (the local provider's runtime) is an optional dependency that is never
// bundled: ESM-only with native binaries, it is loaded on first use by a dynamic import(),
// which esbuild keeps as is for an external package.
const optionalRuntime = ['node-llama-cpp'];

// gpt-tokenizer's encodings are megabytes of tables. Bundled into the extension or into
// the CLI's engine chunk they were read and compiled on every activation and every
// `symphony run`, though only a model call counts tokens. Each is a CommonJS file of its
// own in dist/, which src/core/providers/tokens.ts `require`s the first time it counts.
const tokenizerEncodings = ['o200k_base', 'cl100k_base'];
function separateTokenizer(fromDir) {
  return {
    name: 'separate-tokenizer',
    setup(build) {
      build.onResolve({ filter: /^gpt-tokenizer\/encoding\/\w+$/ }, (args) => {
        const encoding = args.path.split('/').pop();
        if (!tokenizerEncodings.includes(encoding)) return undefined;
        return { path: `${fromDir}tokenizer-${encoding}.cjs`, external: true };
      });
    },
  };
}

// The package's `bin`: a CommonJS file (package.json has no "type": "module") that starts
// the CLI's ES module, as `symphony` and `node dist/cli.js` alike.
const CLI_LAUNCHER = `#!/usr/bin/env node
'use strict';
// The symphony command. Its code is the ES module dist/cli/bin.mjs and the chunks beside it.
import('./cli/bin.mjs');
`;

const board = webviewBuild({ production });

/** @type {esbuild.BuildOptions[]} */
const targets = [
  {
    ...nodeShared,
    entryPoints: { extension: 'src/extension/main.ts' },
    outdir: 'dist',
    external: ['vscode', ...optionalRuntime],
    plugins: [zodEnglishOnly, separateTokenizer('./'), reporter('extension')],
  },
  {
    ...nodeShared,
    entryPoints: Object.fromEntries(tokenizerEncodings.map((e) => [`tokenizer-${e}`, `gpt-tokenizer/encoding/${e}`])),
    outdir: 'dist',
    outExtension: { '.js': '.cjs' },
    // Tables, not code worth stepping through: no maps, always minified.
    sourcemap: false,
    minify: true,
    plugins: [reporter('tokenizer')],
  },
  {
    // The expression worker (src/core/expr/workers.ts): costly expressions run on a thread
    // that can be stopped. The extension and the CLI find it next to themselves in dist/.
    ...nodeShared,
    entryPoints: { celWorker: 'src/core/expr/celWorker.ts' },
    outdir: 'dist',
    plugins: [zodEnglishOnly, reporter('expression worker')],
  },
  {
    // The CLI is an ES module split where main.ts imports a command's code (`import()`),
    // so each command loads only what it uses: `--version` reads commander and main.ts,
    // `validate` adds the loader, and only `run` and its kin load the engine, git and the
    // model providers. (Splitting needs ESM; a CommonJS bundle is read and compiled whole
    // on every start.) It is always minified — tests run the bytes that ship — with maps
    // beside it for `node --enable-source-maps`. dist/cli.js below starts it.
    ...shared,
    entryPoints: { bin: 'src/cli/bin.ts' },
    outdir: 'dist/cli',
    outExtension: { '.js': '.mjs' },
    platform: 'node',
    format: 'esm',
    target: 'node20',
    splitting: true,
    minify: true,
    sourcemap: 'linked',
    chunkNames: '[name]-[hash]',
    external: optionalRuntime,
    define: { SYMPHONY_VERSION: JSON.stringify(pkg.version) },
    // What CommonJS code in the bundle (and ours: __dirname, require) expects, per chunk.
    banner: {
      js: [
        "import { createRequire as __symphonyRequire } from 'node:module';",
        "import { fileURLToPath as __symphonyPath } from 'node:url';",
        'const require = __symphonyRequire(import.meta.url);',
        'const __filename = __symphonyPath(import.meta.url);',
        "const __dirname = __symphonyPath(new URL('.', import.meta.url));",
      ].join('\n'),
    },
    plugins: [zodEnglishOnly, separateTokenizer('../'), reporter('cli')],
  },
  {
    // The Harmony Board: its options are in webview/build.mjs, which the board's bench shares.
    ...board,
    outdir: 'dist/webview',
    logLevel: shared.logLevel,
    plugins: [...board.plugins, reporter('webview')],
  },
];

if (!production) {
  const dir = 'test/integration';
  const entries = (await readdir(dir)).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f));
  targets.push({
    ...nodeShared,
    entryPoints: entries,
    outdir: 'out/test/integration',
    external: ['vscode', 'mocha', ...optionalRuntime],
    plugins: [zodEnglishOnly, reporter('integration tests')],
  });
}

if (!watch) await rm('dist', { recursive: true, force: true });
await mkdir('dist', { recursive: true });
await writeFile('dist/cli.js', CLI_LAUNCHER, { mode: 0o755 });

const contexts = await Promise.all(targets.map((t) => esbuild.context(t)));
if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('[esbuild] watching for changes…');
} else {
  const results = await Promise.allSettled(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
  if (results.some((r) => r.status === 'rejected')) process.exit(1);
}
