/**
 * What the two launchers of the integration suite share — code-server's
 * (`npm run test:integration`, integration.ts) and desktop VS Code's
 * (`npm run test:electron`, electron.ts): the built suite, the settings its workbench
 * starts with and the environment its extension host gets.
 */
import { existsSync, readdirSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { integrationOutDir, repoRoot } from './paths';

/**
 * User settings of the suite's workbench. Melodies starting by themselves (the demo's save
 * and schedule triggers) would run in the background of unrelated tests; the triggers
 * suite turns them on itself.
 */
export const SUITE_SETTINGS: Readonly<Record<string, unknown>> = { 'symphony.triggers.enabled': false };

/** The extension host's extra environment: the workspace, and SYMPHONY_TEST_GREP passed on. */
export function suiteEnv(workspace: string): Record<string, string> {
  return {
    SYMPHONY_TEST_WORKSPACE: workspace,
    ...(process.env.SYMPHONY_TEST_GREP ? { SYMPHONY_TEST_GREP: process.env.SYMPHONY_TEST_GREP } : {}),
  };
}

/**
 * esbuild never deletes outputs, so a renamed or deleted test would still run from its
 * stale bundle; drop bundles whose source is gone.
 */
async function removeStaleBundles(log: (line: string) => void): Promise<void> {
  for (const name of readdirSync(integrationOutDir)) {
    const source = path.join(repoRoot, 'test', 'integration', name.replace(/\.js(\.map)?$/, '.ts'));
    if (/\.js(\.map)?$/.test(name) && !existsSync(source)) {
      log(`removing stale bundle out/test/integration/${name}`);
      await fsp.rm(path.join(integrationOutDir, name));
    }
  }
}

/**
 * The suite's entry point (out/test/integration/index.js), checked to be built, with stale
 * bundles removed. Throws when the build is missing.
 */
export async function builtSuite(log: (line: string) => void): Promise<string> {
  const suite = path.join(integrationOutDir, 'index.js');
  if (!existsSync(suite)) throw new Error(`${suite} is missing: run \`npm run build\` first.`);
  if (!existsSync(path.join(repoRoot, 'dist', 'extension.js'))) {
    log('warning: dist/extension.js is missing, the extension cannot activate (did the build fail?)');
  }
  await removeStaleBundles(log);
  return suite;
}
