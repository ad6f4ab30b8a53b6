/**
 * Entry point of the Harmony Board webview. It runs in the browser sandbox of a webview:
 * no Node, no `vscode` module — it talks to the extension only through messages.
 */

interface VsCodeApi {
  postMessage(message: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
vscode.postMessage({ type: 'ready' });
