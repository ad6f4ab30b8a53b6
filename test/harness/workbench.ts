/** Helpers for the code-server web workbench shared by the integration harness, demo and e2e. */
import { format, stripVTControlCharacters } from 'node:util';
import type { Page } from 'playwright-core';
import type { RunningCodeServer } from './codeServer';

/** Where the workbench should load an extension under development (and maybe its tests). */
export interface DevelopmentTarget {
  folder: string;
  extensionDevelopmentPath: string;
  extensionTestsPath?: string;
}

/** `vscode-remote://host:port/abs/path`: how the web workbench names a file on the server. */
function remoteUri(server: RunningCodeServer, absolutePath: string): string {
  const authority = new URL(server.url).host;
  return `vscode-remote://${authority}${absolutePath.split('/').map(encodeURIComponent).join('/')}`;
}

/** The workbench URL that opens `folder`, loading the extension at `extensionDevelopmentPath`. */
export function developmentUrl(server: RunningCodeServer, target: DevelopmentTarget): string {
  const payload: Array<[string, string]> = [['extensionDevelopmentPath', remoteUri(server, target.extensionDevelopmentPath)]];
  if (target.extensionTestsPath) payload.push(['extensionTestsPath', remoteUri(server, target.extensionTestsPath)]);
  const query = new URLSearchParams({ folder: target.folder, payload: JSON.stringify(payload) });
  return `${server.url}?${query.toString()}`;
}

/** The workbench URL that opens `folder`. */
export function folderUrl(server: RunningCodeServer, folder: string): string {
  return `${server.url}?${new URLSearchParams({ folder }).toString()}`;
}

/**
 * Workbench chatter that reaches `codeAutomationLog` along with the extension host's
 * console: connection set-up, the Open VSX gallery that this offline machine cannot
 * reach, and the workbench timing its own start-up on a busy machine. Kept in the log
 * file, left out of the terminal.
 */
const WORKBENCH_NOISE = [
  /^Resolving connection token/,
  /^Resolved connection token/,
  /^Creating a socket/,
  /^Updating additional builtin extensions cache/,
  /^\[Service Worker\]/,
  /^ChatSessionStore:/,
  /open-vsx\.org/,
  /^Creation of workbench contribution '[^']+' took \d+ms\./,
];

/**
 * What `codeAutomationLog(type, args)` receives, as text: `type` is the level ('info',
 * 'warn', 'error', …) and `args` the arguments of the console call in the extension host
 * (printf-style, e.g. mocha's `['  %d passing (%s)', 3, '538ms']`) or of a workbench log.
 */
export function formatHostLog(type: unknown, args: unknown): { text: string; noise: boolean } {
  const parts = Array.isArray(args) ? (args as unknown[]) : [args];
  // Mocha's check marks are coloured by picocolors even with `color: false` when CI is set.
  const text = stripVTControlCharacters(format(...parts));
  const level = String(type);
  const prefix = level === 'info' || level === 'log' ? '' : `[${level}] `;
  return { text: prefix + text, noise: WORKBENCH_NOISE.some((pattern) => pattern.test(text)) };
}

/** CSS for the Symphony item in the activity bar (its `<a>` carries the container's title). */
export const SYMPHONY_ACTIVITY_SELECTOR = '.part.activitybar a.action-label[aria-label^="Symphony"]';

/** A view's section header in the side bar, e.g. "Ensembles Section". */
export function paneHeaderSelector(viewName: string): string {
  return `.part.sidebar .pane-header[aria-label="${viewName} Section"]`;
}

/** A view's tree (its `role=tree` element is labelled with the view's name). */
export function viewTreeSelector(viewName: string): string {
  return `.part.sidebar [role="tree"][aria-label="${viewName}"]`;
}

/**
 * Waits for the workbench to load, opens the Symphony view container from the activity
 * bar and makes sure the Ensembles section is expanded. Waits by polling locators.
 */
export async function openSymphonyContainer(page: Page, timeout = 90_000): Promise<void> {
  const item = page.locator(SYMPHONY_ACTIVITY_SELECTOR);
  await item.waitFor({ state: 'visible', timeout });
  const header = page.locator(paneHeaderSelector('Ensembles'));
  // The sidebar may already show Symphony (restored state); clicking again would hide it.
  if (!(await header.isVisible())) await item.click();
  await header.waitFor({ state: 'visible', timeout: 30_000 });
  if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
}

/**
 * Polls `probe` until it holds; the failure says what was last seen. Playwright's own
 * waits cover elements; this covers conditions across several of them.
 */
export async function until(what: string, probe: () => Promise<boolean>, describe: () => Promise<string>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen:\n${await describe().catch((e: Error) => e.message)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * In the open quick input: types `text` (again, should the input clear itself as it
 * opens) until an entry showing `entry` is offered, and clicks it.
 */
export async function choose(page: Page, text: string, entry: string): Promise<void> {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor();
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: entry }).first();
  await until(
    `the quick input to offer ${entry}`,
    async () => {
      if ((await input.inputValue()) !== text) await input.fill(text);
      return row.isVisible();
    },
    async () => `typed "${await input.inputValue()}"`,
  );
  await row.click();
}

/**
 * Quick Open from the title bar's command center, `text` typed (`>` for a command), and
 * the entry showing `entry` taken. Clicks, not keys: they work wherever the focus is, even
 * in a webview that keeps the keys it handles.
 */
export async function quickOpen(page: Page, text: string, entry: string): Promise<void> {
  await page.locator('.command-center-center').click();
  await choose(page, text, entry);
}

/** A modal dialog of the workbench, such as "Do you want to save the changes…?". */
const DIALOG = '.monaco-dialog-box';

/**
 * Leaves the workbench as a test found it, whatever state a failure left it in: a modal
 * dialog answered "Don't Save" (or cancelled), an open quick input closed, and every editor
 * reverted and closed. A dirty editor left behind would otherwise make the next test's
 * Close All Editors ask "Save changes?" — a dialog that fails every test after it.
 */
export async function closeAllEditorsWithoutSaving(page: Page): Promise<void> {
  const dialog = page.locator(DIALOG);
  const dismissDialogs = async () => {
    for (let i = 0; i < 5 && (await dialog.isVisible()); i++) {
      const dontSave = dialog.getByRole('button', { name: /Don.t Save/ });
      if (await dontSave.isVisible()) await dontSave.click();
      else await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
    }
  };
  await dismissDialogs();
  const quickInput = page.locator('.quick-input-widget');
  if (await quickInput.isVisible()) {
    await page.keyboard.press('Escape');
    await quickInput.waitFor({ state: 'hidden' });
  }
  const tabs = page.locator('.part.editor .tab');
  // One editor per command, the active one: reverted first, so nothing is left to ask about.
  for (let open = await tabs.count(); open > 0; open = await tabs.count()) {
    await quickOpen(page, '>View: Revert and Close Editor', 'View: Revert and Close Editor');
    await until('an editor to close', async () => (await tabs.count()) < open || (await dialog.isVisible()), async () => `${await tabs.count()} editors open`);
    await dismissDialogs();
  }
}
