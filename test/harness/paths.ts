import * as path from 'node:path';

/** The repository root, computed from this file so the harness works from any clone. */
export const repoRoot = path.resolve(__dirname, '..', '..');

/** The demo workspace that `npm start` opens and the tests copy. */
export const demoWorkspace = path.join(repoRoot, 'examples', 'demo');

/** Where esbuild puts the bundled integration suite (see esbuild.mjs). */
export const integrationOutDir = path.join(repoRoot, 'out', 'test', 'integration');

/** Screenshots, logs and other evidence that CI keeps; gitignored. */
export const testResultsDir = path.join(repoRoot, 'test-results');
