import { simpleGit } from 'simple-git';
import * as vscode from 'vscode';
import type { SymphonyApi } from '../../src/extension/main';

export const EXTENSION_ID = 'symphony-dev.symphony';

/** The workspace folder the harness opened: a fresh copy of examples/demo. */
export function workspaceRoot(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the integration suite needs a workspace folder');
  return folder.uri;
}

/** Activates the extension (as opening the Symphony container would) and returns its API. */
export async function api(): Promise<SymphonyApi> {
  const ext = vscode.extensions.getExtension<SymphonyApi | undefined>(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not installed in this host`);
  const exports = ext.isActive ? ext.exports : await ext.activate();
  if (!exports) throw new Error('activation failed; see the Symphony log');
  await exports.activationMs;
  return exports;
}

/**
 * Polls until `probe` returns a value other than undefined/false, or fails with the last
 * value seen. Integration tests wait for conditions, never for fixed times; the deadline
 * only catches a hang, so it is generous (CI machines are loaded: npm run test:stress).
 */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The part of the built-in git extension's API (`vscode.git`, version 1) the tests read. */
interface GitExtensionApi {
  readonly repositories: readonly { readonly rootUri: vscode.Uri; readonly state: { readonly HEAD?: { readonly commit?: string } } }[];
}

/**
 * Waits until the built-in git extension has seen the workspace's HEAD. On a busy machine it
 * learns of a commit seconds after it is made: a commit an earlier test made (Conduct, a
 * chamber merge) could otherwise reach it after a later test turned triggers on, and start
 * the demo's `build` "by commit" in the middle of that test.
 */
export async function gitExtensionCaughtUp(): Promise<void> {
  const git = vscode.extensions.getExtension<{ getAPI(version: 1): GitExtensionApi }>('vscode.git');
  if (!git) throw new Error('the built-in git extension is not in this host');
  const gitApi = (git.isActive ? git.exports : await git.activate()).getAPI(1);
  const root = workspaceRoot().fsPath;
  const head = (await simpleGit({ baseDir: root }).revparse(['HEAD'])).trim();
  // The list is read each time: the repository may not be open yet.
  await waitFor(`the git extension to see HEAD at ${head.slice(0, 8)}`, () => gitApi.repositories.find((r) => r.rootUri.fsPath === root)?.state.HEAD?.commit === head);
}

/** Symphony's diagnostics for a file. */
export function symphonyDiagnostics(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'symphony');
}

export async function writeFile(uri: vscode.Uri, text: string): Promise<void> {
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
}

export async function readFile(uri: vscode.Uri): Promise<string> {
  return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
}

/**
 * Closes every editor, discarding unsaved changes. `workbench.action.closeAllEditors`
 * alone asks "Save changes?" about a dirty editor, and that modal dialog would hold up
 * every test after the one that left it.
 */
export async function closeAllEditors(): Promise<void> {
  const open = () => vscode.window.tabGroups.all.reduce((n, group) => n + group.tabs.length, 0);
  // One editor per call: the active one, reverted first, so nothing is left to ask about.
  for (let n = open(); n > 0; n--) {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    if (open() === 0) return;
  }
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/** Workspace paths the tests of this file created; see {@link cleanUpAfterEach}. */
const made: vscode.Uri[] = [];

/** A workspace path a test creates (files or folders), removed after the test whether it passed or not. */
export function scratch(...path: string[]): vscode.Uri {
  const uri = vscode.Uri.joinPath(workspaceRoot(), ...path);
  made.push(uri);
  return uri;
}

/**
 * Call inside a describe: after each test, passed or failed, its runs are cancelled, its
 * editors closed without saving and its {@link scratch} paths removed — so a failure stays
 * the failure of one test instead of breaking the ones after it.
 */
export function cleanUpAfterEach(): void {
  afterEach(async () => {
    await (await api()).context.runs.shutdown(30_000);
    await closeAllEditors();
    for (const uri of made.splice(0)) await vscode.workspace.fs.delete(uri, { recursive: true }).then(undefined, () => undefined);
  });
}
