import { nameRecord } from './names';

/**
 * Runs and their events. The engine emits one discriminated union of typed events; the
 * journal persists them, the CLI prints them, the extension renders them, and
 * `run.json` is derived from them by `applyEvent` — so a run can always be rebuilt from its
 * journal.
 */

/** How a node ended. `pending`/`running` only appear while a run is in progress. */
export type NodeStatus = 'success' | 'failure' | 'skipped' | 'cancelled';
export type NodeState = 'pending' | 'running' | NodeStatus;
export type RunStatus = 'success' | 'failure' | 'cancelled';
export type RunState = 'running' | RunStatus;

export interface TokenUsage {
  readonly input: number;
  readonly output: number;
}

export const NO_TOKENS: TokenUsage = { input: 0, output: 0 };

/** What started a run. */
export interface TriggerInfo {
  readonly kind: 'manual' | 'save' | 'commit' | 'schedule' | 'webhook' | 'melody' | 'replay';
  /** e.g. the saved file, the commit, the upstream run id — in words, for lists. */
  readonly detail?: string;
  /** `save`: the saved file, workspace-relative. */
  readonly file?: string;
  /** `commit`: the commit id and branch. */
  readonly commit?: string;
  readonly branch?: string;
  /** `webhook`: the request body (parsed JSON when it is JSON). */
  readonly payload?: unknown;
  /** `melody`: the run that ended and started this one. */
  readonly upstream?: { readonly runId: string; readonly melody: string; readonly status: RunStatus };
}

interface EventBase {
  readonly runId: string;
  /** ISO-8601 time the event happened. */
  readonly at: string;
}

export interface RunStarted extends EventBase {
  readonly type: 'run-started';
  /** The melody's `name:`. */
  readonly melody: string;
  /** The melody file, relative to the workspace root. */
  readonly file: string;
  /** sha256 of the melody text, so resume can refuse a changed definition. */
  readonly definitionHash: string;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly trigger: TriggerInfo;
  /** Set for sub-melody runs. */
  readonly parent?: { readonly runId: string; readonly nodeId: string };
  /** Set for `replay --from`: the run whose artifacts feed the nodes upstream of `from`. */
  readonly replayOf?: { readonly runId: string; readonly from: string };
}

/** A process picked a run up again (`symphony resume`). */
export interface RunResumed extends EventBase {
  readonly type: 'run-resumed';
  readonly pid: number;
  /**
   * Programs of attempts the killed process never finished that were still running, and
   * were ended before anything ran again (see NodeProcess).
   */
  readonly stopped?: readonly StoppedProgram[];
}

/** A program a killed run left running, ended by the resume. */
export interface StoppedProgram {
  readonly nodeId: string;
  readonly attempt: number;
  readonly command: string;
  readonly pgid: number;
  /** Set when the program belonged to a sub-melody run the killed process left unfinished. */
  readonly runId?: string;
}

/**
 * A node started a program (a shell node, an agent's `run` tool, a script instrument).
 * Journaled so that a resume after a crash can end what the killed attempt left running
 * before the node runs again: its process group (`pgid`, checked against `startTime` so a
 * recycled pid is never taken for it) and, on Linux, every process that inherited
 * `token` in its environment (SYMPHONY_PROGRAM_ID) — also those that left the group.
 */
export interface NodeProcess extends EventBase {
  readonly type: 'node-process';
  readonly nodeId: string;
  readonly attempt: number;
  /** The program, as the node named it. */
  readonly command: string;
  /** The program's pid, which is also its process group: each program leads its own. */
  readonly pgid: number;
  /** When it started (`processStartTime`); absent where the platform cannot tell, or it had already exited. */
  readonly startTime?: string;
  /** The value of SYMPHONY_PROGRAM_ID in its environment. */
  readonly token: string;
}

export interface NodeStarted extends EventBase {
  readonly type: 'node-started';
  readonly nodeId: string;
  readonly attempt: number;
  /** 0 unless the node loops. */
  readonly iteration: number;
  /** The instrument actually used (after fallbacks), as `ensemble/instrument`. */
  readonly instrument?: string;
  /** sha256 over the node's definition and its evaluated inputs. */
  readonly provenance: string;
}

