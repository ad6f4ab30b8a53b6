import * as vscode from 'vscode';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { loadChambers } from '../../core/chambers/registry';
import { scanText, type Marker } from '../../core/deviations/markers';
import { guessModule } from '../../core/deviations/module';
import {
  DEVIATIONS_FILE,
  describeFailure,
  locationOf,
  recordDeviation,
  resolveDeviation,
  type MarkerAt,
  type NewDeviation,
  type RecordsFailure,
} from '../../core/deviations/records';
import { formatDiagnostic } from '../../core/model/diagnostic';
import { MARKER_OF, SEVERITIES, type DeviationRecord, type DeviationSeverity } from '../../core/model/deviation';
import { toVscodeRange } from '../adapters';
import type { DeviationIndex } from './deviationIndex';
import type { MultiStepInput, Step } from './multiStepInput';

/**
 * Record Deviation, Open Deviation Record and Resolve Deviation. Each takes what its
 * callers pass — a tree row, a `{ file, line }` marker reference from a quick fix, a record
 * id — or nothing, and then works on the marker under the cursor or asks.
 */

/** What the record commands work with. */
export interface RecordServices {
  readonly index: DeviationIndex;
  readonly input: MultiStepInput;
  /** Remembers the last agent name between recordings. */
  readonly memento: vscode.Memento;
}

/** A marker named by its workspace-relative file and 1-based line (what quick fixes pass). */
export interface MarkerRef {
  readonly file: string;
  readonly line: number;
}

const AGENT_KEY = 'symphony.deviations.lastAgent';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** The marker a command argument names: a marker ref, a tree row, or the cursor's line. */
export function markerTarget(index: DeviationIndex, target: unknown): MarkerAt | undefined {
  if (isObject(target) && typeof target.file === 'string') {
    if (isObject(target.marker)) return { file: target.file, marker: target.marker as unknown as Marker };
    if (typeof target.line === 'number') {
      const marker = index.markerOn(target.file, target.line);
      return marker && { file: target.file, marker };
    }
  }
  if (target !== undefined) return undefined;
  const editor = vscode.window.activeTextEditor;
  const file = editor && index.relativePath(editor.document.uri);
  const marker = file ? index.markerOn(file, editor!.selection.active.line + 1) : undefined;
  return marker && { file: file!, marker };
}

/** The record a command argument names: an id, a tree row, or the record of a marker. */
function recordTarget(index: DeviationIndex, target: unknown): DeviationRecord | undefined {
  const id = typeof target === 'string' ? target : isObject(target) && isObject(target.record) ? target.record.id : undefined;
  if (typeof id === 'string') return index.records.find((r) => r.id === id);
  const at = markerTarget(index, target);
  return at && index.links.recordOf.get(at.marker);
}

function failure(f: RecordsFailure, root: string): Error {
  return new Error(describeFailure(f, (d) => formatDiagnostic(d, d.file.startsWith(root) ? d.file.slice(root.length + 1) : d.file)).join(' '));
}

const FIELDS = ['agent', 'module', 'severity', 'expected', 'discovered', 'action', 'reasoning', 'impact'] as const;

/** The eight questions, prefilled. */
function recordSteps(prefill: Partial<NewDeviation>): Step[] {
  const title = 'Record Deviation';
  const required = (what: string) => (v: string) => (v.trim() ? undefined : `${what} is required`);
  const text = (field: (typeof FIELDS)[number], prompt: string, validate?: (v: string) => string | undefined): Step => ({
    kind: 'input',
    title,
    prompt,
    value: prefill[field] as string | undefined,
    ...(validate ? { validate } : {}),
  });
  return [
    text('agent', 'Who found it: an instrument nickname or a person', required('the agent')),
    text('module', 'The module it concerns', required('the module')),
    {
      kind: 'pick',
      title,
      placeholder: 'How far does it depart from the architecture?',
      items: SEVERITIES.map((s) => ({ label: s, description: MARKER_OF[s], value: s })),
      ...(prefill.severity ? { value: prefill.severity } : {}),
    },
    text('expected', 'What the architecture said'),
    text('discovered', 'What the code actually needed'),
    text('action', 'What was done about it'),
    text('reasoning', 'Why'),
    text('impact', 'What it changes for other modules'),
  ];
}

/**
 * Symphony: Record Deviation. From a marker (quick fix, tree row or the cursor's line) the
 * record is prefilled from it and linked to it. With all eight `fields` given (a melody's
 * `vscode-command` node, another extension) nothing is asked.
 */
