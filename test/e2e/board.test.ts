/**
 * The Harmony Board in the real workbench: symphony.vsix installed into code-server, a
 * melody opened with Ctrl+M, a node added from the palette with the keyboard, connected
 * by dragging between handles, the YAML seen changing in the text editor, and both edits
 * undone with Ctrl+Z. Screenshots land in test-results/ (e2e-board.png, e2e-board-*.png);
 * the server log in test-results/e2e-board/.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, FrameLocator, Locator, Page } from 'playwright-core';
import { launchChromium } from '../harness/browser';
import { ensureCodeServer, startCodeServer, type RunningCodeServer } from '../harness/codeServer';
import { repoRoot, testResultsDir } from '../harness/paths';
import { createTestDirs, type TestDirs } from '../harness/workspace';
import { folderUrl, openSymphonyContainer, viewTreeSelector } from '../harness/workbench';

const execFileAsync = promisify(execFile);
const vsix = path.join(repoRoot, 'symphony.vsix');
const logDir = path.join(testResultsDir, 'e2e-board');
const MELODY = 'hello.melody.yaml';
const modifier = process.platform === 'darwin' ? 'Meta' : 'Control';

/** The board's document inside the workbench: the webview iframe, then its active frame. */
function boardFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

/** A node card on the canvas, by id. */
const nodeCard = (board: FrameLocator, id: string): Locator => board.locator(`.react-flow__node[data-id="${id}"]`);

/** The text of the visible text editor, as Monaco renders it (a small file fits on screen). */
async function editorText(page: Page): Promise<string> {
  const lines = await page.locator('.editor-instance .monaco-editor .view-lines .view-line').evaluateAll((els) =>
    els
      .map((e) => ({ top: parseFloat((e as unknown as { style: { top: string } }).style.top || '0'), text: (e.textContent ?? '').replace(/\u00a0/g, ' ') }))
      .sort((a, b) => a.top - b.top)
      .map((l) => l.text),
  );
  return lines.join('\n');
}

