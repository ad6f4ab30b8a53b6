import * as vscode from 'vscode';
import type { RunsModel } from './model';
import { nodeLogText, outputDocument, parseRunDocumentPath, runDocumentPath, runTranscript, type RunDocument } from './present';
import { own } from '../../core/model/names';

/** The scheme of the read-only documents showing node outputs, node logs and run transcripts. */
export const RUN_SCHEME = 'symphony-run';

/** The URI of a run document. */
export function runDocumentUri(doc: RunDocument): vscode.Uri {
  return vscode.Uri.from({ scheme: RUN_SCHEME, path: runDocumentPath(doc) });
}

/**
 * Opens a run document in a preview editor (it is read-only: a virtual document) — in the
 * active editor group, or in `viewColumn` (the Harmony Board opens them beside itself).
 */
export async function showRunDocument(doc: RunDocument, viewColumn?: vscode.ViewColumn): Promise<vscode.TextEditor> {
  const document = await vscode.workspace.openTextDocument(runDocumentUri(doc));
  return vscode.window.showTextDocument(document, { preview: true, viewColumn });
}

/**
 * Opens what a node produced: its output — text as text, anything else as JSON — or its
 * log when it has none. With `preferLog`, only a node that succeeded shows its output; a
 * failed, skipped, cancelled or running one shows its log, which starts with the error or
 * the reason.
 */
export async function showNodeResult(
  model: RunsModel,
  runId: string,
  nodeId: string,
  options: { readonly preferLog: boolean; readonly viewColumn?: vscode.ViewColumn },
): Promise<vscode.TextEditor> {
  const state = own((await model.record(runId))?.nodes, nodeId)?.state;
  const output = state === 'success' || !options.preferLog ? await model.output(runId, nodeId) : undefined;
  if (!output) return showRunDocument({ kind: 'node-log', runId, nodeId }, options.viewColumn);
  return showRunDocument({ kind: 'output', runId, nodeId, format: typeof output.value === 'string' ? 'txt' : 'json' }, options.viewColumn);
}

/**
 * Provides the `symphony-run:` documents from the run records, the journals and the
 * artifact store. Logs of runs in progress reload as their lines arrive.
 */
export class RunDocumentProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private readonly listening: vscode.Disposable;
  readonly onDidChange = this.changed.event;

  constructor(private readonly model: RunsModel) {
    this.listening = model.onDidLog((runs) => {
      for (const document of vscode.workspace.textDocuments) {
        if (document.uri.scheme !== RUN_SCHEME) continue;
        const doc = parseRunDocumentPath(document.uri.path);
        if (doc && doc.kind !== 'output' && runs.has(doc.runId)) this.changed.fire(document.uri);
      }
    });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const doc = parseRunDocumentPath(uri.path);
    if (!doc) return `${uri.toString()} is not a Symphony run document.\n`;
    try {
      switch (doc.kind) {
        case 'output': {
          const output = await this.model.output(doc.runId, doc.nodeId);
          return output ? outputDocument(output.value).text : `Node ${doc.nodeId} of run ${doc.runId} has no output.\n`;
        }
        case 'node-log': {
          const [events, record] = await Promise.all([this.model.stores().storage.events(doc.runId), this.model.record(doc.runId)]);
          return nodeLogText(events, doc.nodeId, own(record?.nodes, doc.nodeId));
        }
        case 'run-log':
          return runTranscript(await this.model.stores().storage.events(doc.runId));
      }
    } catch (e) {
      // A run removed by `symphony gc`, a damaged journal: say so in the document itself.
      return `Cannot show this document of run ${doc.runId}: ${(e as Error).message}\n`;
    }
  }

  dispose(): void {
    this.listening.dispose();
    this.changed.dispose();
  }
}
