/**
 * The Harmony Board in the real workbench: symphony.vsix installed into code-server, a
 * melody opened with Ctrl+M, a node added from the palette with the keyboard, connected
 * by dragging between handles, the YAML seen changing in the text editor, and both edits
 * undone with Ctrl+Z; then the build melody run from the board's Run button, its node
 * badges reaching success, a second run paused at a breakpoint and continued from the
 * debug console, and the hello melody run with an input typed into the board, then as a
 * preview with its handoff node pinned (handoff.md untouched). Screenshots land in test-results/ (e2e-board.png, e2e-board-*.png); the
 * server log in test-results/e2e-board/.
 */
import * as assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Browser, FrameLocator, Locator, Page } from 'playwright-core';
import type { RunningCodeServer } from '../harness/codeServer';
import { repoRoot, testResultsDir } from '../harness/paths';
import type { TestDirs } from '../harness/workspace';
import { reportFailure, startPackagedWorkbench, stopPackagedWorkbench } from '../harness/packaged';
import { instantiateTemplate } from '../../src/core/board/templates';
import { choose, closeAllEditorsWithoutSaving, folderUrl, openSymphonyContainer, quickOpen, until, viewTreeSelector } from '../harness/workbench';

const logDir = path.join(testResultsDir, 'e2e-board');
const MELODY = 'hello.melody.yaml';
const modifier = process.platform === 'darwin' ? 'Meta' : 'Control';

/** Three nodes in a chain, placed in one column (bottom to top): Tidy up lays them out left to right. */
const STACKED = `name: stacked
nodes:
  first:
    uses: transform
    with: { value: 1 }
  second:
    uses: transform
    needs: [first]
    with: { value: 2 }
  third:
    uses: transform
    needs: [second]
    with: { value: 3 }
board:
  positions:
    first: [0, 400]
    second: [0, 200]
    third: [0, 0]
`;

/** The positions under `board:` in the YAML the text editor shows, by node id. */
function savedPositions(text: string): Record<string, [number, number]> {
  const positions: Record<string, [number, number]> = {};
  for (const m of text.matchAll(/^ {4}(\w+): \[(-?\d+), (-?\d+)\]$/gm)) positions[m[1]!] = [Number(m[2]), Number(m[3])];
  return positions;
}

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

/** Closes every editor, then opens `melody` on the board with Open on Harmony Board's picker. */
async function openOnBoard(page: Page, melody: string): Promise<FrameLocator> {
  await closeAllEditorsWithoutSaving(page);
  await quickOpen(page, '>Symphony: Open on Harmony Board', 'Open on Harmony Board');
  await choose(page, melody, `melodies/${melody}.melody.yaml`);
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  return boardFrame(page);
}

/**
 * The whole window for the board: the primary side bar closed. The tests that run
 * melodies take the README's screenshot in this layout.
 */
async function closeSideBar(page: Page): Promise<void> {
  const sideBar = page.locator('.part.sidebar');
  // The palette only offers the command while there is a side bar to close.
  if (!(await sideBar.isVisible())) return;
  await quickOpen(page, '>View: Close Primary Side Bar', 'View: Close Primary Side Bar');
  await sideBar.waitFor({ state: 'hidden' });
}

/** The tabs of the editor area (the tests use one editor group). */
const editorTabs = (page: Page): Locator => page.locator('.part.editor .tabs-container .tab');

/** The labels of the editor area's tabs, for failure messages. */
const tabLabels = (page: Page): Promise<string> => editorTabs(page).evaluateAll((tabs) => tabs.map((t) => t.getAttribute('aria-label')).join(' | '));

/** A screen rectangle (Playwright's bounding box). */
interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

const intersects = (a: Rect, b: Rect): boolean => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/**
 * What a fitted board shows, measured in its page: every drawn card's title size on
 * screen (its computed font size × the viewport's zoom), its box, and the minimap's box.
 */
