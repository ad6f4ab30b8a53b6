/**
 * Run Melody in the real workbench: symphony.vsix installed into code-server on a git copy
 * of the demo, *Symphony: Run Melody…* from the Command Palette, its progress notification
 * naming the running node, and the notification's Cancel button cancelling the run — as
 * the README promises. Screenshot on failure: test-results/e2e-runs-failure.png; the server
 * log in test-results/e2e-runs/.
 */
import * as assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { RunningCodeServer } from '../harness/codeServer';
import { testResultsDir } from '../harness/paths';
import type { TestDirs } from '../harness/workspace';
import { reportFailure, startPackagedWorkbench, stopPackagedWorkbench } from '../harness/packaged';
import { choose, folderUrl, openSymphonyContainer, quickOpen, until } from '../harness/workbench';

const logDir = path.join(testResultsDir, 'e2e-runs');

/** A melody whose one node sleeps for ten minutes: only a cancel ends it in a test's time. */
const SLEEPER = [
  'name: sleeper',
  'description: Sleeps until cancelled.',
  'permissions: { commands: [node] }',
  'nodes:',
  '  sleep:',
  '    uses: shell',
  '    with: { command: node, args: ["-e", "setTimeout(() => {}, 600000)"] }',
  '',
].join('\n');

/**
 * The workspace's runs of a melody, read from disk: the state of its run.json, or
 * "running" while its journal has no end yet.
 */
async function runsOf(workspace: string, melody: string): Promise<{ runId: string; state: string }[]> {
  const dir = path.join(workspace, '.symphony', 'runs');
  const ids = await fsp.readdir(dir).catch(() => [] as string[]);
  const runs = await Promise.all(
    ids.map(async (runId) => {
      const journal = await fsp.readFile(path.join(dir, runId, 'journal.jsonl'), 'utf8').catch(() => '');
      if (!journal.includes(`"melody":"${melody}"`)) return undefined;
      const record = await fsp.readFile(path.join(dir, runId, 'run.json'), 'utf8').then((t) => JSON.parse(t) as { state: string }, () => undefined);
      return { runId, state: record?.state ?? (journal.includes('"run-finished"') ? 'finished' : 'running') };
    }),
  );
  return runs.filter((r) => r !== undefined);
}

describe('Run Melody in the VS Code workbench (packaged vsix)', function () {
  let dirs: TestDirs | undefined;
  let server: RunningCodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;

  before(async function () {
    ({ dirs, server, browser, page } = await startPackagedWorkbench({ prefix: 'symphony-e2e-runs', logDir, viewport: { width: 1400, height: 900 } }));
    await fsp.writeFile(path.join(dirs.workspace, 'melodies', 'sleeper.melody.yaml'), SLEEPER);
    await page.goto(folderUrl(server, dirs.workspace));
    await openSymphonyContainer(page);
  });

  afterEach(async function () {
    if (page && this.currentTest?.state === 'failed') await reportFailure(page, server, 'e2e-runs-failure');
  });

  after(() => stopPackagedWorkbench({ browser, server, dirs }));

  it('shows cancellable progress, and its Cancel button cancels the run', async function () {
    const p = page!;
    await quickOpen(p, '>Symphony: Run Melody', 'Symphony: Run Melody');
    await choose(p, 'sleeper', 'sleeper');

    // The progress notification names the node that runs; its Cancel button is the way out.
    const toast = p.locator('.notifications-toasts .notification-toast', { hasText: 'Symphony: sleeper' });
    await until(
      'the progress notification to say the node runs',
      async () => /running sleep/.test((await toast.first().textContent()) ?? ''),
      async () => (await p.locator('.notifications-toasts').textContent()) ?? 'no notifications',
      90_000,
    );
    const [running] = await runsOf(dirs!.workspace, 'sleeper');
    assert.equal(running?.state, 'running');

    await toast.first().locator('.monaco-button', { hasText: 'Cancel' }).click();
    await until(
      'the run to end cancelled on disk',
      async () => (await runsOf(dirs!.workspace, 'sleeper'))[0]?.state === 'cancelled',
      async () => JSON.stringify(await runsOf(dirs!.workspace, 'sleeper')),
      60_000,
    );
    await p.locator('.notifications-toasts .notification-toast', { hasText: 'sleeper was cancelled' }).waitFor({ timeout: 30_000 });
  });
});
