/**
 * The integration suite's entry point. It runs INSIDE the VS Code extension host: the
 * workbench loads it as `extensionTestsPath` and calls `run()`; resolving reports success
 * (exit code 0), rejecting reports failure. esbuild bundles it, and every
 * test/integration/*.test.ts, into out/test/integration/ (with `mocha` left external).
 *
 * Two launchers run it: test/harness/integration.ts in code-server (`npm test`) and
 * test/harness/electron.ts in desktop VS Code (`npm run test:electron`), so nothing here
 * may depend on either. Mocha's reporter writes with console.log, which reaches the
 * terminal: forwarded by the web workbench to the code-server harness, or printed by the
 * desktop extension host itself.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

/** Runs every `*.test.js` next to this file; rejects when any test fails. */
export function run(): Promise<void> {
  const mocha = new Mocha({
    ui: 'bdd',
    timeout: 60_000,
    color: false,
    reporter: 'spec',
    // SYMPHONY_TEST_GREP reaches the extension host through its launcher (integrationSuite.ts).
    ...(process.env.SYMPHONY_TEST_GREP ? { grep: process.env.SYMPHONY_TEST_GREP } : {}),
  });
  const files = fs
    .readdirSync(__dirname)
    .filter((name) => name.endsWith('.test.js'))
    .sort();
  if (files.length === 0) {
    return Promise.reject(new Error(`No *.test.js files in ${__dirname}: did the build run?`));
  }
  for (const file of files) mocha.addFile(path.join(__dirname, file));
  return new Promise((resolve, reject) => {
    try {
      mocha.run((failures) => {
        if (failures > 0) reject(new Error(`${failures} integration test${failures === 1 ? '' : 's'} failed`));
        else resolve();
      });
    } catch (error) {
      // A test file that throws while loading lands here, not in a failure count.
      reject(error instanceof Error ? error : new Error(String(error)));
    }
  });
}
