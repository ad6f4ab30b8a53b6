import * as vscode from 'vscode';
import type { Host } from '../../core/nodes/types';

/** Settles with the promise, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: PromiseLike<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** A notification per level of the engine's notices. */
const SHOW = {
  info: (message: string) => vscode.window.showInformationMessage(message),
  warning: (message: string) => vscode.window.showWarningMessage(message),
  error: (message: string) => vscode.window.showErrorMessage(message),
} as const;

/**
 * VS Code as the engine's host: approvals are modal dialogs, notices are notifications,
 * and `vscode-command` nodes run commands of this window. Notices `quiet` picks (the
 * failure notices of runs that triggers started, whose end is announced once per melody)
 * go to the log only.
 */
export function vscodeHost(log: vscode.LogOutputChannel, quiet: (notice: Parameters<Host['notify']>[0]) => boolean = () => false): Host {
  return {
    name: 'vscode',
    async approve(request, signal) {
      const approve = 'Approve';
      // A modal dialog cannot be closed from code: a cancelled run stops waiting for it, and
      // an answer given afterwards is ignored.
      const choice = await untilAborted(
        vscode.window.showWarningMessage(
          request.message,
          { modal: true, detail: `Node "${request.nodeId}" of run ${request.runId} waits for your approval. Declining fails the node.` },
          approve,
        ),
        signal,
      );
      log.info(`approval for ${request.runId}/${request.nodeId}: ${choice === approve ? 'approved' : 'declined'}`);
      return choice === approve;
    },
    notify(notice) {
      if (quiet(notice)) {
        log.info(`notice of run ${notice.runId ?? '?'} (${notice.level}): ${notice.message}`);
        return;
      }
      void SHOW[notice.level](`Symphony: ${notice.message}`);
    },
    executeCommand: async (command, args) => vscode.commands.executeCommand(command, ...args),
    // Through a WorkspaceEdit, so an open editor of the file and its undo stack see the
    // change; then saved, as writing the file would have — unless the document already had
    // unsaved changes of the person's, which are theirs to save.
    editText: async (file, edit) => {
      const uri = vscode.Uri.file(file);
      const before = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      const hadChanges = before?.isDirty ?? false;
      const change = new vscode.WorkspaceEdit();
      change.replace(uri, new vscode.Range(edit.line - 1, edit.start, edit.line - 1, edit.end), edit.text);
      if (!(await vscode.workspace.applyEdit(change))) return false;
      if (!hadChanges) await (await vscode.workspace.openTextDocument(uri)).save();
      return true;
    },
  };
}
