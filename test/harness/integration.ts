/**
 * `npm run test:integration`: runs the mocha suite in out/test/integration inside a real
 * VS Code extension host (code-server), driven by headless Chromium, on a fresh git copy
 * of examples/demo. Exits with the suite's code.
 *
 * Environment:
 *   SYMPHONY_TEST_GREP                 only run tests whose title matches
 *   SYMPHONY_INTEGRATION_TIMEOUT_MS    overall limit (default 10 minutes)
 *   SYMPHONY_KEEP_TEMP=1               keep the temp workspace even when the run passes
 */
import { createWriteStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser';
import { startCodeServer } from './codeServer';
import type { RunningCodeServer } from './codeServer';
import { builtSuite, SUITE_SETTINGS, suiteEnv } from './integrationSuite';
import { repoRoot, testResultsDir } from './paths';
import { createTestDirs } from './workspace';
import { developmentUrl, formatHostLog } from './workbench';

const TIMEOUT_MS = Number(process.env.SYMPHONY_INTEGRATION_TIMEOUT_MS ?? 10 * 60_000);
const logDir = path.join(testResultsDir, 'integration');

class TimeoutError extends Error {}

async function main(): Promise<number> {
  const started = Date.now();
  const suite = await builtSuite((line) => console.log(`[integration] ${line}`));
  await fsp.rm(logDir, { recursive: true, force: true });
  await fsp.mkdir(logDir, { recursive: true });

  const dirs = await createTestDirs('symphony-integration');
  let server: RunningCodeServer | undefined;
  let browser: Browser | undefined;
  let code = 1;
  const closeLogs: Array<() => Promise<void>> = [];
  try {
    server = await startCodeServer({
      workspace: dirs.workspace,
      userDataDir: dirs.userDataDir,
      extensionsDir: dirs.extensionsDir,
      disableWorkspaceTrust: true,
      settings: SUITE_SETTINGS,
      logFile: path.join(logDir, 'code-server.log'),
      // The extension host inherits the server's environment.
      env: suiteEnv(dirs.workspace),
    });
    console.log(`[integration] code-server ${server.url} (pid ${server.pid}) on ${dirs.workspace}`);
    browser = await launchChromium({ headless: true });
    const page = await browser.newPage();

    const hostLog = createWriteStream(path.join(logDir, 'host.log'));
    closeLogs.push(() => new Promise<void>((resolve) => hostLog.end(resolve)));
    const browserLog = path.join(logDir, 'browser-console.log');
    page.on('console', (message) => void fsp.appendFile(browserLog, `[${message.type()}] ${message.text()}\n`));
    page.on('pageerror', (error) => void fsp.appendFile(browserLog, `[pageerror] ${error.stack ?? error.message}\n`));

    const exit = new Promise<number>((resolve) => {
      void page.exposeFunction('codeAutomationLog', (type: unknown, args: unknown) => {
        const { text, noise } = formatHostLog(type, args);
        hostLog.write(text + '\n');
        if (!noise) console.log(text);
      });
      void page.exposeFunction('codeAutomationExit', async (exitCode: unknown, logs: unknown) => {
        await saveWorkbenchLogs(logs);
        resolve(typeof exitCode === 'number' ? exitCode : 1);
      });
    });
    const url = developmentUrl(server, {
      folder: dirs.workspace,
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: suite,
    });
    await page.goto(url);

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError()), TIMEOUT_MS);
    });
    try {
      code = await Promise.race([exit, timeout]);
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error;
      await page.screenshot({ path: path.join(logDir, 'timeout.png') }).catch(() => undefined);
      throw new Error(
        `The integration suite did not finish within ${TIMEOUT_MS / 1000} s (screenshot: ${path.join(logDir, 'timeout.png')}).\n` +
          `Last lines of ${server.logFile}:\n${server.logTail(30)}`,
      );
    } finally {
      clearTimeout(timer);
    }
  } catch (error) {
    console.error(`[integration] ${error instanceof Error ? error.message : String(error)}`);
    code = 1;
  } finally {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    for (const close of closeLogs) await close();
    if (code === 0 && !process.env.SYMPHONY_KEEP_TEMP) await dirs.remove();
    else console.log(`[integration] kept the temp workspace for diagnosis: ${dirs.root}`);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`[integration] ${code === 0 ? 'passed' : `FAILED (exit code ${code})`} in ${seconds} s; logs in ${path.relative(repoRoot, logDir)}/`);
  }
  return code;
}

/** The workbench hands over its log files on exit: keep them next to the server log. */
async function saveWorkbenchLogs(logs: unknown): Promise<void> {
  if (!Array.isArray(logs)) return;
  for (const entry of logs as Array<{ relativePath?: unknown; contents?: unknown }>) {
    if (typeof entry.relativePath !== 'string' || typeof entry.contents !== 'string') continue;
    const target = path.join(logDir, 'workbench', entry.relativePath);
    if (!target.startsWith(logDir)) continue;
    await fsp.mkdir(path.dirname(target), { recursive: true });
    await fsp.writeFile(target, entry.contents);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[integration] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
