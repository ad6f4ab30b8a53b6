import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseJsonWith, readJsonFile } from '../load/jsonFile';
import {
  deviationRecordSchema,
  deviationsFileSchema,
  type DeviationRecord,
  type DeviationSeverity,
  type DeviationsFile,
  type MarkerLocation,
} from '../model/deviation';
import type { Diagnostic } from '../model/diagnostic';
import { err, ok, type Result } from '../model/result';
import { withFileLock } from '../store/lock';
import { writeFileAtomic } from '../store/files';
import type { Marker } from './markers';

/**
 * The deviation records in `.symphony/DEVIATIONS.json`. Every change reads the file,
 * validates it, changes it and replaces it atomically under a lock, so two processes
 * recording at once both land; a file that does not validate is reported and never
 * written over.
 */

/** Where the records live, relative to the workspace root. */
export const DEVIATIONS_FILE = '.symphony/DEVIATIONS.json';

export function deviationsPath(root: string): string {
  return join(root, DEVIATIONS_FILE);
}

/** The eight fields a person or an agent gives when recording a deviation. */
export interface NewDeviation {
  readonly agent: string;
  readonly module: string;
  readonly severity: DeviationSeverity;
  readonly expected: string;
  readonly discovered: string;
  readonly action: string;
  readonly reasoning: string;
  readonly impact: string;
  /** Markers in the code this record explains. */
  readonly markers?: readonly MarkerLocation[];
}

/** Why a change to the records did not happen. */
export type RecordsFailure =
  /** DEVIATIONS.json exists but is not valid: fix it by hand; it was not touched. */
  | { readonly reason: 'corrupt'; readonly diagnostics: readonly Diagnostic[] }
  /** The new values do not make a valid record. */
  | { readonly reason: 'invalid'; readonly message: string }
  | { readonly reason: 'unknown-id'; readonly message: string };

/** The failure as lines a person reads: diagnostics as `file:line:col: message`. */
export function describeFailure(f: RecordsFailure, format: (d: Diagnostic) => string): string[] {
  if (f.reason === 'corrupt') return [...f.diagnostics.map(format), `${DEVIATIONS_FILE} was left as it is; fix it, then try again.`];
  return [f.message];
}

const WHAT = 'expected { "version": 1, "deviations": [] }';

/** Parses the text of DEVIATIONS.json (the extension reads it from the editor or disk). */
export function parseDeviations(text: string, file: string): Result<DeviationsFile, Diagnostic[]> {
  return parseJsonWith(deviationsFileSchema, text, file, WHAT);
}

/** The records of a workspace; none when the file does not exist yet. */
export async function loadDeviations(root: string): Promise<Result<DeviationRecord[], RecordsFailure>> {
  const r = await readJsonFile(deviationsFileSchema, deviationsPath(root), WHAT);
  if (!r.ok) return err({ reason: 'corrupt', diagnostics: r.error });
  return ok(r.value?.deviations ?? []);
}

/** A new record id: short, and unlikely to collide when chambers record in parallel. */
export function newDeviationId(): string {
  return `dev-${randomBytes(4).toString('hex')}`;
}

/**
 * Changes the records under the lock: `change` gets the current list and returns the new
 * one and a value to return, or a failure, in which case nothing is written.
 */
export async function updateDeviations<T>(
  root: string,
  change: (records: DeviationRecord[]) => Result<{ records: DeviationRecord[]; value: T }, RecordsFailure>,
): Promise<Result<T, RecordsFailure>> {
  const path = deviationsPath(root);
  await fsp.mkdir(dirname(path), { recursive: true });
  return withFileLock(`${path}.lock`, async () => {
    const current = await loadDeviations(root);
    if (!current.ok) return current;
    const changed = change(current.value);
    if (!changed.ok) return changed;
    const file: DeviationsFile = { version: 1, deviations: changed.value.records };
    await writeFileAtomic(path, JSON.stringify(file, null, 2) + '\n', { durable: false });
    return ok(changed.value.value);
  });
}

