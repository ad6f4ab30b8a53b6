import { join } from 'node:path';
import { launch } from './codeCache';

// The `symphony` executable, dist/cli.js: the package's `bin`. It starts the CLI's bundle,
// dist/cli/symphony.cjs (bin.ts and all it imports), with V8's code cache (codeCache.ts).
launch(join(__dirname, 'cli', 'symphony.cjs'), process.argv.slice(2));
