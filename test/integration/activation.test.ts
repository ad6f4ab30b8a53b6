import * as assert from 'assert';
import * as vscode from 'vscode';
import { api, EXTENSION_ID } from './util';

describe('activation', () => {
  it('activates on the demo workspace and reports how long it took', async () => {
    const symphony = await api();
    const ms = await symphony.activationMs;
    assert.ok(vscode.extensions.getExtension(EXTENSION_ID)?.isActive);
    assert.ok(ms > 0);
    console.log(`      activation took ${ms.toFixed(0)} ms (activate() to first workspace load)`);
  });

  it('registers every command the manifest contributes', async () => {
    await api();
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { commands: { command: string }[] } };
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = manifest.contributes.commands.map((c) => c.command).filter((c) => !registered.has(c));
    assert.deepStrictEqual(missing, []);
  });

  it('declares limited support for untrusted workspaces', () => {
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { capabilities: { untrustedWorkspaces: { supported: unknown } } };
    assert.strictEqual(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
  });
});
