/**
 * `npm run test:electron`: the integration suite (out/test/integration, the same one
 * `npm run test:integration` runs in code-server) in desktop VS Code, launched the standard
 * way by @vscode/test-electron — for machines that can download VS Code from
 * update.code.visualstudio.com. It runs on the same fresh git copy of examples/demo with
 * the same settings. Not part of `npm test`: machines that reach only package registries
 * cannot download VS Code, and this says so.
 *
 * Environment:
 *   SYMPHONY_VSCODE_EXECUTABLE   an installed VS Code to use instead of downloading one
 *   SYMPHONY_VSCODE_VERSION      the version to download (default: the newest that the
 *                                extension's engines.vscode accepts)
 *   SYMPHONY_TEST_GREP           only run tests whose title matches
 *   SYMPHONY_KEEP_TEMP=1         keep the temp workspace even when the run passes
 *
 * On Linux without a display, run it under a virtual one: `xvfb-run -a npm run test:electron`.
 */
import * as path from 'node:path';
import { downloadAndUnzipVSCode, runTests, TestRunFailedError } from '@vscode/test-electron';
import { writeDefaultSettings } from './codeServer';
import { builtSuite, SUITE_SETTINGS, suiteEnv } from './integrationSuite';
import { repoRoot } from './paths';
import { createTestDirs } from './workspace';

const log = (line: string) => console.log(`[electron] ${line}`);

/** Where downloaded VS Code builds are kept (gitignored, like test-electron's default). */
const cachePath = path.join(repoRoot, '.vscode-test');

/** An installed VS Code, or one downloaded into the cache; explains itself when it cannot download. */
async function vscodeExecutable(): Promise<string> {
  const installed = process.env.SYMPHONY_VSCODE_EXECUTABLE;
  if (installed) return installed;
  try {
    return await downloadAndUnzipVSCode({
      cachePath,
      extensionDevelopmentPath: repoRoot,
      ...(process.env.SYMPHONY_VSCODE_VERSION ? { version: process.env.SYMPHONY_VSCODE_VERSION } : {}),
      // An idle limit: a network that silently drops the connection fails in a minute, not never.
      timeout: 60_000,
    });
  } catch (error) {
    throw new Error(
      `Could not download VS Code (${error instanceof Error ? error.message : String(error)}).\n` +
        'This machine cannot reach update.code.visualstudio.com, where @vscode/test-electron downloads desktop VS Code.\n' +
        'Run the same suite in code-server instead: `npm run test:integration` (part of `npm test`),\n' +
        'or point SYMPHONY_VSCODE_EXECUTABLE at an installed VS Code.',
    );
  }
}

async function main(): Promise<number> {
  const started = Date.now();
  const suite = await builtSuite(log);
  const executable = await vscodeExecutable();
  const dirs = await createTestDirs('symphony-electron');
  let code = 1;
  try {
    await writeDefaultSettings(dirs.userDataDir, SUITE_SETTINGS);
    code = await runTests({
      vscodeExecutablePath: executable,
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: suite,
      extensionTestsEnv: suiteEnv(dirs.workspace),
      // runTests adds --disable-workspace-trust, --disable-updates, --no-sandbox and the
      // welcome-page switches itself.
      launchArgs: [dirs.workspace, '--user-data-dir', dirs.userDataDir, '--extensions-dir', dirs.extensionsDir, '--disable-telemetry'],
    });
  } catch (error) {
    if (!(error instanceof TestRunFailedError)) throw error;
    code = error.code ?? 1;
  } finally {
    if (code === 0 && !process.env.SYMPHONY_KEEP_TEMP) await dirs.remove();
    else log(`kept the temp workspace for diagnosis: ${dirs.root}`);
    log(`${code === 0 ? 'passed' : `FAILED (exit code ${code})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[electron] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