/** A line of a node's output or a progress note, already redacted. */
export interface NodeLog extends EventBase {
  readonly type: 'node-log';
  readonly nodeId: string;
  readonly stream: 'stdout' | 'stderr' | 'info';
  readonly text: string;
}

export interface NodeRetried extends EventBase {
  readonly type: 'node-retried';
  readonly nodeId: string;
  /** The attempt that failed. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: string;
}

export interface NodeFallback extends EventBase {
  readonly type: 'node-fallback';
  readonly nodeId: string;
  readonly from: string;
  readonly to: string;
  readonly error: string;
}

export interface ApprovalRequested extends EventBase {
  readonly type: 'approval-requested';
  readonly nodeId: string;
  readonly message: string;
}

export interface NodeFinished extends EventBase {
  readonly type: 'node-finished';
  readonly nodeId: string;
  readonly status: NodeStatus;
  readonly attempts: number;
  /** Loop iterations run (0 for a node without `loop:`). */
  readonly iterations: number;
  /** The output when small; large outputs are only in the artifact store. */
  readonly output?: unknown;
  /** sha256 of the output in the artifact store. */
  readonly outputRef?: string;
  readonly error?: string;
  /** Why a node was skipped, in words. */
  readonly reason?: string;
  readonly tokens?: TokenUsage;
  readonly costUsd?: number;
  readonly durationMs: number;
  readonly provenance?: string;
  /** The output was taken from the node cache: the node did not run. */
  readonly cached?: boolean;
  /** The node cache entry this end used or stored (`symphony gc` keeps the entries runs name). */
  readonly cacheKey?: string;
}

/**
 * A model call's usage, journaled when the call ends — before the next call's budget check,
 * so spending is durable and counted even if the node later fails. A sub-melody's calls
 * reach its parent run as usage of the node that started it (`childRunId` says so).
 */
export interface NodeUsage extends EventBase {
  readonly type: 'node-usage';
  readonly nodeId: string;
  /** `ensemble/instrument` that made the call. */
  readonly instrument?: string;
  /** The model that answered. */
  readonly model?: string;
  readonly tokens: TokenUsage;
  readonly costUsd: number;
  /** Set when the call was made by a sub-melody run of this node. */
  readonly childRunId?: string;
}

/** An agent's tool call (read_file, write_file, run…), checked by the melody's permissions. */
export interface NodeTool extends EventBase {
  readonly type: 'node-tool';
  readonly nodeId: string;
  /** 1-based model step the call belongs to. */
  readonly step: number;
  readonly tool: string;
  /** The arguments, redacted and shortened for the journal. */
  readonly args: unknown;
  readonly ok: boolean;
  /** Characters of the result given back to the model. */
  readonly resultChars: number;
  readonly durationMs: number;
  /** Why the call failed or was refused (the model saw this too). */
  readonly error?: string;
  /** Files the call wrote: workspace path → sha256 of the content in the artifact store. */
  readonly wrote?: Readonly<Record<string, string>>;
}

export interface RunFinished extends EventBase {
  readonly type: 'run-finished';
  readonly status: RunStatus;
  readonly tokens: TokenUsage;
  readonly costUsd: number;
  readonly durationMs: number;
  readonly error?: string;
  /** The audit chain's head once the run's last record was appended: `audit verify` checks it is still there. */
  readonly auditHead?: AuditHead;
  /** Why the run's audit trail could not be written (whole or in part). */
  readonly auditError?: string;
}

/**
 * A place in the hash-chained audit log: the record `seq` and its `hash`. A run anchors the
 * chain at its end with it (in the journal and run.json), so cutting records off the end of
 * `audit.jsonl` — which leaves a valid chain — is still detected.
 */
export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}

export type RunEvent =
  | RunStarted
  | RunResumed
  | NodeStarted
  | NodeProcess
  | NodeLog
  | NodeRetried
  | NodeFallback
  | ApprovalRequested
  | NodeUsage
  | NodeTool
  | NodeFinished
  | RunFinished;

