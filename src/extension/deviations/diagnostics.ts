import * as vscode from 'vscode';
import { join } from 'node:path';
import { markerDiagnostic } from '../../core/deviations/markers';
import { DEVIATIONS_FILE } from '../../core/deviations/records';
import { toVscodeDiagnostic } from '../adapters';
import type { DeviationIndex } from './deviationIndex';

/**
 * Deviation markers as diagnostics — minor → Information, major → Warning, fundamental →
 * Error, source `symphony` — inline and in the Problems panel, plus the problems of
 * `.symphony/DEVIATIONS.json`. Renders the index; reads nothing itself. Its own collection,
 * so melody diagnostics on the same file never replace these.
 */
export class DeviationDiagnostics implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('symphony-deviations');
  private readonly subscription: vscode.Disposable;

  constructor(private readonly index: DeviationIndex) {
    this.subscription = index.onDidChange((change) => {
      // Records decide which markers are recorded, in any file: a change to them redraws all.
      if (!change.files || change.files.includes(DEVIATIONS_FILE)) this.publishAll();
      else for (const f of change.files) this.publish(f);
    });
  }

  /** The note after a marker's message: which record explains it. */
  private note(file: string, line: number): string | undefined {
    const marker = this.index.markerOn(file, line);
    const record = marker && this.index.links.recordOf.get(marker);
    if (!record) return undefined;
    return record.status === 'resolved' ? `(recorded as ${record.id}, resolved: remove the marker)` : `(recorded as ${record.id})`;
  }

  private publish(file: string): void {
    const uri = this.index.uriOf(file);
    const list = this.index.markersIn(file).map((m) => toVscodeDiagnostic(markerDiagnostic(uri.fsPath, m, this.note(file, m.line))));
    if (list.length) this.collection.set(uri, list);
    else this.collection.delete(uri);
  }

  private publishAll(): void {
    this.collection.clear();
    for (const f of this.index.files) this.publish(f);
    const problems = this.index.problems;
    if (problems.length && this.index.root) this.collection.set(vscode.Uri.file(join(this.index.root, DEVIATIONS_FILE)), problems.map(toVscodeDiagnostic));
  }

  dispose(): void {
    this.subscription.dispose();
    this.collection.dispose();
  }
}