/** Polls `probe` until it holds; the failure says what was last seen. */
async function until(what: string, probe: () => Promise<boolean>, describe: () => Promise<string>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; last seen:\n${await describe().catch((e: Error) => e.message)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Drags with the mouse from the middle of one element to the middle of another. */
async function drag(page: Page, from: Locator, to: Locator): Promise<void> {
  const a = await from.boundingBox();
  const b = await to.boundingBox();
  assert.ok(a && b, 'both ends of the drag are on screen');
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2 + 10, { steps: 8 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 8 });
  await page.mouse.up();
}

describe('Harmony Board in the VS Code workbench (packaged vsix)', function () {
  let dirs: TestDirs | undefined;
  let server: RunningCodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  const consoleErrors: string[] = [];

  before(async function () {
    assert.ok(existsSync(vsix), `${vsix} is missing: run \`npm run package\` first (npm run test:e2e does).`);
    await fsp.rm(logDir, { recursive: true, force: true });
    await fsp.mkdir(logDir, { recursive: true });
    const entry = await ensureCodeServer();
    dirs = await createTestDirs('symphony-e2e-board');
    await execFileAsync(process.execPath, [entry, '--install-extension', vsix, '--force', '--extensions-dir', dirs.extensionsDir, '--user-data-dir', dirs.userDataDir]);
    server = await startCodeServer({
      workspace: dirs.workspace,
      userDataDir: dirs.userDataDir,
      extensionsDir: dirs.extensionsDir,
      disableWorkspaceTrust: true,
      logFile: path.join(logDir, 'code-server.log'),
    });
    browser = await launchChromium({ headless: true });
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|board\.js/.test(m.text())) consoleErrors.push(m.text());
    });
    await page.goto(folderUrl(server, dirs.workspace));
    await openSymphonyContainer(page);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page) {
      const file = path.join(testResultsDir, `e2e-board-failure-${(this.currentTest.title ?? 'test').replace(/[^\w-]+/g, '-').slice(0, 50)}.png`);
      await page.screenshot({ path: file }).catch(() => undefined);
      console.error(`    screenshot of the failure: ${path.relative(repoRoot, file)}`);
      if (server) console.error(`    last lines of ${server.logFile}:\n${server.logTail(15).replace(/^/gm, '      ')}`);
    }
  });

  after(async function () {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await dirs?.remove();
  });

  it('opens the active melody on the board with Ctrl+M and draws its nodes and needs', async function () {
    const p = page!;
    // Quick Open the melody in the text editor, then Ctrl+M.
    await p.keyboard.press(`${modifier}+P`);
    await p.keyboard.type(MELODY);
    await p.locator('.quick-input-list .monaco-list-row').first().waitFor();
    await p.keyboard.press('Enter');
    await p.locator(`.tab[aria-label^="${MELODY}"]`).first().waitFor();
    await p.locator('.editor-instance .monaco-editor').first().click();
    await p.keyboard.press(`${modifier}+M`);

    const board = boardFrame(p);
    for (const id of ['status', 'message', 'record']) await nodeCard(board, id).waitFor({ timeout: 60_000 });
    await board.locator('.react-flow__edge').nth(1).waitFor({ state: 'attached' });
    assert.equal(await board.locator('.react-flow__edge').count(), 2, 'status → message → record');
    assert.match((await nodeCard(board, 'message').getAttribute('aria-label')) ?? '', /needs status/);
  });

  it('adds a node from the palette, connects it, shows the YAML change, and undoes both', async function () {
    const p = page!;
    const board = boardFrame(p);
    const search = board.getByRole('combobox', { name: /Add a node/ });
    await search.click();
    await search.fill('notify');
    await board.locator('[role="option"][data-palette-key="kind:notify"]').waitFor();
    await search.press('Enter');
    await nodeCard(board, 'notify').waitFor();
    const counts = board.locator('.statusbar .counts');
    await until('the board to count four nodes', async () => /^4 nodes/.test(await counts.innerText()), () => counts.innerText());
    await until('the status line to confirm the addition', async () => /Added notify/.test(await board.getByRole('status').last().innerText()), () => board.getByRole('status').last().innerText());

    // Draw an edge from record's output to notify's input: notify now needs record.
    await drag(p, nodeCard(board, 'record').locator('.react-flow__handle.source'), nodeCard(board, 'notify').locator('.react-flow__handle.target'));
    await board.locator('.react-flow__edge[data-id="record->notify"]').waitFor({ state: 'attached' });

    // The YAML, in the text editor beside the board.
    await board.getByRole('button', { name: /Show the YAML/ }).click();
    await until(
      'the text editor to show the new node and its needs',
      async () => {
        const text = await editorText(p);
        return /^ {2}notify:$/m.test(text) && /^ {4}needs: \[record\]$/m.test(text) && /^ {4}uses: notify$/m.test(text);
      },
      () => editorText(p),
    );
    const withNode = await editorText(p);
    assert.match(withNode, /^# A first melody\./m, 'the comments at the top are still there');
    assert.match(withNode, /continue-on-error: true {3}# a folder that is not a git repository yet is fine/, 'a trailing comment keeps its spacing');
    assert.match(withNode, /^board:\n {2}positions:\n {4}notify: \[-?\d+, -?\d+\]$/m, 'the new node’s position is saved under board:');
    await p.screenshot({ path: path.join(testResultsDir, 'e2e-board.png') });

    // Undo twice from the board: first the edge, then the node.
    await board.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
    await p.keyboard.press(`${modifier}+Z`);
    await until('the needs to go from the YAML', async () => !/needs: \[record\]/.test(await editorText(p)), () => editorText(p));
    await board.locator('.react-flow__edge[data-id="record->notify"]').waitFor({ state: 'detached' });
    await p.keyboard.press(`${modifier}+Z`);
    await until('the node to go from the YAML', async () => !/notify/.test(await editorText(p)), () => editorText(p));
    // The board redraws from the document: three nodes again (its count, not the DOM, which only holds what is in view).
    await until('the board to count three nodes', async () => /^3 nodes/.test(await counts.innerText()), () => counts.innerText());
    await p.screenshot({ path: path.join(testResultsDir, 'e2e-board-undone.png') });
  });

  it('opens a melody from the Melodies view and inspects a node (the README’s screenshot)', async function () {
    const p = page!;
    // Room for the board: only it in the editor area.
    await p.locator('.part.editor').first().click({ position: { x: 5, y: 5 } }).catch(() => undefined);
    await p.keyboard.press('F1');
    await p.keyboard.type('View: Close All Editors');
    await p.keyboard.press('Enter');
    // The Melodies view's inline "Open on Harmony Board" action on the code-review row.
    const row = p.locator(viewTreeSelector('Melodies')).getByRole('treeitem', { name: /^code-review/ });
    await row.hover();
    await row.locator('a.action-label[aria-label^="Open on Harmony Board"]').click();
    const board = boardFrame(p);
    await nodeCard(board, 'review').waitFor({ timeout: 60_000 });
    await board.locator('.react-flow__edge[data-id="test->review"]').waitFor({ state: 'attached' });
    // The whole window for the board (the keys reach the workbench from inside the webview).
    await p.keyboard.press('F1');
    await p.keyboard.type('View: Close Primary Side Bar');
    await p.locator('.quick-input-list .monaco-list-row').first().waitFor();
    await p.keyboard.press('Enter');
    await p.locator('.part.sidebar').waitFor({ state: 'hidden' });
    await nodeCard(board, 'review').click();
    await board.getByRole('region', { name: 'Node review' }).or(board.locator('section[aria-label="Node review"]')).first().waitFor();
    await p.screenshot({ path: path.join(testResultsDir, 'e2e-board-code-review.png') });
  });

  it('renames a node from the inspector and adds one by dragging it from the palette', async function () {
    const p = page!;
    const board = boardFrame(p);
    const counts = board.locator('.statusbar .counts');
    // The inspector's Id field (a toolkit text field): type, Enter commits the rename.
    const id = board.locator('section[aria-label="Node review"] vscode-text-field').first().locator('input');
    await id.fill('ai-review');
    await id.press('Enter');
    await nodeCard(board, 'ai-review').waitFor();
    await board.locator('.react-flow__edge[data-id="ai-review->report"]').waitFor({ state: 'attached' });
    assert.match((await nodeCard(board, 'report').getAttribute('aria-label')) ?? '', /needs ai-review/);

    // Drag "Approval" from the palette onto an empty part of the canvas.
    const pane = await board.locator('.react-flow__pane').boundingBox();
    assert.ok(pane);
    await board.locator('[role="option"][data-palette-key="kind:approval"]').dragTo(board.locator('.react-flow__pane'), {
      targetPosition: { x: pane.width * 0.5, y: pane.height * 0.15 },
    });
    await nodeCard(board, 'approval').waitFor();
    await until('six nodes', async () => /^6 nodes/.test(await counts.innerText()), () => counts.innerText());

    // Both edits are one undo step each.
    await board.locator('.react-flow__pane').click({ position: { x: 10, y: 10 } });
    await p.keyboard.press(`${modifier}+Z`);
    await until('five nodes again', async () => /^5 nodes/.test(await counts.innerText()), () => counts.innerText());
    await p.keyboard.press(`${modifier}+Z`);
    await nodeCard(board, 'review').waitFor();
  });

  it('loads under its Content Security Policy without violations or script errors', function () {
    assert.deepEqual(consoleErrors, []);
  });
});
