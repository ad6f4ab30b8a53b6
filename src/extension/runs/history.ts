import { RunRecordBuilder, type NodeRecord, type RunEvent, type RunRecord } from '../../core/model/run';
import { own } from '../../core/model/names';

// No `vscode` import: the Runs view's data is plain and unit-tested without VS Code.

/** Where stored runs come from: `.symphony/runs/` in the extension, a fake in tests. */
export interface RunSource {
  /** Every run id, newest first (ids start with their UTC start time). */
  ids(): Promise<string[]>;
  /** A run's record, or undefined when it has none yet (an empty journal). */
  record(runId: string): Promise<RunRecord | undefined>;
  /** Whether another live process has the run open (its owner claim). */
  runningElsewhere(runId: string): Promise<boolean>;
}

/**
 * How a run stands: executed by this window (`live`), by another live process such as the
 * CLI (`elsewhere`), recorded as running by a process that died (`interrupted` — what
 * Resume Run is for), or finished (`ended`).
 */
export type RunPhase = 'live' | 'elsewhere' | 'interrupted' | 'ended';

/** A node of a run as the view lists it: recorded, or planned and not started yet. */
export interface RunNodeEntry {
  readonly id: string;
  readonly node: NodeRecord;
}

/** What the Runs view renders: a consistent picture of the runs at one moment. */
export interface RunsSnapshot {
  /** Top-level runs, newest first, at most the history limit. */
  readonly runs: readonly RunRecord[];
  /** A run by id (top-level or sub-melody run). */
  get(runId: string): RunRecord | undefined;
  /** A run's nodes: in the melody's order when this window started it, else in start order. */
  nodes(runId: string): readonly RunNodeEntry[];
  /** Sub-melody runs started by a node, oldest first. */
  children(runId: string, nodeId: string): readonly RunRecord[];
  /** How a run stands (`ended` for one not in the snapshot). */
  phase(runId: string): RunPhase;
  /** Runs another live process executes: their owners are re-checked while there are any. */
  readonly elsewhere: readonly string[];
}

const PENDING: NodeRecord = { state: 'pending', attempts: 0, iterations: 0, timeline: [] };
/** Records read from disk at once while refreshing: enough to hide latency, few open files. */
const READ_BATCH = 16;

/** Newest first by start time; run ids break ties (they sort by time too). */
function newestFirst(a: RunRecord, b: RunRecord): number {
  if (a.startedAt !== b.startedAt) return a.startedAt < b.startedAt ? 1 : -1;
  return a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0;
}

/**
 * The runs of a workspace for the Runs view: records read from disk (runs of the CLI, of
 * other windows, of the past) overlaid with the live records of the runs this window is
 * executing, folded from the engine's events as they happen.
 *
 * Reading is incremental. A finished run never changes, so its record is read once; a run
 * whose files changed is marked dirty (from the file watcher) and read again. Only the
 * newest `limit` top-level runs and their sub-melody runs are kept.
 */
export class RunHistory {
  private stored = new Map<string, RunRecord>();
  private readonly live = new Map<string, RunRecordBuilder>();
  private readonly planned = new Map<string, readonly string[]>();
  private readonly dirty = new Set<string>();
  private elsewhere = new Set<string>();
  private rereadAll = false;
  private inFlight: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;

  constructor(
    private readonly source: RunSource,
    private limit: number,
  ) {}

  /** How many top-level runs to keep. Takes effect at the next refresh. */
  setLimit(limit: number): void {
    this.limit = Math.max(1, limit);
  }

  /** Marks a run (or, without an id, every run) to be read again at the next refresh. */
  markDirty(runId?: string): void {
    if (runId === undefined) this.rereadAll = true;
    else this.dirty.add(runId);
  }

  /** The node ids a run will have, in the melody's order, so pending nodes show too. */
  plan(runId: string, nodeIds: readonly string[]): void {
    this.planned.set(runId, nodeIds);
  }

  /**
   * Folds an engine event into the live record of its run. Returns whether what the view
   * shows changed (log lines change no record).
   */
  apply(event: RunEvent): boolean {
    if (event.type === 'node-log' || event.type === 'node-process' || event.type === 'approval-requested') return false;
    let builder = this.live.get(event.runId);
    if (!builder) {
      if (event.type !== 'run-started') {
        // A run resumed here: `run-resumed` carries no history, so folding starts from the
        // stored record (the caller re-reads it just before resuming).
        const stored = this.stored.get(event.runId);
        if (!stored) return false;
        builder = new RunRecordBuilder(stored);
      } else builder = new RunRecordBuilder();
      this.live.set(event.runId, builder);
    }
    builder.apply(event);
    return true;
  }

