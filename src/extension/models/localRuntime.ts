import * as vscode from 'vscode';
import { addLocalRuntimeFolder, LOCAL_RUNTIME_VERSION, localRuntimeStatus, RuntimeMissing } from '../../core/providers/local';
import type { ProviderModule } from '../../core/providers/registry';

/**
 * The local llama.cpp runtime (node-llama-cpp) is not part of the extension — its native
 * binaries would make the VSIX huge — so the extension installs it on request into its own
 * storage folder and tells the local provider to look there.
 */

/** Where the extension installs node-llama-cpp: `<global storage>/local-runtime/node_modules`. */
export function localRuntimeFolder(extension: vscode.ExtensionContext): string {
  return vscode.Uri.joinPath(extension.globalStorageUri, 'local-runtime').fsPath;
}

/** Makes the provider look in the extension's runtime folder (call once at activation). */
export function useLocalRuntimeFolder(extension: vscode.ExtensionContext): void {
  addLocalRuntimeFolder(localRuntimeFolder(extension));
}

const INSTALL = 'Install Local Runtime';

/**
 * The local provider, offering the install the first time a local instrument finds the
 * runtime missing in this window (once: a melody with many local nodes asks once).
 */
export function withInstallOffer(local: ProviderModule, extension: vscode.ExtensionContext): ProviderModule {
  let offered = false;
  const offer = (e: unknown) => {
    if (offered || !(e instanceof RuntimeMissing)) return;
    offered = true;
    void vscode.window
      .showInformationMessage(
        `Local models run with llama.cpp (node-llama-cpp ${LOCAL_RUNTIME_VERSION}, about 80 MB), which is not installed. Install it for Symphony now?`,
        INSTALL,
      )
      .then((choice) => choice === INSTALL && vscode.commands.executeCommand('symphony.installLocalRuntime'));
  };
  return {
    open: (instrument, ctx, key) => local.open(instrument, ctx, key).catch((e: unknown) => (offer(e), Promise.reject(e))),
    check: (instrument, ctx, key) => local.check(instrument, ctx, key),
  };
}

/**
 * Symphony: Install Local Model Runtime — `npm install node-llama-cpp@<version>` into the
 * extension's storage, as a VS Code task (a program with arguments, no shell) the user
 * watches in the terminal; resolves with whether the runtime then loads.
 */
export async function installLocalRuntime(extension: vscode.ExtensionContext): Promise<boolean> {
  const folder = localRuntimeFolder(extension);
  await vscode.workspace.fs.createDirectory(vscode.Uri.file(folder));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const execution = new vscode.ProcessExecution(npm, ['install', '--prefix', folder, '--no-audit', '--no-fund', `node-llama-cpp@${LOCAL_RUNTIME_VERSION}`], {
    // Prebuilt CPU binaries only: no CUDA download, no build from source.
    env: { NODE_LLAMA_CPP_SKIP_DOWNLOAD: 'true' },
  });
  const task = new vscode.Task({ type: 'symphony-install', runtime: 'node-llama-cpp' }, vscode.TaskScope.Global, 'Install the local model runtime', 'symphony', execution);
  const ended = new Promise<number | undefined>((resolve) => {
    const listener = vscode.tasks.onDidEndTaskProcess((e) => {
      if (e.execution.task.name !== task.name) return;
      listener.dispose();
      resolve(e.exitCode);
    });
  });
  await vscode.tasks.executeTask(task);
  const code = await ended;
  const status = await localRuntimeStatus();
  if (code === 0 && status.installed) {
    void vscode.window.showInformationMessage(`Symphony: the local model runtime is installed (${status.detail}). Local instruments can run now.`);
    return true;
  }
  void vscode.window.showErrorMessage(`Symphony: installing the local model runtime ${code === 0 ? 'finished, but it does not load' : `failed (npm exited with ${code ?? 'no code'})`}: ${status.detail}`);
  return false;
}