async function measureBoard(board: FrameLocator): Promise<{ titles: { id: string; px: number }[]; cards: { id: string; box: Rect }[]; minimap: Rect | undefined }> {
  // The page's own objects, typed as little as this needs (the e2e tests compile without the DOM's types).
  interface El {
    getAttribute(name: string): string | null;
    querySelector(selector: string): El | null;
    querySelectorAll(selector: string): Iterable<El>;
    getBoundingClientRect(): Rect;
  }
  // No named functions inside: the test runner's compiler would wrap them in a helper the page does not have.
  return board.locator('.react-flow').evaluate((root) => {
    const page = globalThis as unknown as { getComputedStyle(e: El): { transform: string; fontSize: string }; DOMMatrix: new (transform: string) => { a: number } };
    const flow = root as unknown as El;
    const viewport = flow.querySelector('.react-flow__viewport');
    const zoom = viewport ? new page.DOMMatrix(page.getComputedStyle(viewport).transform).a : NaN;
    const titles: { id: string; px: number }[] = [];
    const cards: { id: string; box: Rect }[] = [];
    for (const n of flow.querySelectorAll('.react-flow__node')) {
      const id = n.getAttribute('data-id') ?? '?';
      const label = n.querySelector('.mnode-label');
      titles.push({ id, px: label ? parseFloat(page.getComputedStyle(label).fontSize) * zoom : NaN });
      const r = n.getBoundingClientRect();
      cards.push({ id, box: { x: r.x, y: r.y, width: r.width, height: r.height } });
    }
    const m = flow.querySelector('.react-flow__minimap')?.getBoundingClientRect();
    return { titles, cards, minimap: m ? { x: m.x, y: m.y, width: m.width, height: m.height } : undefined };
  });
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
    ({ dirs, server, browser, page } = await startPackagedWorkbench({ prefix: 'symphony-e2e-board', logDir, viewport: { width: 1600, height: 1000 } }));
    // The Full Stack Review template's melody, as New Melody from Template writes it (a seven-node board).
    const template = instantiateTemplate(await fsp.readFile(path.join(repoRoot, 'templates/melodies/full-stack-review.melody.yaml'), 'utf8'), 'full-stack-review');
    assert.ok(template.ok, template.ok ? '' : template.error);
    await fsp.writeFile(path.join(dirs.workspace, 'melodies/full-stack-review.melody.yaml'), template.value);
    // A melody whose every node has a position: its board opens without the layout engine,
    // which Tidy up then loads (webview/src/canvas/layout.ts).
    await fsp.writeFile(path.join(dirs.workspace, 'melodies/stacked.melody.yaml'), STACKED);
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|board\.js/.test(m.text())) consoleErrors.push(m.text());
    });
    await page.goto(folderUrl(server, dirs.workspace));
    await openSymphonyContainer(page);
  });

  // Each test opens what it needs and leaves no editor behind, passed or failed: a board
  // left dirty by a failure would otherwise stop the next tests at a "Save changes?" dialog.
  afterEach(async function () {
    if (!page) return;
    if (this.currentTest?.state === 'failed') {
      await reportFailure(page, server, `e2e-board-failure-${(this.currentTest.title ?? 'test').replace(/[^\w-]+/g, '-').slice(0, 50)}`);
    }
    await closeAllEditorsWithoutSaving(page);
  });

  after(() => stopPackagedWorkbench({ browser, server, dirs }));

  it('opens the active melody on the board with Ctrl+M in the text editor’s place, and back', async function () {
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
    // The board took the text editor's tab: one tab, not a second one with the same title.
    await until('the board to replace the text editor', async () => (await editorTabs(p).count()) === 1, () => tabLabels(p));
    assert.match((await editorTabs(p).first().getAttribute('aria-label')) ?? '', new RegExp(`^${MELODY}`));
    await p.locator('.editor-instance .monaco-editor').first().waitFor({ state: 'hidden' });

    // Ctrl+M on the board: back to the text, in the board's place.
    await nodeCard(board, 'status').click();
    await p.keyboard.press(`${modifier}+M`);
    await p.locator('.editor-instance .monaco-editor').first().waitFor();
    await until('the text editor to replace the board', async () => (await editorTabs(p).count()) === 1 && /^name: hello/m.test(await editorText(p)), async () => `${await tabLabels(p)}\n${await editorText(p)}`);
    assert.match((await editorTabs(p).first().getAttribute('aria-label')) ?? '', new RegExp(`^${MELODY}`));
  });

  it('fits hello and Full Stack Review with readable cards and the minimap clear of them; the minimap hides, remembered', async function () {
    const p = page!;
    await closeSideBar(p);
    for (const [melody, ids] of [
      ['hello', ['status', 'message', 'record']],
      ['full-stack-review', ['approve', 'deploy']],
    ] as const) {
      const board = await openOnBoard(p, melody);
      for (const id of ids) await nodeCard(board, id).waitFor({ timeout: 60_000 });
      await board.locator('.react-flow__minimap').waitFor();
      const seen = () => measureBoard(board).then((m) => JSON.stringify(m));
      // The view settles as the panel takes its size (the fit follows it until the user moves).
      await until(
        `${melody}: every card drawn, none under the minimap`,
        async () => {
          const m = await measureBoard(board);
          return ids.every((id) => m.cards.some((c) => c.id === id)) && !!m.minimap && m.cards.every((c) => !intersects(c.box, m.minimap!));
        },
        seen,
      );
      const m = await measureBoard(board);
      assert.ok(m.titles.length >= ids.length, `${melody}: ${m.titles.length} cards drawn`);
      for (const t of m.titles) assert.ok(t.px >= 11, `${melody}: ${t.id}'s title is ${t.px.toFixed(1)} px on screen`);
      await p.screenshot({ path: path.join(testResultsDir, `e2e-board-fit-${melody}.png`) });
    }

    // Hidden from the zoom controls, the minimap stays hidden on the next board opened.
    let board = await openOnBoard(p, 'hello');
    await board.locator('.react-flow__minimap').waitFor();
    await board.getByRole('button', { name: 'Hide the minimap' }).click();
    await board.locator('.react-flow__minimap').waitFor({ state: 'detached' });
    board = await openOnBoard(p, 'full-stack-review');
    await nodeCard(board, 'deploy').waitFor({ timeout: 60_000 });
    await board.getByRole('button', { name: 'Show the minimap' }).waitFor();
    assert.equal(await board.locator('.react-flow__minimap').count(), 0, 'the workspace remembers the minimap hidden');
    await board.getByRole('button', { name: 'Show the minimap' }).click();
    await board.locator('.react-flow__minimap').waitFor();
  });

  it('adds a node from the palette, connects it, shows the YAML change, and undoes both', async function () {
    const p = page!;
    const board = await openOnBoard(p, 'hello');
    await nodeCard(board, 'record').waitFor({ timeout: 60_000 });
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

  it('tidies up a melody whose nodes all have positions: the board loads the layout engine then, under its policy', async function () {
    const p = page!;
    const board = await openOnBoard(p, 'stacked');
    await nodeCard(board, 'third').waitFor({ timeout: 60_000 });
    // No node lacked a position: the page did not carry the layout engine.
    assert.equal(await board.locator('script[src*="elk.js"]').count(), 0, 'elk.js is not on the page before Tidy up');
    await board.getByRole('button', { name: /^Tidy up/ }).click();
    await board.getByRole('button', { name: /Show the YAML/ }).click();
    await until(
      'Tidy up to lay the chain out left to right',
      async () => {
        const at = savedPositions(await editorText(p));
        return !!at.first && !!at.second && !!at.third && at.first[0] < at.second[0] && at.second[0] < at.third[0];
      },
      () => editorText(p),
    );
    assert.equal(await board.locator('script[src*="elk.js"]').count(), 1, 'the board added elk.js, beside its own script');
  });

  it('opens a melody from the Melodies view and inspects a node', async function () {
    const p = page!;
    await openSymphonyContainer(p); // an earlier test may have closed the side bar
    // The Melodies view's inline "Open on Harmony Board" action on the code-review row.
    const row = p.locator(viewTreeSelector('Melodies')).getByRole('treeitem', { name: /^code-review/ });
    await row.hover();
    await row.locator('a.action-label[aria-label^="Open on Harmony Board"]').click();
    const board = boardFrame(p);
    await nodeCard(board, 'review').waitFor({ timeout: 60_000 });
    await board.locator('.react-flow__edge[data-id="test->review"]').waitFor({ state: 'attached' });
    // review's condition, on one of the edges into it: labels are drawn once the cards are painted.
    await board.locator('.react-flow__edge[data-id$="->review"] .react-flow__edge-text').filter({ hasText: /^if nodes\.test\.status == 'success/ }).waitFor();
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
    const board = await openOnBoard(p, 'code-review');
    await closeSideBar(p);
    await nodeCard(board, 'review').waitFor({ timeout: 60_000 });
    await nodeCard(board, 'review').click();
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

  it('runs the build melody from the board: badges reach success; a breakpoint pauses it until Continue (the README’s screenshot)', async function () {
    const p = page!;
    await closeSideBar(p);
    const board = await openOnBoard(p, 'build');
    const ids = ['syntax', 'test', 'summary'];
    for (const id of ids) await nodeCard(board, id).waitFor({ timeout: 60_000 });
    const card = (id: string, state: string) => board.locator(`.mnode[data-node-id="${id}"][data-run-state="${state}"]`);
    const summary = board.locator('.run-summary');

    await board.getByRole('button', { name: /^Run the melody/ }).click();
    for (const id of ids) await card(id, 'success').waitFor({ timeout: 60_000 });
    await until('the toolbar to sum the run up', async () => /^✓ success in /.test(await summary.innerText()), () => summary.innerText());
    await board.locator('.react-flow__edge.run-done[data-id="syntax->test"]').waitFor({ state: 'attached' });
    assert.match((await nodeCard(board, 'test').getAttribute('aria-label')) ?? '', /last run: success, \d/);
    // A finished node shows its output in the inspector.
    await nodeCard(board, 'summary').click();
    await board.locator('pre.node-output[aria-label="Output of summary"]').waitFor();
    await p.screenshot({ path: path.join(testResultsDir, 'e2e-board-run.png') });

    // A breakpoint on test (F9 on the selected card), a second run: it pauses before test.
    await nodeCard(board, 'test').click();
    await p.keyboard.press('F9');
    await board.locator('.react-flow__node[data-id="test"] .mnode-breakpoint.on').waitFor();
    await board.getByRole('button', { name: /^Run the melody/ }).click();
    await board.locator('.mnode.paused[data-node-id="test"]').waitFor({ timeout: 60_000 });
    const where = board.locator('.debug-where');
    await until('the console to say where the run is paused', async () => (await where.innerText()) === 'Paused before test', () => where.innerText());
    await card('syntax', 'success').waitFor();
    assert.equal(await board.locator('.mnode[data-node-id="test"]').getAttribute('data-run-state'), 'pending', 'test waits at its breakpoint');
    await p.screenshot({ path: path.join(testResultsDir, 'e2e-board-debug.png') });
    await board.getByRole('button', { name: /^Continue: test starts/ }).click();
    for (const id of ids) await card(id, 'success').waitFor({ timeout: 60_000 });
    await until('the second run to succeed', async () => /^✓ success in /.test(await summary.innerText()), () => summary.innerText());
    const lines = board.locator('.console-lines');
    await until('the console to show the run’s end', async () => /■ run success in/.test(await lines.innerText()), () => lines.innerText());
    await board.locator('section[aria-label="Node test"] pre.node-output').waitFor();
    // The run notifications cover the inspector; the README's screenshot is of the board.
    await quickOpen(p, '>Notifications: Clear All Notifications', 'Notifications: Clear All Notifications');
    await p.locator('.notification-toast').first().waitFor({ state: 'detached' });
    await p.screenshot({ path: path.join(testResultsDir, 'e2e-board-debugged.png') });
  });

  it('runs a melody with inputs typed into the board’s dialog', async function () {
    const p = page!;
    await closeSideBar(p);
    const board = await openOnBoard(p, 'hello');
    await nodeCard(board, 'message').waitFor({ timeout: 60_000 });
    await board.getByRole('button', { name: 'Run with inputs…' }).click();
    const dialog = board.locator('[role="dialog"]');
    const greeting = dialog.locator('vscode-text-field').first().locator('input');
    assert.equal(await greeting.inputValue(), 'Hello from Symphony', 'prefilled with the default');
    await greeting.fill('Hi from the board');
    await greeting.press('Enter');
    await p.screenshot({ path: path.join(testResultsDir, 'e2e-board-inputs.png') });
    await dialog.getByRole('button', { name: /Run/ }).click();
    await dialog.waitFor({ state: 'detached' });
    await board.locator('.mnode[data-node-id="message"][data-run-state="success"]').waitFor({ timeout: 60_000 });
    await nodeCard(board, 'message').click();
    const output = board.locator('pre.node-output[aria-label="Output of message"]');
    await until('the output to carry the typed input', async () => /^Hi from the board: git status ended with success\./.test(await output.innerText()), () => output.innerText());

    // Preview: record appends to handoff.md; pinned, it does not run, and the file stays as it was.
    const handoff = path.join(dirs!.workspace, 'handoff.md');
    const before = await fsp.readFile(handoff, 'utf8');
    assert.match(before, /Hi from the board/, 'the full run recorded its summary');
    await nodeCard(board, 'record').click();
    await board.getByRole('button', { name: 'Pin an output typed by hand to record' }).click();
    await board.locator('.react-flow__node[data-id="record"] .mnode-pin.used').waitFor();
    await board.getByRole('button', { name: /^Run a preview: 1 pinned node/ }).click();
    await board.locator('.react-flow__node[data-id="record"] .mnode-run', { hasText: 'pinned output' }).waitFor({ timeout: 60_000 });
    const summary = board.locator('.run-summary');
    await until('the preview to succeed', async () => /^✓ success in /.test(await summary.innerText()), () => summary.innerText());
    assert.equal(await fsp.readFile(handoff, 'utf8'), before, 'the pinned handoff node wrote nothing');
    await p.screenshot({ path: path.join(testResultsDir, 'e2e-board-preview.png') });
  });

  it('loads under its Content Security Policy without violations or script errors', function () {
    assert.deepEqual(consoleErrors, []);
  });
});
