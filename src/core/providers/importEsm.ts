/**
 * `import()` of an ES module, by package name or file URL, in a module of its own. The CLI's
 * bundle runs in a vm.Script with V8's code cache (src/cli/codeCache.ts), where Node 20 does
 * not serve an `import()` once the code comes from the cache; so the CLI's build keeps this
 * file out of the bundle, beside it as dist/cli/importEsm.js, a plain CommonJS module whose
 * `import()` is Node's own (esbuild.mjs). Everywhere else it is bundled like any other module.
 */
export function importEsm<T>(specifier: string): Promise<T> {
  return import(specifier) as Promise<T>;
}