/** Adds a record; resolves to it, with its new id and timestamps. */
export async function recordDeviation(root: string, input: NewDeviation, now: Date = new Date()): Promise<Result<DeviationRecord, RecordsFailure>> {
  const at = now.toISOString();
  return updateDeviations(root, (records) => {
    const ids = new Set(records.map((r) => r.id));
    let id = newDeviationId();
    while (ids.has(id)) id = newDeviationId();
    const parsed = deviationRecordSchema.safeParse({
      id,
      ...input,
      markers: input.markers ?? [],
      status: 'open',
      createdAt: at,
      updatedAt: at,
    });
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'record'}: ${i.message}`);
      return err({ reason: 'invalid', message: `not a valid deviation: ${problems.join('; ')}` });
    }
    return ok({ records: [...records, parsed.data], value: parsed.data });
  });
}

/** Applies `edit` to the record `id`, stamping `updatedAt`. */
function editRecord(root: string, id: string, now: Date, edit: (r: DeviationRecord, at: string) => DeviationRecord): Promise<Result<DeviationRecord, RecordsFailure>> {
  return updateDeviations(root, (records) => {
    const i = records.findIndex((r) => r.id === id);
    if (i < 0) return err({ reason: 'unknown-id', message: `there is no deviation ${id} in ${DEVIATIONS_FILE}` });
    const at = now.toISOString();
    const updated = { ...edit(records[i]!, at), updatedAt: at };
    return ok({ records: records.map((r, j) => (j === i ? updated : r)), value: updated });
  });
}

/** Marks a record resolved. Resolving twice keeps the first `resolvedAt`. */
export function resolveDeviation(root: string, id: string, now: Date = new Date()): Promise<Result<DeviationRecord, RecordsFailure>> {
  return editRecord(root, id, now, (r, at) => ({ ...r, status: 'resolved', resolvedAt: r.resolvedAt ?? at }));
}

/** Links a marker to an existing record. */
export function linkMarker(root: string, id: string, location: MarkerLocation, now: Date = new Date()): Promise<Result<DeviationRecord, RecordsFailure>> {
  return editRecord(root, id, now, (r) => ({ ...r, markers: [...r.markers, location] }));
}

/** A marker in a workspace file (path relative to the root, `/`-separated). */
export interface MarkerAt {
  readonly file: string;
  readonly marker: Marker;
}

/** Which marker belongs to which record. */
export interface MarkerLinks {
  readonly recordOf: ReadonlyMap<Marker, DeviationRecord>;
  /** Record id → the live markers it is linked to (empty when they are gone from the code). */
  readonly markersOf: ReadonlyMap<string, readonly MarkerAt[]>;
}

/**
 * Links live markers to records. A record's location matches a marker in the same file
 * with the same message, wherever edits have moved it; when no marker there has that
 * message any more (it was reworded), the marker of the same severity on the recorded
 * line matches instead.
 */
export function linkMarkers(records: readonly DeviationRecord[], markers: Iterable<MarkerAt>): MarkerLinks {
  const byFile = new Map<string, MarkerAt[]>();
  for (const m of markers) byFile.set(m.file, [...(byFile.get(m.file) ?? []), m]);
  const recordOf = new Map<Marker, DeviationRecord>();
  const markersOf = new Map<string, MarkerAt[]>();
  for (const r of records) {
    const mine: MarkerAt[] = [];
    for (const loc of r.markers) {
      const inFile = byFile.get(loc.file) ?? [];
      let hits = loc.text === undefined ? [] : inFile.filter((m) => m.marker.text === loc.text);
      if (hits.length === 0) hits = inFile.filter((m) => m.marker.line === loc.line && m.marker.severity === r.severity);
      for (const h of hits) {
        if (recordOf.has(h.marker)) continue;
        recordOf.set(h.marker, r);
        mine.push(h);
      }
    }
    markersOf.set(r.id, mine);
  }
  return { recordOf, markersOf };
}

/** The location to store for a marker when a record is made from it. */
export function locationOf(file: string, m: Marker): MarkerLocation {
  return { file, line: m.line, column: m.column, text: m.text };
}
