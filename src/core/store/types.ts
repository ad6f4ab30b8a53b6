import type { AuditHead, RunEvent, RunRecord } from '../model/run';

/**
 * The durable records of runs, under `<workspace>/.symphony/`:
 *
 *   runs/<runId>/journal.jsonl   every event, one JSON object a line, append-only
 *   runs/<runId>/run.json        the record derived from the journal (applyEvent)
 *   artifacts/sha256/<ab>/<hash> content-addressed blobs: inputs, outputs, intermediates
 *   audit.jsonl                  hash-chained log of what ran, by whom, with what result
 */

/** Appends a run's events durably: `append` resolves only once the line is on disk. */
export interface RunJournal {
  readonly runId: string;
  append(event: RunEvent): Promise<void>;
  close(): Promise<void>;
}

export interface RunStorage {
  /** Creates `runs/<runId>/` and its journal; fails if the run exists. */
  create(runId: string): Promise<RunJournal>;
  /**
   * Opens an existing run for appending (resume): its events so far (a torn last line from
   * a crash is dropped) and a journal positioned after them.
   */
  reopen(runId: string): Promise<{ readonly events: RunEvent[]; readonly journal: RunJournal }>;
  /** Whether another live process has the run open: such a run must not be resumed. */
  isLive(runId: string): Promise<boolean>;
  /** Reads a run's events (tolerating a torn last line). */
  events(runId: string): Promise<RunEvent[]>;
  /** Writes `run.json` atomically (write to a temp file, then rename). */
  writeRecord(record: RunRecord): Promise<void>;
  /** Reads `run.json`, or rebuilds it from the journal when missing or stale. */
  record(runId: string): Promise<RunRecord | undefined>;
  /** Every run, newest first. */
  list(): Promise<RunRecord[]>;
  /** Deletes a run's folder. */
  remove(runId: string): Promise<void>;
}

/** Content-addressed storage: the same bytes are stored once, named by their sha256. */
export interface ArtifactStore {
  /**
   * Stores a value (Buffer/Uint8Array as bytes, anything else as canonical JSON); returns its
   * sha256. `durable` (the default) flushes the blob to disk before resolving; pass false
   * when another durable copy exists (an output inline in its journal line).
   */
  put(value: unknown, options?: { readonly durable?: boolean }): Promise<string>;
  /** The JSON value stored under a hash. */
  getJson(hash: string): Promise<unknown>;
  getBytes(hash: string): Promise<Buffer>;
  has(hash: string): Promise<boolean>;
}

/** One line of the audit log before chaining. */
export interface AuditEntry {
  readonly action: string;
  readonly runId?: string;
  readonly nodeId?: string;
  readonly actor?: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface AuditLog {
  /** Appends an entry; resolves with its place in the chain once it is on disk. */
  append(entry: AuditEntry): Promise<AuditHead>;
  /**
   * `append` for a caller that needs no place in the chain: resolves once the entry is on
   * disk, and entries flushed together may share one promise. Optional; `append` serves.
   */
  record?(entry: AuditEntry): Promise<void>;
}
