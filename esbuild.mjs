// Bundles Symphony's three targets — the extension (Node, CommonJS, `vscode` external),
// the `symphony` CLI and the Harmony Board webview (browser) — with the expression worker
// both Node targets start, plus the integration test suite that runs inside a real
// extension host.
//
//   node esbuild.mjs               development build (source maps, no minification)
//   node esbuild.mjs --watch       rebuild on change
//   node esbuild.mjs --production  minified build for packaging (no test bundle)
import * as esbuild from 'esbuild';
import { chmod, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { asciiBundle, lazyCommanderSpawn } from './scripts/cliBundle.mjs';
import { zodEnglishOnly } from './scripts/zodEnglishOnly.mjs';
import { webviewBuilds } from './webview/build.mjs';

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
// bundled: ESM-only with native binaries, it is loaded on first use by a dynamic import()
// (src/core/providers/importEsm.ts; see importEsmBeside for the CLI).
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

// The CLI's bundle runs in a vm.Script with V8's code cache, where Node 20 serves no
// `import()` once the code comes from the cache. So the bundle has none: esbuild turns each
// `import()` of a Node module into `require()`, and the one `import()` of an ES module that
// `require()` cannot load (node-llama-cpp: top-level await) is src/core/providers/importEsm.ts,
// left out of the bundle and built beside it as dist/cli/importEsm.js, a plain module.
const importEsmBeside = {
  name: 'import-esm-beside',
  setup(build) {
    build.onResolve({ filter: /[\\/]importEsm$|^\.\/importEsm$/ }, (args) => ({ path: './importEsm.js', external: true }));
  },
};

/** Makes the package's `bin`, dist/cli.js, executable once esbuild has written it. */
const executable = {
  name: 'executable',
  setup(build) {
    build.onEnd(async (result) => {
      if (result.errors.length === 0) await chmod('dist/cli.js', 0o755);
    });
  },
};

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
    // The CLI: one CommonJS bundle, dist/cli/symphony.cjs, which the package's `bin`
    // (dist/cli.js, below) runs with V8's code cache (src/cli/codeCache.ts): each command
    // then starts with the code it ran before compiled, instead of compiling it again. Only
    // what a command imports is evaluated — main.ts `import()`s each command's code, which
    // esbuild wraps to run on first use — so `validate` still never runs the engine, git,
    // the model providers or the metrics. Always minified (tests run the bytes that ship),
    // with a map beside it for `node --enable-source-maps`.
    ...nodeShared,
    entryPoints: { symphony: 'src/cli/bin.ts' },
    outdir: 'dist/cli',
    outExtension: { '.js': '.cjs' },
    minify: true,
    sourcemap: 'linked',
    external: optionalRuntime,
    supported: { 'dynamic-import': false },
    plugins: [zodEnglishOnly, separateTokenizer('../'), importEsmBeside, asciiBundle, lazyCommanderSpawn, reporter('cli')],
  },
  {
    // dist/cli/importEsm.js: the CLI bundle's one `import()` (see importEsmBeside).
    entryPoints: { importEsm: 'src/core/providers/importEsm.ts' },
    outdir: 'dist/cli',
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: shared.logLevel,
    plugins: [reporter('cli importEsm')],
  },
  {
    // The package's `bin`: the few lines that start the CLI's bundle with the code cache.
    ...nodeShared,
    entryPoints: { cli: 'src/cli/launcher.ts' },
    outdir: 'dist',
    sourcemap: false,
    banner: { js: '#!/usr/bin/env node' },
    plugins: [executable, reporter('cli launcher')],
  },
  // The Harmony Board: its options are in webview/build.mjs, which the board's bench shares.
  ...webviewBuilds({ production }).map((board) => ({
    ...board,
    outdir: 'dist/webview',
    logLevel: shared.logLevel,
    // Named by entry: each of the two builds reports for itself.
    plugins: [...board.plugins, reporter(`webview ${Object.keys(board.entryPoints ?? {}).join(', ')}`)],
  })),
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

const contexts = await Promise.all(targets.map((t) => esbuild.context(t)));
if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('[esbuild] watching for changes…');
} else {
  const results = await Promise.allSettled(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
  if (results.some((r) => r.status === 'rejected')) process.exit(1);
}