  /**
   * Re-reads what changed on disk. One refresh runs at a time; calls made meanwhile share
   * a single refresh after it, so a burst of file events costs at most two.
   */
  refresh(): Promise<void> {
    if (this.queued) return this.queued;
    const next = this.inFlight.then(() => {
      this.queued = undefined;
      return this.load();
    });
    this.queued = next;
    this.inFlight = next.catch(() => undefined);
    return next;
  }

  private async load(): Promise<void> {
    const rereadAll = this.rereadAll;
    const dirty = new Set(this.dirty);
    this.rereadAll = false;
    this.dirty.clear();
    const ids = await this.source.ids();
    const kept = new Map<string, RunRecord>();
    const walked = new Set<string>();
    let topLevel = 0;
    // Children start after their parent, so they come first in a newest-first walk: once the
    // limit of top-level runs is reached, every child of a kept run has been seen.
    for (let i = 0; i < ids.length && topLevel < this.limit; i += READ_BATCH) {
      const batch = ids.slice(i, i + READ_BATCH);
      const records = await Promise.all(
        batch.map((id) => {
          const live = this.live.get(id)?.record;
          if (live) return live;
          const cached = this.stored.get(id);
          if (cached && !rereadAll && !dirty.has(id)) return cached;
          return this.source.record(id).catch(() => undefined);
        }),
      );
      for (let j = 0; j < batch.length && topLevel < this.limit; j++) {
        const id = batch[j]!;
        const record = records[j];
        walked.add(id);
        if (!record) continue;
        if (!this.live.has(id)) kept.set(id, record);
        if (!record.parent) topLevel++;
      }
    }
    this.stored = kept;
    // A process that dies writes nothing, so the owners of running runs are asked each time.
    const running = [...kept.values()].filter((r) => r.state === 'running').map((r) => r.runId);
    const owned = await Promise.all(running.map((id) => this.source.runningElsewhere(id).catch(() => false)));
    this.elsewhere = new Set(running.filter((_, i) => owned[i]));
    // Finished live records are what is on disk now; drop those that fell out of the history.
    for (const [id, builder] of this.live) {
      if (builder.record?.state !== 'running' && !walked.has(id)) {
        this.live.delete(id);
        this.planned.delete(id);
      }
    }
  }

  /**
   * Whether this window is executing the run now. A run of this window that ended keeps
   * its live record (exactly what is on disk) until it falls out of the history.
   */
  isLive(runId: string): boolean {
    return this.live.get(runId)?.record?.state === 'running';
  }

  /** The picture to render now. Live records are copied, so it does not change under the view. */
  snapshot(): RunsSnapshot {
    const all = new Map(this.stored);
    for (const [id, builder] of this.live) {
      const r = builder.record;
      if (r) all.set(id, { ...r, nodes: { ...r.nodes } });
    }
    const byParent = new Map<string, RunRecord[]>();
    const top: RunRecord[] = [];
    for (const r of all.values()) {
      if (!r.parent) top.push(r);
      else {
        const key = `${r.parent.runId}\n${r.parent.nodeId}`;
        byParent.set(key, [...(byParent.get(key) ?? []), r]);
      }
    }
    top.sort(newestFirst);
    for (const list of byParent.values()) list.sort((a, b) => -newestFirst(a, b));
    const live = new Set([...this.live.keys()].filter((id) => this.isLive(id)));
    const elsewhere = new Set([...this.elsewhere].filter((id) => !live.has(id)));
    const planned = new Map(this.planned);
    const phase = (runId: string): RunPhase => {
      if (all.get(runId)?.state !== 'running') return 'ended';
      return live.has(runId) ? 'live' : elsewhere.has(runId) ? 'elsewhere' : 'interrupted';
    };
    return {
      runs: top.slice(0, this.limit),
      get: (runId) => all.get(runId),
      nodes: (runId) => nodeEntries(all.get(runId), planned.get(runId)),
      children: (runId, nodeId) => byParent.get(`${runId}\n${nodeId}`) ?? [],
      phase,
      elsewhere: [...elsewhere],
    };
  }
}

/** A run's nodes: planned ones first in the melody's order (pending until they start), then any others. */
function nodeEntries(record: RunRecord | undefined, planned: readonly string[] = []): RunNodeEntry[] {
  if (!record) return [];
  const ids = [...planned, ...Object.keys(record.nodes).filter((id) => !planned.includes(id))];
  return ids.map((id) => ({ id, node: own(record.nodes, id) ?? PENDING }));
}
