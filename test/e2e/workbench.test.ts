/**
 * The packaged extension in the real workbench: symphony.vsix installs into a fresh
 * code-server, and its Ensembles view lists the demo's ensembles and instruments.
 * Screenshots land in test-results/ (e2e-ensembles.png, and e2e-failure-*.png when a
 * test fails); the server log in test-results/e2e/.
 */
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import type { RunningCodeServer } from '../harness/codeServer';
import { repoRoot, testResultsDir } from '../harness/paths';
import type { TestDirs } from '../harness/workspace';
import { startPackagedWorkbench } from '../harness/packaged';
import { folderUrl, openSymphonyContainer, viewTreeSelector } from '../harness/workbench';

const EXTENSION_ID = 'symphony-dev.symphony';
const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
const logDir = path.join(testResultsDir, 'e2e');

/** The rows of a tree view in display order, as the workbench exposes them to screen readers. */
async function treeRows(tree: Locator): Promise<Array<{ level: number; label: string }>> {
  const rows = await tree.locator('[role="treeitem"]').evaluateAll((elements) =>
    elements.map((e) => ({
      index: Number(e.getAttribute('data-index')),
      level: Number(e.getAttribute('aria-level')),
      label: e.getAttribute('aria-label') ?? '',
    })),
  );
  return rows.sort((a, b) => a.index - b.index).map(({ level, label }) => ({ level, label }));
}

/** Labels of the rows nested under the first top-level row whose label matches `parent`. */
function childrenOf(rows: Array<{ level: number; label: string }>, parent: RegExp): string[] {
  const start = rows.findIndex((r) => r.level === 1 && parent.test(r.label));
  if (start < 0) return [];
  const children: string[] = [];
  for (const row of rows.slice(start + 1)) {
    if (row.level === 1) break;
    if (row.level === 2) children.push(row.label);
  }
  return children;
}

function formatRows(rows: Array<{ level: number; label: string }>): string {
  return rows.map((r) => `${'  '.repeat(r.level - 1)}${r.label}`).join('\n');
}

/**
 * Clicks `item`'s twistie until the tree shows it `expanded` (or collapsed). One click is not
 * always enough: a click that lands while the view is drawing its rows again (the model-setup
 * check refreshes the views a moment after they fill) can be lost with the row it hit. The
 * state is read before every click, so a click that did land is never undone by another.
 */
async function toggleTo(item: Locator, expanded: boolean): Promise<void> {
  const want = String(expanded);
  for (let attempt = 1; ; attempt++) {
    if ((await item.getAttribute('aria-expanded')) === want) return;
    await item.locator('.monaco-tl-twistie').click();
    try {
      await item.and(item.page().locator(`[aria-expanded="${want}"]`)).waitFor({ timeout: 15_000 });
      return;
    } catch (e) {
      if (attempt === 3) throw new Error(`the row did not become ${expanded ? 'expanded' : 'collapsed'} after ${attempt} clicks on its twistie: ${String(e)}`);
    }
  }
}

/** A word on its own, so that "qa" does not match inside another word. */
const word = (text: string) => new RegExp(`(^|[^\\w-])${text}($|[^\\w-])`);

describe('Symphony in the VS Code workbench (packaged vsix)', function () {
  let dirs: TestDirs | undefined;
  let server: RunningCodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let installOutput = '';

  async function captureFailure(name: string): Promise<void> {
    const file = path.join(testResultsDir, `e2e-failure-${name.replace(/[^\w-]+/g, '-').slice(0, 60)}.png`);
    if (page) {
      await page.screenshot({ path: file }).then(
        () => console.error(`    screenshot of the failure: ${path.relative(repoRoot, file)}`),
        () => undefined,
      );
    }
    if (page) {
      const rows = await treeRows(page.locator(viewTreeSelector('Ensembles'))).catch(() => []);
      console.error(`    the Ensembles view shows${rows.length ? `:\n${formatRows(rows).replace(/^/gm, '      ')}` : ' no rows'}`);
    }
    if (server) console.error(`    last lines of ${server.logFile}:\n${server.logTail(15).replace(/^/gm, '      ')}`);
  }

  before(async function () {
    ({ dirs, server, browser, page, installOutput } = await startPackagedWorkbench({ prefix: 'symphony-e2e', logDir, viewport: { width: 1400, height: 900 } }));
    try {
      await page.goto(folderUrl(server, dirs.workspace));
      await openSymphonyContainer(page);
    } catch (error) {
      await captureFailure('opening-the-workbench');
      throw error;
    }
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await captureFailure(this.currentTest.title);
  });

  after(async function () {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await dirs?.remove();
  });

  it('installed the vsix as symphony-dev.symphony', async function () {
    const folder = path.join(dirs!.extensionsDir, `${EXTENSION_ID}-${version}`);
    assert.ok(existsSync(path.join(folder, 'package.json')), `no ${folder} after installing; code-server said:\n${installOutput}`);
    assert.ok(existsSync(path.join(folder, 'dist', 'extension.js')), 'the vsix has no dist/extension.js');
  });

  it('shows the ensembles and, expanded, their instruments in the Ensembles view', async function () {
    const tree = page!.locator(viewTreeSelector('Ensembles'));
    const ensemble = (id: string) => tree.getByRole('treeitem', { level: 1, name: word(id) });
    const instrument = (nickname: string) => tree.getByRole('treeitem', { level: 2, name: new RegExp(`^${nickname}\\b`) });

    for (const id of ['backend', 'qa', 'research']) {
      await ensemble(id).waitFor({ state: 'visible', timeout: 60_000 });
    }

    // Expand backend for real: collapse it first when the view shows it expanded.
    const backend = ensemble('backend');
    if ((await backend.getAttribute('aria-expanded')) === 'true') {
      await toggleTo(backend, false);
      await instrument('Tuba').waitFor({ state: 'detached' });
    }
    await toggleTo(backend, true);
    await instrument('Tuba').waitFor({ state: 'visible' });
    await instrument('Cello').waitFor({ state: 'visible' });

    const rows = await treeRows(tree);
    const backendChildren = childrenOf(rows, word('backend'));
    assert.ok(
      backendChildren.some((label) => /^Tuba\b/.test(label)) && backendChildren.some((label) => /^Cello\b/.test(label)),
      `Tuba and Cello should be instruments of backend; the tree shows:\n${formatRows(rows)}`,
    );

    await page!.screenshot({ path: path.join(testResultsDir, 'e2e-ensembles.png') });
  });
});