export async function recordDeviationCommand(s: RecordServices, target?: unknown, fields: Partial<NewDeviation> = {}): Promise<DeviationRecord | undefined> {
  const root = s.index.root;
  if (!root) throw new Error('open a workspace folder to record deviations');
  const at = markerTarget(s.index, target);
  const chambers = await loadChambers(root);
  const prefill: Partial<NewDeviation> = {
    agent: s.memento.get<string>(AGENT_KEY) ?? userInfo().username,
    ...(at ? { severity: at.marker.severity, discovered: at.marker.text, module: guessModule(at.file, chambers.ok ? chambers.value : []) } : {}),
    ...fields,
  };
  let values: NewDeviation;
  if (FIELDS.every((f) => typeof fields[f] === 'string')) {
    values = fields as NewDeviation;
  } else {
    const answers = await s.input.run(recordSteps(prefill));
    if (!answers) return undefined;
    values = Object.fromEntries(FIELDS.map((f, i) => [f, answers[i]!.trim()])) as unknown as NewDeviation;
  }
  const r = await recordDeviation(root, { ...values, severity: values.severity as DeviationSeverity, markers: at ? [locationOf(at.file, at.marker)] : [] });
  if (!r.ok) throw failure(r.error, root);
  await s.memento.update(AGENT_KEY, values.agent);
  await s.index.reloadRecords();
  const open = 'Open Record';
  void vscode.window.showInformationMessage(`Symphony: recorded ${r.value.id} (${r.value.severity}, module ${r.value.module}).`, open).then((c) => {
    if (c === open) void openDeviationRecordCommand(s, r.value.id);
  });
  return r.value;
}

/** Asks which record, among the open ones. */
async function pickRecord(index: DeviationIndex, placeholder: string): Promise<DeviationRecord | undefined> {
  const open = index.records.filter((r) => r.status === 'open');
  if (open.length === 0) {
    void vscode.window.showInformationMessage('Symphony: no open deviation is recorded.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    open.map((r) => ({ label: r.id, description: `${r.severity} · ${r.module}`, detail: r.discovered, record: r })),
    { placeHolder: placeholder, matchOnDescription: true, matchOnDetail: true },
  );
  return picked?.record;
}

/** Symphony: Open Deviation Record — DEVIATIONS.json, at the record's id. */
export async function openDeviationRecordCommand(s: Pick<RecordServices, 'index'>, target?: unknown): Promise<vscode.TextEditor | undefined> {
  const root = s.index.root;
  if (!root) return undefined;
  const record = recordTarget(s.index, target) ?? (target === undefined ? await pickRecord(s.index, 'Which deviation?') : undefined);
  if (!record) {
    if (target !== undefined) throw new Error('that marker has no record yet: record it first');
    return undefined;
  }
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(join(root, DEVIATIONS_FILE)));
  const at = new RegExp(`"id"\\s*:\\s*"${record.id}"`).exec(doc.getText());
  const pos = doc.positionAt(at?.index ?? 0);
  return vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, doc.lineAt(pos.line).range.end) });
}

/** What Resolve Deviation did. */
export interface ResolveOutcome {
  /** Markers removed from the code. */
  readonly removed: number;
  /** The record marked resolved, if the markers had one. */
  readonly resolved?: string;
}

/**
 * Deletes markers from their files (as one edit per file, so it can be undone) and saves
 * the files that had no unsaved changes before.
 */
async function removeMarkers(index: DeviationIndex, markers: readonly MarkerAt[]): Promise<number> {
  const edit = new vscode.WorkspaceEdit();
  const wasClean: vscode.TextDocument[] = [];
  let count = 0;
  for (const file of new Set(markers.map((m) => m.file))) {
    const doc = await vscode.workspace.openTextDocument(index.uriOf(file));
    if (!doc.isDirty) wasClean.push(doc);
    // Positions from the document's text now, not from the last scan.
    const live = scanText(doc.getText());
    for (const { marker } of markers.filter((m) => m.file === file)) {
      const now = live.find((m) => m.line === marker.line && m.text === marker.text) ?? live.find((m) => m.text === marker.text && m.marker === marker.marker);
      if (!now) continue;
      edit.delete(doc.uri, toVscodeRange(now.removal));
      count++;
    }
  }
  if (count && !(await vscode.workspace.applyEdit(edit))) throw new Error('the files changed while removing the markers; try again');
  for (const doc of wasClean) await doc.save();
  return count;
}

/**
 * Symphony: Resolve Deviation — removes the markers of a deviation from the code and marks
 * its record resolved. On an unrecorded marker, removes that marker.
 */
export async function resolveDeviationCommand(s: Pick<RecordServices, 'index'>, target?: unknown): Promise<ResolveOutcome | undefined> {
  const root = s.index.root;
  if (!root) return undefined;
  const at = markerTarget(s.index, target);
  const record = recordTarget(s.index, target) ?? (target === undefined && !at ? await pickRecord(s.index, 'Which deviation is resolved?') : undefined);
  if (!record && !at) return undefined;
  const markers = record ? (s.index.links.markersOf.get(record.id) ?? []) : [at!];
  const removed = await removeMarkers(s.index, markers);
  if (!record) return { removed };
  const r = await resolveDeviation(root, record.id);
  if (!r.ok) throw failure(r.error, root);
  await s.index.reloadRecords();
  void vscode.window.showInformationMessage(`Symphony: ${record.id} resolved${removed ? `, ${removed} marker${removed === 1 ? '' : 's'} removed` : ''}.`);
  return { removed, resolved: record.id };
}
