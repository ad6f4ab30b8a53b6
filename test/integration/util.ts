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
 * value seen. Integration tests wait for conditions, never for fixed times.
 */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
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
