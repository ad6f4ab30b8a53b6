import * as vscode from 'vscode';
import { join } from 'node:path';
import { ensembleFileKind, loadEnsembleText, loadInstrumentText } from '../core/load/ensembles';
import { diagnosticsOf, loadMelody } from '../core/load/melody';
import type { WorkspaceModel } from '../core/load/workspace';
import type { Diagnostic } from '../core/model/diagnostic';
import { toVscodeDiagnostic } from './adapters';
import type { SymphonyContext } from './context';

/**
 * Diagnostics for melodies and instrument files. Files open in an editor are checked from
 * their live text as the user types; every other file shows what the last workspace load
 * found on disk. Both use the same core loaders as `symphony validate`.
 */
export class MelodyDiagnostics implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('symphony');
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly fromDisk = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [this.collection];

  constructor(private readonly ctx: SymphonyContext) {
    const ws = vscode.workspace;
    ws.onDidOpenTextDocument((d) => this.checkDocument(d), undefined, this.disposables);
    ws.onDidChangeTextDocument((e) => this.scheduleCheck(e.document), undefined, this.disposables);
    ws.onDidCloseTextDocument((d) => this.onClosed(d), undefined, this.disposables);
    ctx.index.onDidChange((model) => this.publishWorkspace(model), undefined, this.disposables);
  }

  private isSymphonyFile(doc: vscode.TextDocument): boolean {
    return doc.uri.scheme === 'file' && this.ctx.index.isRelevant(doc.uri);
  }

  private scheduleCheck(doc: vscode.TextDocument): void {
    if (!this.isSymphonyFile(doc)) return;
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.checkDocument(doc);
      }, this.ctx.options.diagnosticsDelay),
    );
  }

  /** Checks a document's current text (saved or not). */
  checkDocument(doc: vscode.TextDocument): void {
    if (!this.isSymphonyFile(doc) || doc.isClosed) return;
    const file = doc.uri.fsPath;
    const found = this.check(file, doc.getText());
    if (found) this.collection.set(doc.uri, found.map(toVscodeDiagnostic));
  }

  private check(file: string, text: string): readonly Diagnostic[] | undefined {
    const model = this.ctx.index.model;
    if (file.endsWith('.melody.yaml')) return diagnosticsOf(loadMelody(text, file, model?.context));
    const ensemblesDir = model?.ensembles.dir ?? join(this.ctx.index.root?.uri.fsPath ?? '', this.ctx.options.ensemblesFolder);
    const kind = ensembleFileKind(file, ensemblesDir);
    if (!kind) return undefined;
    const r = kind === 'ensemble' ? loadEnsembleText(text, file) : loadInstrumentText(text, file);
    const own = r.ok ? r.value.warnings : r.error;
    // Workspace-wide findings about this file (duplicate nicknames) come from the last load.
    const shared = model?.ensembles.diagnostics.filter((d) => d.file === file && d.code === 'duplicate-nickname') ?? [];
    return [...own, ...shared];
  }

  private onClosed(doc: vscode.TextDocument): void {
    if (!this.isSymphonyFile(doc)) return;
    clearTimeout(this.timers.get(doc.uri.toString()));
    // Back to what is on disk: the Problems panel keeps describing the saved file.
    this.publishWorkspace(this.ctx.index.model);
  }

  /** Publishes the disk state for closed files and re-checks open ones against the new model. */
  private publishWorkspace(model: WorkspaceModel | undefined): void {
    const open = new Map(vscode.workspace.textDocuments.filter((d) => this.isSymphonyFile(d)).map((d) => [d.uri.fsPath, d]));
    const byFile = new Map<string, Diagnostic[]>();
    const add = (file: string, list: readonly Diagnostic[]) => byFile.set(file, [...(byFile.get(file) ?? []), ...list]);
    for (const m of model?.melodies ?? []) add(m.file, m.diagnostics);
    for (const d of model?.ensembles.diagnostics ?? []) add(d.file, [d]);

    const stale = new Set(this.fromDisk);
    this.fromDisk.clear();
    for (const [file, list] of byFile) {
      stale.delete(file);
      if (open.has(file)) continue;
      this.collection.set(vscode.Uri.file(file), list.map(toVscodeDiagnostic));
      this.fromDisk.add(file);
    }
    for (const file of stale) if (!open.has(file)) this.collection.delete(vscode.Uri.file(file));
    for (const doc of open.values()) this.checkDocument(doc);
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
  }
}
