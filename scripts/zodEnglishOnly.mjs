// An esbuild plugin shared by every bundle (esbuild.mjs, webview/build.mjs).
//
// zod's `locales` namespace (`z.locales`, `z.core.locales`) holds every language's error
// messages, 300 kB of code that a namespace import keeps in the bundle and that every start
// of the extension, the CLI or the board would read and compile. Symphony never calls
// `z.config()`: zod's messages are its default, English, which zod imports itself
// (classic/schemas.js). So `z.locales` holds English alone.
import { join } from 'node:path';

export const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: join(args.resolveDir, '..', 'locales'), namespace: 'zod-english-only' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: "export { default as en } from './en.js';\n",
      resolveDir: args.path,
      loader: 'js',
    }));
  },
};