export type RunEventType = RunEvent['type'];

/** One attempt of a node, for the timeline. */
export interface AttemptRecord {
  readonly attempt: number;
  readonly iteration: number;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly error?: string;
  readonly instrument?: string;
}

/** A node's state in `run.json`. */
export interface NodeRecord {
  readonly state: NodeState;
  readonly attempts: number;
  readonly iterations: number;
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly durationMs?: number;
  readonly output?: unknown;
  readonly outputRef?: string;
  readonly error?: string;
  readonly reason?: string;
  readonly tokens?: TokenUsage;
  readonly costUsd?: number;
  readonly provenance?: string;
  /** The output came from the node cache (`cache: true`): the node did not run. */
  readonly cached?: boolean;
  readonly instrument?: string;
  /** Tool calls an agent node made (all attempts). */
  readonly toolCalls?: number;
  readonly timeline: readonly AttemptRecord[];
}

/** `run.json`: the state of a run, derived from its journal. */
export interface RunRecord {
  readonly runId: string;
  readonly melody: string;
  readonly file: string;
  readonly definitionHash: string;
  readonly state: RunState;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly durationMs?: number;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly trigger: TriggerInfo;
  readonly parent?: RunStarted['parent'];
  readonly replayOf?: RunStarted['replayOf'];
  readonly nodes: Readonly<Record<string, NodeRecord>>;
  readonly tokens: TokenUsage;
  readonly costUsd: number;
  /** Tokens and cost by instrument and model (this run's calls and its sub-melodies'). */
  readonly usage?: readonly ModelUsageRecord[];
  readonly error?: string;
  /** How many times the run was resumed after its process died. */
  readonly resumes: number;
  /** See RunFinished. */
  readonly auditHead?: AuditHead;
  readonly auditError?: string;
}

/** What one instrument's model spent in a run. */
export interface ModelUsageRecord {
  readonly instrument: string;
  readonly model: string;
  readonly calls: number;
  readonly tokens: TokenUsage;
  readonly costUsd: number;
}

const EMPTY_NODE: NodeRecord = { state: 'pending', attempts: 0, iterations: 0, timeline: [] };

const addTokens = (a: TokenUsage, b: TokenUsage | undefined): TokenUsage => (b ? { input: a.input + b.input, output: a.output + b.output } : a);

/** The node's record so far (a node not seen yet is pending). Functions, not closures per event: folding is per event. */
const nodeOf = (r: RunRecord, id: string): NodeRecord => r.nodes[id] ?? EMPTY_NODE;

/*
 * The common life of a node — a first start, then its end — built as whole object literals
 * rather than spreads of the record before: a spread adds each new key to a copy one by one,
 * and a record with that many keys added ends up a slow dictionary object, which every
 * later copy and run.json's JSON.stringify pay for. Each literal has exactly the keys, in
 * the order and with the values, that the spreads below give (the property test in
 * test/unit/runRecord.test.ts compares them): run.json's bytes follow the key order.
 */

/** The keys, in order, of a record made by `firstStart`. */
const FIRST_START_KEYS = ['state', 'attempts', 'iterations', 'timeline', 'startedAt', 'provenance', 'instrument'] as const;

/** Whether an object's keys are exactly `keys`, in that order. */
function hasKeys(o: object, keys: readonly string[]): boolean {
  let i = 0;
  for (const k in o) if (k !== keys[i++]) return false;
  return i === keys.length;
}

/** `{ ...EMPTY_NODE, state: 'running', … }` of the general case, for a node not seen before. */
function firstStart(e: NodeStarted): NodeRecord {
  return {
    state: 'running',
    attempts: Math.max(EMPTY_NODE.attempts, e.attempt),
    iterations: Math.max(EMPTY_NODE.iterations, e.iteration + 1),
    timeline: [{ attempt: e.attempt, iteration: e.iteration, startedAt: e.at, instrument: e.instrument }],
    startedAt: e.at,
    provenance: e.provenance,
    instrument: e.instrument ?? undefined,
  };
}

