/**
 * The Conductor in the real workbench: symphony.vsix installed into code-server on a git
 * copy of the demo, a sheet with one task routed to a script instrument that works like an
 * agent (it writes a file with write_file, then answers), *Symphony: Conduct* from the
 * Command Palette, the plan drawn on the Harmony Board, *Run plan* in the notification,
 * and the handoff entry shown beside when the assignment ends. Screenshot:
 * test-results/e2e-conduct.png; the server log in test-results/e2e-conduct/.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import type { RunningCodeServer } from '../harness/codeServer';
import { testResultsDir } from '../harness/paths';
import type { TestDirs } from '../harness/workspace';
import { reportFailure, startPackagedWorkbench, stopPackagedWorkbench } from '../harness/packaged';
import { folderUrl, openSymphonyContainer, quickOpen, until } from '../harness/workbench';

const logDir = path.join(testResultsDir, 'e2e-conduct');

const SCRIBE = [
  "let s = '';",
  "process.stdin.on('data', (d) => (s += d)).on('end', () => {",
  '  const req = JSON.parse(s);',
  "  if (!req.messages.some((m) => m.role === 'tool')) {",
  "    console.log(JSON.stringify({ toolCalls: [{ name: 'write_file', input: { path: 'src/farewell.js', content: \"exports.bye = (n) => 'Bye, ' + n + '!';\\n\" } }] }));",
  "  } else console.log('Wrote src/farewell.js with a friendly bye().');",
  '});',
  '',
].join('\n');

describe('Conduct in the VS Code workbench (packaged vsix)', function () {
  let dirs: TestDirs | undefined;
  let server: RunningCodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;

  before(async function () {
    ({ dirs, server, browser, page } = await startPackagedWorkbench({ prefix: 'symphony-e2e-conduct', logDir, viewport: { width: 1600, height: 1000 } }));
    const ws = dirs.workspace;
    const write = async (rel: string, text: string) => {
      await fsp.mkdir(path.dirname(path.join(ws, rel)), { recursive: true });
      await fsp.writeFile(path.join(ws, rel), text);
    };
    await write('scribe.js', SCRIBE);
    await write('ensembles/qa/scribe.yaml', 'nickname: Quill\nkind: script\nrole: Writes small modules.\nhandles: ["src/**"]\nscript: { command: node, args: [scribe.js] }\n');
    await write('sheetMusic.md', '# Sheet Music\n\n## Goal\n\nSay goodbye nicely.\n\n## Tasks\n\n- [ ] Add a farewell in `src/farewell.js` @qa/scribe\n');
    const git = (...args: string[]) => promisify(execFile)('git', args, { cwd: ws });
    await git('config', 'user.name', 'E2E');
    await git('config', 'user.email', 'e2e@example.com');
    await git('add', '-A');
    await git('commit', '-q', '-m', 'the scribe and the sheet');
    await page.goto(folderUrl(server, ws));
    await openSymphonyContainer(page);
  });

  afterEach(async function () {
    if (page && this.currentTest?.state === 'failed') await reportFailure(page, server, 'e2e-conduct-failure');
  });

  after(() => stopPackagedWorkbench({ browser, server, dirs }));

  it('conducts from the palette: the plan on the board, Run plan, the handoff entry shown', async function () {
    const p = page!;
    await quickOpen(p, '>Symphony: Conduct', 'Symphony: Conduct');

    // The plan, a melody, drawn on the board: one card per assignment.
    const board = p.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await board.locator('.react-flow__node[data-id="t1"]').waitFor({ timeout: 90_000 });
    assert.match((await p.locator('.tab.active').getAttribute('aria-label')) ?? '', /\.melody\.yaml/);

    // Run it from the notification.
    const run = p.locator('.notifications-toasts .monaco-button', { hasText: 'Run plan' });
    await run.waitFor({ timeout: 60_000 });
    await run.click();

    // The handoff entry opens beside when the assignment ends.
    const handoff = p.locator('.tab', { hasText: 'handoff.md' });
    await handoff.first().waitFor({ timeout: 120_000 });
    await until(
      'the handoff entry of Quill in an editor',
      async () => (await p.locator('.editor-instance .view-lines').allTextContents()).some((t) => /Quill/.test(t)),
      async () => (await p.locator('.editor-instance .view-lines').allTextContents()).join('\n---\n').slice(0, 2000),
      60_000,
    );
    const sheet = await fsp.readFile(path.join(dirs!.workspace, 'sheetMusic.md'), 'utf8');
    assert.match(sheet, /- \[x\] Add a farewell/);
    const log = (await promisify(execFile)('git', ['log', '-1', '--format=%s'], { cwd: dirs!.workspace })).stdout.trim();
    assert.equal(log, '[Quill] Add a farewell in `src/farewell.js` @qa/scribe');
    await p.screenshot({ path: path.join(testResultsDir, 'e2e-conduct.png') });
  });
});
