/** The packaged extension (symphony.vsix) in a fresh code-server, as a user installs it — for e2e tests. */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './browser';
import { ensureCodeServer, startCodeServer, type RunningCodeServer } from './codeServer';
import { repoRoot, testResultsDir } from './paths';
import { createTestDirs, type TestDirs } from './workspace';

/** The built package that `npm run test:e2e` installs. */
export const VSIX = path.join(repoRoot, 'symphony.vsix');

/** A code-server with the vsix installed, on a fresh git copy of the demo, and a Chromium page. */
export interface PackagedWorkbench {
  readonly dirs: TestDirs;
  readonly server: RunningCodeServer;
  readonly browser: Browser;
  readonly page: Page;
  /** What `--install-extension` printed, for failure messages. */
  readonly installOutput: string;
}

/**
 * Installs the vsix with `code-server --install-extension` (proving it is a valid,
 * installable package), starts the server and opens a browser page; the caller navigates.
 * `logDir` is emptied and receives the server log.
 */
export async function startPackagedWorkbench(options: {
  readonly prefix: string;
  readonly logDir: string;
  readonly viewport: { readonly width: number; readonly height: number };
}): Promise<PackagedWorkbench> {
  assert.ok(existsSync(VSIX), `${VSIX} is missing: run \`npm run package\` first (npm run test:e2e does).`);
  await fsp.rm(options.logDir, { recursive: true, force: true });
  await fsp.mkdir(options.logDir, { recursive: true });
  const entry = await ensureCodeServer();
  const dirs = await createTestDirs(options.prefix);
  const installed = await promisify(execFile)(process.execPath, [
    entry,
    '--install-extension', VSIX,
    '--force',
    '--extensions-dir', dirs.extensionsDir,
    '--user-data-dir', dirs.userDataDir,
  ]);
  const server = await startCodeServer({
    workspace: dirs.workspace,
    userDataDir: dirs.userDataDir,
    extensionsDir: dirs.extensionsDir,
    disableWorkspaceTrust: true,
    logFile: path.join(options.logDir, 'code-server.log'),
  });
  const browser = await launchChromium({ headless: true });
  const page = await browser.newPage({ viewport: options.viewport });
  return { dirs, server, browser, page, installOutput: installed.stdout + installed.stderr };
}

/** What a failed e2e test leaves for diagnosis: a screenshot of the page (`<name>.png` in test-results) and the server log's last lines. */
export async function reportFailure(page: Page, server: RunningCodeServer | undefined, name: string): Promise<void> {
  const file = path.join(testResultsDir, `${name}.png`);
  await page.screenshot({ path: file }).catch(() => undefined);
  console.error(`    screenshot of the failure: ${path.relative(repoRoot, file)}`);
  if (server) console.error(`    last lines of ${server.logFile}:\n${server.logTail(15).replace(/^/gm, '      ')}`);
}

/** Closes what `startPackagedWorkbench` started, whatever part of it did start. */
export async function stopPackagedWorkbench(started: { readonly browser?: Browser; readonly server?: RunningCodeServer; readonly dirs?: TestDirs }): Promise<void> {
  await started.browser?.close().catch(() => undefined);
  await started.server?.stop();
  await started.dirs?.remove();
}