/** The general case's record for a node-finished after `firstStart` alone (FIRST_START_KEYS). */
function endOfFirstStart(n: NodeRecord, e: NodeFinished): NodeRecord {
  const timeline = closeLast(n, e.at, e.error);
  const startedAt = n.startedAt ?? e.at;
  const provenance = e.provenance ?? n.provenance;
  const tokens = e.tokens ?? undefined;
  const costUsd = e.costUsd ?? undefined;
  if (e.cached) {
    return { state: e.status, attempts: e.attempts, iterations: e.iterations, timeline, startedAt, provenance, instrument: n.instrument, endedAt: e.at, durationMs: e.durationMs, output: e.output, outputRef: e.outputRef, error: e.error, reason: e.reason, tokens, costUsd, cached: true };
  }
  return { state: e.status, attempts: e.attempts, iterations: e.iterations, timeline, startedAt, provenance, instrument: n.instrument, endedAt: e.at, durationMs: e.durationMs, output: e.output, outputRef: e.outputRef, error: e.error, reason: e.reason, tokens, costUsd };
}

/** The node's timeline with its open attempt (if any) ended at `at`. */
function closeLast(n: NodeRecord, at: string, error?: string): readonly AttemptRecord[] {
  const last = n.timeline[n.timeline.length - 1];
  if (!last || last.endedAt) return n.timeline;
  const timeline = n.timeline.slice();
  // An attempt as a node-started made it, as a literal: the spread of it was most of a fold.
  timeline[timeline.length - 1] = hasKeys(last, OPEN_ATTEMPT_KEYS)
    ? { attempt: last.attempt, iteration: last.iteration, startedAt: last.startedAt, instrument: last.instrument, endedAt: at, error }
    : { ...last, endedAt: at, error };
  return timeline;
}

/** The keys, in order, of an attempt a node-started opened. */
const OPEN_ATTEMPT_KEYS = ['attempt', 'iteration', 'startedAt', 'instrument'] as const;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Folds events into a run record. It mutates only the record it built, so folding a
 * journal of n events costs O(n) — not O(n²) as copying every node on every event would.
 * Readers get `record` and must treat it as read-only.
 */
export class RunRecordBuilder {
  private current: (Mutable<RunRecord> & { nodes: Record<string, NodeRecord> }) | undefined;

  /** Starts from an existing record (copied once), or from nothing. */
  constructor(from?: RunRecord) {
    if (from) this.current = { ...from, nodes: nameRecord(Object.entries(from.nodes)) };
  }

  get record(): RunRecord | undefined {
    return this.current;
  }

  /** Folds one event. The first event must be `run-started`. */
  apply(e: RunEvent): void {
    if (e.type === 'run-started') {
      this.current = {
        runId: e.runId,
        melody: e.melody,
        file: e.file,
        definitionHash: e.definitionHash,
        state: 'running',
        startedAt: e.at,
        inputs: e.inputs,
        trigger: e.trigger,
        parent: e.parent,
        replayOf: e.replayOf,
        // Keyed by node ids: no prototype, so a node named `constructor` is not found before it starts.
        nodes: nameRecord(),
        tokens: NO_TOKENS,
        costUsd: 0,
        resumes: 0,
      };
      return;
    }
    const r = this.current;
    if (!r) throw new Error(`journal of ${e.runId} does not start with run-started`);
    switch (e.type) {
      case 'run-resumed':
        r.resumes += 1;
        return;
      case 'node-started': {
        const n = nodeOf(r, e.nodeId);
        if (n === EMPTY_NODE) {
          r.nodes[e.nodeId] = firstStart(e);
          return;
        }
        r.nodes[e.nodeId] = {
          ...n,
          state: 'running',
          attempts: Math.max(n.attempts, e.attempt),
          iterations: Math.max(n.iterations, e.iteration + 1),
          startedAt: n.startedAt ?? e.at,
          provenance: e.provenance,
          instrument: e.instrument ?? n.instrument,
          timeline: [...n.timeline, { attempt: e.attempt, iteration: e.iteration, startedAt: e.at, instrument: e.instrument }],
        };
        return;
      }
      case 'node-retried':
      case 'node-fallback': {
        const n = nodeOf(r, e.nodeId);
        r.nodes[e.nodeId] = { ...n, timeline: closeLast(n, e.at, e.error) };
        return;
      }
      case 'node-usage': {
        const n = nodeOf(r, e.nodeId);
        r.nodes[e.nodeId] = { ...n, tokens: addTokens(n.tokens ?? NO_TOKENS, e.tokens), costUsd: (n.costUsd ?? 0) + e.costUsd };
        r.tokens = addTokens(r.tokens, e.tokens);
        r.costUsd += e.costUsd;
        const instrument = e.instrument ?? '';
        const model = e.model ?? '';
        const usage = [...(r.usage ?? [])];
        const i = usage.findIndex((u) => u.instrument === instrument && u.model === model);
        const was = i >= 0 ? usage[i]! : { instrument, model, calls: 0, tokens: NO_TOKENS, costUsd: 0 };
        const now = { instrument, model, calls: was.calls + 1, tokens: addTokens(was.tokens, e.tokens), costUsd: was.costUsd + e.costUsd };
        if (i >= 0) usage[i] = now;
        else usage.push(now);
        r.usage = usage;
        return;
      }
      case 'node-finished': {
        const n = nodeOf(r, e.nodeId);
        // Usage events already counted what the node spent; a node-finished that carries more
        // (journals written before usage events existed) adds only the difference.
        const extra = { input: Math.max(0, (e.tokens?.input ?? 0) - (n.tokens?.input ?? 0)), output: Math.max(0, (e.tokens?.output ?? 0) - (n.tokens?.output ?? 0)) };
        const extraCost = Math.max(0, (e.costUsd ?? 0) - (n.costUsd ?? 0));
        r.tokens = addTokens(r.tokens, extra);
        r.costUsd += extraCost;
        if (hasKeys(n, FIRST_START_KEYS)) {
          r.nodes[e.nodeId] = endOfFirstStart(n, e);
          return;
        }
        r.nodes[e.nodeId] = {
          ...n,
          state: e.status,
          attempts: e.attempts,
          iterations: e.iterations,
          startedAt: n.startedAt ?? e.at,
          endedAt: e.at,
          durationMs: e.durationMs,
          output: e.output,
          outputRef: e.outputRef,
          error: e.error,
          reason: e.reason,
          tokens: e.tokens ?? n.tokens,
          costUsd: e.costUsd ?? n.costUsd,
          provenance: e.provenance ?? n.provenance,
          ...(e.cached ? { cached: true } : {}),
          timeline: closeLast(n, e.at, e.error),
        };
        return;
      }
      case 'run-finished':
        Object.assign(r, { state: e.status, endedAt: e.at, durationMs: e.durationMs, tokens: e.tokens, costUsd: e.costUsd, error: e.error });
        if (e.auditHead) r.auditHead = e.auditHead;
        if (e.auditError !== undefined) r.auditError = e.auditError;
        return;
      case 'node-tool': {
        const n = nodeOf(r, e.nodeId);
        r.nodes[e.nodeId] = { ...n, toolCalls: (n.toolCalls ?? 0) + 1 };
        return;
      }
      case 'node-log':
      case 'node-process':
      case 'approval-requested':
        return;
      default: {
        const never: never = e;
        return never;
      }
    }
  }
}

/** Folds one event into a copy of a run record (pure; O(nodes) — fold many with RunRecordBuilder). */
export function applyEvent(record: RunRecord | undefined, e: RunEvent): RunRecord {
  const builder = new RunRecordBuilder(record);
  builder.apply(e);
  return builder.record!;
}

/** Rebuilds a run record from its events. */
export function replayEvents(events: readonly RunEvent[]): RunRecord | undefined {
  const builder = new RunRecordBuilder();
  for (const e of events) builder.apply(e);
  return builder.record;
}
