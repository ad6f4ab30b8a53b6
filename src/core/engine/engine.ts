import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { promises as fsp } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { formatDiagnostic } from '../model/diagnostic';
import type { Instrument } from '../model/instrument';
import { needsOf, type Melody, type NodeSpec } from '../model/melody';
import { NODE_KINDS, type NodeKind } from '../model/nodeKinds';
import {
  NO_TOKENS,
  replayEvents,
  RunRecordBuilder,
  type AuditHead,
  type NodeProcess,
  type NodeStatus,
  type RunEvent,
  type RunRecord,
  type RunStatus,
  type StoppedProgram,
  type TokenUsage,
  type TriggerInfo,
} from '../model/run';
import { loadMelody } from '../load/melody';
import { decodeText, nodeFileSystem, TextEncodingError } from '../load/fs';
import { loadWorkspaceInstruments, type WorkspaceInstruments } from '../load/workspace';
import { celVariables, evaluateCondition, EXPRESSION_TIME_LIMIT_MS, ExpressionError, renderString, renderValue, renderValueNow, toCel, type EvaluationBounds } from '../expr/evaluate';
import { NodeError, type BudgetLeft, type ChildRun, type Host, type ModelUsage, type NodeContext, type NodeRegistry, type NodeResult, type StartedProgram } from '../nodes/types';
import { ProviderUnavailableError, type ModelProvider } from '../providers/types';
import { unavailableModels } from '../providers/unavailable';
import { loadWorkspacePrices, priceOf, type Price } from '../providers/prices';
import { endPrograms, processStartTime, type RecordedProgram } from '../store/processes';
import type { ArtifactStore, AuditEntry, AuditLog, RunJournal, RunStorage } from '../store/types';
import { canonicalJson, canonicalObject, sha256 } from './hash';
import { resolveInputs } from './inputs';
import { schemaErrors } from './outputs';
import { PermissionError, PermissionGuard } from './permissions';
import { FileDigests, FileNodeCache, type CacheRead, type NodeCache } from '../store/cache';
import { Redactor, type StreamRedactor } from './redact';
import { loadWorkspacePrivacy } from './privacy';
import { retryDelay, retryPolicy } from './retry';
import { ConcurrencyGroups } from './concurrency';
import type { RunDebugger } from './debugger';
import { Semaphore } from './semaphore';
import { parseDuration } from '../model/duration';
import { programHost, type ProgramHost } from '../programs/host';
import { ProgramLookups } from '../programs/resolve';
import { safeParseNames, setOwn } from '../model/names';

/** What the engine is built from. Every dependency comes in here, so tests can swap it. */
export interface EngineOptions {
  readonly workspaceRoot: string;
  readonly storage: RunStorage;
  readonly artifacts: ArtifactStore;
  readonly audit?: AuditLog;
  readonly host: Host;
  readonly nodes: NodeRegistry;
  readonly models?: ModelProvider;
  /** Looks a secret up by name (environment in the CLI, SecretStorage in VS Code). */
  readonly secrets?: (name: string) => Promise<string | undefined>;
  /**
   * The environment Symphony started with. Programs are found on its PATH and get only
   * its PATH, HOME, LANG… (see programs/environment.ts), plus what their node names.
   */
  readonly env?: Readonly<Record<string, string>>;
  /** How programs start (default: from `env`, on this platform). */
  readonly programs?: ProgramHost;
  /** Most nodes running at once in one run (default 8). */
  readonly maxParallel?: number;
  /** Waits (retry delays); rejects when the signal aborts. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
  /** The workspace's instruments (default: loaded from disk once per engine; no other melody is read). */
  readonly workspace?: () => Promise<WorkspaceInstruments>;
  /** Outputs up to this many bytes of JSON are kept inline in events (default 16 KiB). */
  readonly inlineOutputLimit?: number;
  /** Bytes of log kept per node in the journal (default 1 MiB). */
  readonly logLimit?: number;
  readonly newRunId?: () => string;
  /** Called with every event of every run (including sub-melody runs), after redaction. */
  readonly onEvent?: (event: RunEvent) => void;
  /** The processes of this host: start times of programs nodes start, and ending what a killed run left running. */
  readonly processes?: ProcessControl;
  /**
   * Tidying after earlier processes (temp files and lock drafts a killed writer left),
   * started as a top-level run begins; the run does not wait for it before its nodes.
   */
  readonly housekeeping?: (run: { readonly runId: string; readonly resumed: boolean }) => Promise<void>;
  /** Where outputs of `cache: true` nodes are remembered (default: `.symphony/cache`). */
  readonly cache?: NodeCache;
}

/** What the engine needs to know about, and do to, the processes of the programs nodes start. */
export interface ProcessControl {
  startTime(pid: number): Promise<string | undefined>;
  /** Ends what the programs left running; resolves with the tokens of those that had something left. */
  end(programs: readonly RecordedProgram[]): Promise<ReadonlySet<string>>;
}

const hostProcesses: ProcessControl = { startTime: processStartTime, end: endPrograms };

/** A request to run a melody. */
export interface RunRequest {
  readonly melody: Melody;
  /** The melody file (absolute or workspace-relative) and its text, hashed for resume. */
  readonly file: string;
  readonly text: string;
  readonly inputs?: Readonly<Record<string, unknown>>;
  readonly trigger?: TriggerInfo;
  readonly signal?: AbortSignal;
  /** Events of this run only (not its children). */
  readonly onEvent?: (event: RunEvent) => void;
  /**
   * Preview mode: these nodes do not run; each finishes with the given output (typed in, or
   * taken from an earlier run's artifacts), so nothing they would do happens.
   */
  readonly pinned?: Readonly<Record<string, unknown>>;
  /** Pauses before nodes start (breakpoints and stepping). */
  readonly debug?: RunDebugger;
  /** The run's id, when the caller named something after it before the run (the Conductor's plan file). */
  readonly runId?: string;
  /** Run every node, taking none from the node cache (`symphony run --no-cache`); outputs are still stored. */
  readonly noCache?: boolean;
  /**
   * Gets ready what the run's programs need (the CLI starts its spawn helper and looks for
   * the sandbox), called once: before the run is set up — or, when every node may come from
   * the node cache (and it holds entries), as the first that does not starts, so a run
   * served whole from the cache starts no process.
   */
  readonly prepare?: () => void;
}

/** A finished run: its final record. */
export type RunResult = RunRecord & { readonly state: RunStatus };

/** Why a request could not become a run (bad inputs, unknown run, changed definition…). */
export class RunRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunRequestError';
  }
}

const MAX_MELODY_DEPTH = 8;

/**
 * Kinds that act on nothing outside the engine: they compute a value from their inputs and
 * at most read workspace files. They run as soon as their needs have ended in memory; every
 * other kind first waits until those ends, and the run's start, are on disk (`awaitNeedsDurable`), so nothing a
 * node does outside Symphony ever rests on an end a crash could still lose. A crash before
 * that loses the effect-free dependents' ends too (they are journaled after), so a resume
 * runs them again either way.
 */
const EFFECT_FREE_KINDS: ReadonlySet<NodeKind> = new Set<NodeKind>(['transform', 'template', 'validate', 'read-file']);
/** The timeout of an attempt that has none. */
const NO_TIMEOUT: { readonly fired: boolean } = { fired: false };
const STATUS_FUNCTION = /\b(success|failure|always|cancelled)\s*\(\s*\)/;

/**
 * A readable run id that sorts by start time: `20261122-140312-1f4a2c` — UTC date and
 * time, then the milliseconds in three hex digits (so runs started in the same second
 * still sort) and three random ones.
 */
export function newRunId(now = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `${stamp}-${now.getUTCMilliseconds().toString(16).padStart(3, '0')}${randomBytes(2).toString('hex').slice(0, 3)}`;
}

const defaultSleep = (ms: number, signal: AbortSignal) => sleepFor(ms, undefined, { signal });

/**
 * The Conductor's engine: runs melodies with fan-out/fan-in, conditions, loops,
 * sub-melodies, retries, timeouts, fallbacks, compensation and cancellation, and makes
 * every run durable (journal, artifacts, audit) so it can be resumed or replayed.
 */
export class Engine {
  private readonly instrumentLimits = new Map<string, Semaphore>();
  private readonly groups = new ConcurrencyGroups();
  private readonly opts: Required<Pick<EngineOptions, 'maxParallel' | 'sleep' | 'random' | 'now' | 'inlineOutputLimit' | 'logLimit' | 'newRunId' | 'programs' | 'processes'>> & EngineOptions;

  /** The node cache every run of this engine shares. */
  readonly nodeCache: NodeCache;

  constructor(options: EngineOptions) {
    this.nodeCache = options.cache ?? new FileNodeCache(options.workspaceRoot);
    this.opts = {
      maxParallel: 8,
      sleep: defaultSleep,
      random: Math.random,
      now: Date.now,
      inlineOutputLimit: 16 * 1024,
      logLimit: 1024 * 1024,
      newRunId: () => newRunId(),
      processes: hostProcesses,
      ...options,
      programs: options.programs ?? programHost(options.env ?? {}),
    };
  }

  get workspaceRoot(): string {
    return this.opts.workspaceRoot;
  }

  /**
   * Runs a melody to the end and resolves with its record (never rejects for node failures).
   * A melody with `concurrency:` first waits for (or cancels) the run in progress in its group.
   */
  async run(request: RunRequest): Promise<RunResult> {
    const inputs = this.inputsOf(request.melody, request.inputs);
    const concurrency = request.melody.concurrency;
    if (!concurrency) return this.start(request, inputs, request.signal);
    let group: string;
    try {
      group = String(await renderString(concurrency.group, celVariables({ inputs, trigger: request.trigger ?? { kind: 'manual' } }), { signal: request.signal }));
    } catch (e) {
      throw new RunRequestError(`concurrency.group: ${(e as Error).message}`);
    }
    const groupAbort = new AbortController();
    const signal = request.signal ? AbortSignal.any([request.signal, groupAbort.signal]) : groupAbort.signal;
    const release = await this.groups.enter(group, concurrency['cancel-in-progress'] ?? false, () => groupAbort.abort(new Error(`cancelled by a newer run in concurrency group ${group}`)));
    try {
      return await this.start(request, inputs, signal);
    } finally {
      release();
    }
  }

  private async start(request: RunRequest, inputs: Record<string, unknown>, signal: AbortSignal | undefined): Promise<RunResult> {
    let prepare = request.prepare;
    const cacheMayServeAll = !request.noCache && Object.values(request.melody.nodes).every((spec) => cachesNode(request.melody, spec));
    if (prepare && (!cacheMayServeAll || this.nodeCache.isEmpty?.())) {
      // Some node will run (an empty cache serves none): its programs get ready while the run is set up.
      prepare();
      prepare = undefined;
    }
    const execution = await this.prepare(request.melody, request.file, request.text, {
      inputs,
      trigger: request.trigger ?? { kind: 'manual' },
      signal,
      onEvent: request.onEvent,
      depth: 0,
      pinned: request.pinned,
      debug: request.debug,
      runId: request.runId,
      noCache: request.noCache,
      prepare,
    });
    return execution.execute();
  }

  /** Continues a run whose process died, without re-running nodes that completed. */
  async resume(runId: string, options: { signal?: AbortSignal; onEvent?: (e: RunEvent) => void } = {}): Promise<RunResult> {
    const { events, journal } = await this.opts.storage.reopen(runId).catch((e: Error) => {
      throw new RunRequestError(`cannot resume ${runId}: ${e.message}`);
    });
    const record = replayEvents(events);
    if (!record) {
      await journal.close();
      throw new RunRequestError(`run ${runId} has an empty journal; start it again instead`);
    }
    if (record.state !== 'running') {
      await journal.close();
      throw new RunRequestError(`run ${runId} already ended (${record.state}); use \`symphony replay ${runId} --from <node>\` to run part of it again`);
    }
    const { melody, text, file } = await this.loadMelodyFile(record.file).catch(async (e: Error) => {
      await journal.close();
      throw e;
    });
    if (sha256(text) !== record.definitionHash) {
      await journal.close();
      throw new RunRequestError(
        `${record.file} changed since run ${runId} started, so it cannot be resumed safely; use \`symphony replay ${runId} --from <node>\` to run it again from a node`,
      );
    }
    const execution = new RunExecution(this, this.opts, {
      runId,
      melody,
      file,
      relFile: record.file,
      text,
      inputs: record.inputs,
      trigger: record.trigger,
      parent: record.parent,
      replayOf: record.replayOf,
      signal: options.signal,
      onEvent: options.onEvent,
      depth: 0,
      journal,
      prior: { record, events },
    });
    return execution.execute();
  }

  /**
   * Runs a finished (or dead) run again from `from`: that node and everything downstream of
   * it run anew; everything else takes its output from the original run's artifacts.
   */
  async replay(runId: string, from: string, options: { signal?: AbortSignal; onEvent?: (e: RunEvent) => void } = {}): Promise<RunResult> {
    const events = await this.opts.storage.events(runId).catch(() => [] as RunEvent[]);
    const source = replayEvents(events);
    if (!source) throw new RunRequestError(`no run ${runId} in ${relative(process.cwd(), this.runsDir()) || '.'}`);
    const { melody, text, file } = await this.loadMelodyFile(source.file);
    if (!Object.hasOwn(melody.nodes, from)) {
      throw new RunRequestError(`${source.melody} has no node "${from}" (its nodes: ${Object.keys(melody.nodes).join(', ')})`);
    }
    const execution = await this.prepare(melody, file, text, {
      inputs: source.inputs,
      trigger: { kind: 'replay', detail: runId },
      signal: options.signal,
      onEvent: options.onEvent,
      depth: 0,
      replay: { source, from },
    });
    return execution.execute();
  }

  private runsDir(): string {
    return resolve(this.opts.workspaceRoot, '.symphony', 'runs');
  }

  private inputsOf(melody: Melody, given: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
    try {
      return resolveInputs(melody, given);
    } catch (e) {
      throw new RunRequestError((e as Error).message);
    }
  }

  /** Loads a melody file relative to the workspace, checked against the workspace. */
  async loadMelodyFile(path: string): Promise<{ melody: Melody; text: string; file: string }> {
    const file = isAbsolute(path) ? path : resolve(this.opts.workspaceRoot, path);
    let text: string;
    try {
      text = decodeText(await fsp.readFile(file));
    } catch (e) {
      if (e instanceof TextEncodingError) throw new RunRequestError(`${path} is not a valid melody:\n${formatDiagnostic({ file, range: { start: e.position, end: e.position }, severity: 'error', code: 'encoding', message: e.message }, relative(this.opts.workspaceRoot, file))}`);
      throw new RunRequestError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    const workspace = await this.workspace();
    const loaded = loadMelody(text, file, workspace.context);
    if (!loaded.ok) {
      const lines = loaded.error.filter((d) => d.severity === 'error').map((d) => formatDiagnostic(d, relative(this.opts.workspaceRoot, d.file)));
      throw new RunRequestError(`${path} is not a valid melody:\n${lines.join('\n')}`);
    }
    return { melody: loaded.value.melody, text, file };
  }

  private workspaceModel?: Promise<WorkspaceInstruments>;

  /**
   * The workspace's instruments, loaded once per engine unless provided. Other melodies are
   * never read for a run: they matter to a melody's check only for `on: melody` triggers,
   * which give warnings, and a run shows only errors (sub-melodies load when they run).
   */
  workspace(): Promise<WorkspaceInstruments> {
    if (this.opts.workspace) return this.opts.workspace();
    this.workspaceModel ??= loadWorkspaceInstruments(nodeFileSystem, this.opts.workspaceRoot);
    return this.workspaceModel;
  }

  /** The shared concurrency limit of an instrument, across all runs of this engine. */
  instrumentLimit(instrument: Instrument): Semaphore {
    let s = this.instrumentLimits.get(instrument.ref);
    if (!s) this.instrumentLimits.set(instrument.ref, (s = new Semaphore(instrument.concurrency)));
    return s;
  }

  async prepare(
    melody: Melody,
    file: string,
    text: string,
    run: {
      inputs: Record<string, unknown>;
      trigger: TriggerInfo;
      signal?: AbortSignal;
      onEvent?: (e: RunEvent) => void;
      depth: number;
      parent?: { runId: string; nodeId: string };
      replay?: { source: RunRecord; from: string };
      ancestry?: readonly string[];
      pinned?: Readonly<Record<string, unknown>>;
      debug?: RunDebugger;
      caller?: CallerLink;
      runId?: string;
      noCache?: boolean;
      prepare?: () => void;
    },
  ): Promise<RunExecution> {
    const runId = run.runId ?? this.opts.newRunId();
    // Loaded while the run's folder is made; a failure is the run's, seen where it is awaited.
    const workspace = this.workspace();
    workspace.catch(() => undefined);
    const settings = workspaceSettings(this.opts.workspaceRoot);
    const journal = await this.opts.storage.create(runId);
    const abs = isAbsolute(file) ? file : resolve(this.opts.workspaceRoot, file);
    return new RunExecution(this, this.opts, {
      runId,
      melody,
      file: abs,
      relFile: relative(this.opts.workspaceRoot, abs).split(sep).join('/'),
      text,
      inputs: run.inputs,
      trigger: run.trigger,
      parent: run.parent,
      replayOf: run.replay ? { runId: run.replay.source.runId, from: run.replay.from } : undefined,
      replaySource: run.replay,
      signal: run.signal,
      onEvent: run.onEvent,
      depth: run.depth,
      ancestry: run.ancestry,
      pinned: run.pinned,
      debug: run.debug,
      caller: run.caller,
      noCache: run.noCache,
      prepare: run.prepare,
      journal,
      workspace,
      settings,
    });
  }
}

interface ExecutionSetup {
  readonly runId: string;
  readonly melody: Melody;
  readonly file: string;
  readonly relFile: string;
  readonly text: string;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly trigger: TriggerInfo;
  readonly parent?: { runId: string; nodeId: string };
  readonly replayOf?: { runId: string; from: string };
  readonly replaySource?: { source: RunRecord; from: string };
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: RunEvent) => void;
  readonly depth: number;
  readonly journal: RunJournal;
  /** Set when resuming: the events journaled before the process died. */
  readonly prior?: { readonly record: RunRecord; readonly events: readonly RunEvent[] };
  /** Files of the melodies above this one, to refuse a melody that calls itself. */
  readonly ancestry?: readonly string[];
  readonly pinned?: Readonly<Record<string, unknown>>;
  readonly debug?: RunDebugger;
  /** A sub-melody's link to the run that started it: budgets are a ceiling, usage rolls up, secrets stay redacted. */
  readonly caller?: CallerLink;
  /** No node is taken from the node cache (sub-melodies inherit it). */
  readonly noCache?: boolean;
  /** See RunRequest.prepare. */
  readonly prepare?: () => void;
  /** The workspace's instruments, when their loading started with the run's folder. */
  readonly workspace?: Promise<WorkspaceInstruments>;
  /** The workspace's privacy and prices, when their reading started with the run's folder. */
  readonly settings?: WorkspaceSettings;
}

/** The workspace's privacy settings and prices, being read (neither promise rejects). */
interface WorkspaceSettings {
  readonly privacy: Promise<{ readonly kinds: Awaited<ReturnType<typeof loadWorkspacePrivacy>> } | { readonly error: Error }>;
  readonly pricing: Promise<Awaited<ReturnType<typeof loadWorkspacePrices>> | { readonly failed: unknown }>;
}

function workspaceSettings(workspaceRoot: string): WorkspaceSettings {
  return {
    privacy: loadWorkspacePrivacy(workspaceRoot).then(
      (kinds) => ({ kinds }),
      (e: unknown) => ({ error: e as Error }),
    ),
    pricing: loadWorkspacePrices(workspaceRoot).catch((e: unknown) => ({ failed: e })),
  };
}

/** How a sub-melody run reaches the run (and node) that started it. */
interface CallerLink {
  /** What the caller (and every run above it) may still spend. */
  readonly budgetLeft: () => BudgetLeft;
  /** Why the caller's budget (or one above it) is broken, if it is. */
  readonly budgetExceeded: () => string | undefined;
  /** Charges a call the sub-melody made to the caller's node. */
  readonly charge: (call: ModelUsage, childRunId: string) => void;
  /** The caller's redactor: a secret of the caller stays hidden in the child's records, and the child's in the caller's. */
  readonly redactor: Redactor;
  /** The caller's guard: the child's permissions are the intersection of its own and the caller's. */
  readonly guard: PermissionGuard;
  /** The secrets the caller has: a child can use no other. */
  readonly secrets: ReadonlySet<string>;
}

/** A node's outcome inside a run. */
interface Outcome {
  readonly status: NodeStatus;
  readonly output?: unknown;
  /** Failed, but `continue-on-error` lets dependents proceed. */
  readonly tolerated?: boolean;
}

/** How one attempt of a node ended. */
interface AttemptOutcome {
  readonly ok: boolean;
  readonly output?: unknown;
  readonly error: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  /** A fallback instrument might do better. */
  readonly fallbackHelps?: boolean;
  readonly cancelled?: boolean;
  readonly provenance?: string;
}

/** How one attempt of a node ended after its fallbacks; `attempt` is the number of the last one made. */
interface ChainOutcome {
  readonly ok: boolean;
  readonly output?: unknown;
  readonly error: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly cancelled?: boolean;
  readonly attempt: number;
  readonly provenance?: string;
}

/** How a node ended, as finishNode records it. */
interface NodeEnd {
  readonly status: NodeStatus;
  readonly output?: unknown;
  readonly error?: string;
  readonly reason?: string;
  readonly attempts: number;
  readonly iterations: number;
  readonly provenance?: string;
  /** When its work began (`now()`): its duration is measured from here. */
  readonly started: number;
}

/** How a node without `loop:` ended, from its attempts. */
function once(r: { status: NodeStatus; output?: unknown; error?: string; attempts: number; provenance?: string }, started: number): NodeEnd {
  // Field by field: a spread of `r` took longer than the rest of a no-op node's bookkeeping.
  return { status: r.status, output: r.output, error: r.error, attempts: r.attempts, provenance: r.provenance, iterations: 0, started };
}

/**
 * What attemptChain returns for a chain of one attempt (a node without an instrument, so
 * without fallbacks), from that attempt's outcome: `attempt` is its number.
 */
function chained(r: AttemptOutcome, attempt: number): ChainOutcome {
  if (r.ok) return { ok: true, output: r.output, error: '', retryable: true, attempt, provenance: r.provenance };
  if (r.cancelled) return { ok: false, error: r.error, retryable: false, cancelled: true, attempt };
  return { ok: false, output: r.output, error: r.error, retryable: r.retryable, retryAfterMs: r.retryAfterMs, attempt, provenance: r.provenance };
}

/** The members of a node's provenance, in canonical (sorted) order. */
const PROVENANCE_KEYS = ['input', 'instrument', 'kind', 'node'] as const;

/** A failed attempt's outcome. */
function failed(error: string, retryable: boolean, extra: { fallbackHelps?: boolean; provenance?: string } = {}): AttemptOutcome {
  return { ok: false, error, retryable, ...extra };
}

/** The outcome of an attempt the run's cancellation stopped. */
const CANCELLED: AttemptOutcome = { ok: false, error: 'cancelled', retryable: false, cancelled: true };

/** The release of an instrument slot an attempt without an instrument never took. */
const NOTHING_TO_RELEASE = (): void => undefined;

/** Whether a ready node runs. */
type Decision = { readonly kind: 'run' } | { readonly kind: 'skip'; readonly reason: string; readonly cancelled?: boolean } | { readonly kind: 'error'; readonly error: string };
const RUN: Decision = { kind: 'run' };

/** Thrown inside a node attempt when the run was cancelled. */
class Cancelled extends Error {}

/** One run in progress. */
class RunExecution {
  private readonly signal: AbortSignal;
  private readonly redactor: Redactor;
  private readonly outcomes = new Map<string, Outcome>();
  /** `nodes` as expressions see it; a Map, so any node id is a key and nothing else is. */
  private readonly celNodes = new Map<string, unknown>();
  private celBase: Record<string, unknown> = {};
  /** The secrets this run looked up, by name (their values are redacted everywhere). */
  private secrets: Record<string, string> = Object.create(null) as Record<string, string>;
  private readonly parallel: Semaphore;
  /** One guard per run: its globs are compiled once. */
  private readonly permissions: PermissionGuard;
  private readonly builder = new RunRecordBuilder();
  private get record(): RunRecord | undefined {
    return this.builder.record;
  }
  private halting: string | undefined;
  private tokens: TokenUsage = NO_TOKENS;
  private costUsd = 0;
  private readonly startedAt: number;
  private recordTimer: NodeJS.Timeout | undefined;
  private recordWrite: Promise<void> = Promise.resolve();
  private readonly logBytes = new Map<string, number>();
  private instruments = new Map<string, Instrument>();
  private readonly attemptsDone = new Map<string, number>();
  /** The run's `run-started` line: resolves once it is on disk (see awaitNeedsDurable). */
  private begun: Promise<void> | undefined;
  /** Each node end journaled by this process: resolves once the line is on disk (see finishNode). */
  private readonly ends = new Map<string, Promise<void>>();
  /** The node cache key each `cache:` node used (a hit) or stored under, and which ones hit. */
  private readonly cacheKeys = new Map<string, string>();
  private readonly cacheHits = new Set<string>();
  /** The hashes of the files cached nodes read, each file hashed once unless it changes. */
  private readonly digests = new FileDigests(() => this.opts.now());
  private rootReal?: Promise<string>;
  /** The program host as this run's nodes see it: with the PATH lookups of this run. */
  private readonly programs: ProgramHost;

  constructor(
    private readonly engine: Engine,
    private readonly opts: EngineOptions & {
      maxParallel: number;
      sleep: (ms: number, s: AbortSignal) => Promise<void>;
      random: () => number;
      now: () => number;
      inlineOutputLimit: number;
      logLimit: number;
      programs: ProgramHost;
      processes: ProcessControl;
    },
    private readonly setup: ExecutionSetup,
  ) {
    // Without a caller's signal the run cannot be cancelled; a signal that never aborts keeps one code path.
    this.signal = setup.signal ?? new AbortController().signal;
    this.redactor = setup.caller?.redactor ?? new Redactor();
    this.parallel = new Semaphore(opts.maxParallel);
    this.programs = { ...opts.programs, lookups: new ProgramLookups() };
    this.permissions = new PermissionGuard(opts.workspaceRoot, setup.melody.permissions, setup.caller?.guard);
    // Every running attempt listens to the run's signal; many at once is expected, not a leak.
    setMaxListeners(0, this.signal);
    this.startedAt = opts.now();
  }

  private get melody(): Melody {
    return this.setup.melody;
  }

  private isoAt = Number.NaN;
  private isoText = '';

  /** Now as ISO-8601: events of the same millisecond share one string. */
  private iso(): string {
    const now = this.opts.now();
    if (now !== this.isoAt) {
      this.isoText = new Date(now).toISOString();
      this.isoAt = now;
    }
    return this.isoText;
  }

  // ── Events ────────────────────────────────────────────────────────────────

  /**
   * Redacts, records, journals and announces an event. Resolves once it is on disk; callers
   * await only what later steps depend on (a node's end), since the journal keeps order. A
   * failed write ends the run as a failure instead of going unnoticed.
   */
  private emit(event: RunEvent): Promise<void> {
    const e = this.redactor.redact(event);
    this.builder.apply(e);
    const written = this.setup.journal.append(e);
    // Events flushed together may share a promise: one handler for each is enough.
    if (written !== this.lastWritten) {
      this.lastWritten = written;
      written.catch((err: unknown) => {
        this.halting ??= `cannot write the run journal: ${(err as Error).message}`;
      });
    }
    this.setup.onEvent?.(e);
    this.opts.onEvent?.(e);
    if (e.type === 'node-finished') this.scheduleRecordWrite();
    return written;
  }

  /** The last promise of a journal append that `emit` handles the failure of. */
  private lastWritten: Promise<void> | undefined;

  private scheduleRecordWrite(): void {
    if (this.recordTimer) return;
    this.recordTimer = setTimeout(() => {
      this.recordTimer = undefined;
      this.flushRecord();
    }, 200);
  }

  private flushRecord(): Promise<void> {
    const snapshot = this.record;
    if (!snapshot) return this.recordWrite;
    this.recordWrite = this.recordWrite.then(() => this.opts.storage.writeRecord(snapshot)).catch(() => undefined);
    return this.recordWrite;
  }

  private auditing: Promise<unknown>[] = [];
  /** Artifact writes and program records still in flight; awaited before the run ends. */
  private storing: Promise<void>[] = [];
  /** The first reason the run's audit trail could not be written: said once, kept in run-finished. */
  private auditFailure: string | undefined;
  /** Tidying after earlier processes, started with a top-level run. */
  private housekeeping: Promise<void> | undefined;

  /**
   * Appends to the audit log without holding the run up: the log orders its own appends,
   * and the run waits for all of them before it ends.
   */
  private audit(action: string, detail: Record<string, unknown>, nodeId?: string): void {
    const log = this.opts.audit;
    if (!log) return;
    if (!log.record) {
      this.auditing.push(this.appendAudit(action, detail, nodeId));
      return;
    }
    // Records flushed together share a promise: it is waited for, and its failure said, once.
    const recorded = log.record(this.auditEntry(action, detail, nodeId));
    if (recorded === this.lastRecorded) return;
    this.lastRecorded = recorded;
    this.auditing.push(recorded.catch((err: unknown) => this.auditFailed(err)));
  }

  /** The last promise `audit` waits for. */
  private lastRecorded: Promise<void> | undefined;

  private auditEntry(action: string, detail: Record<string, unknown>, nodeId: string | undefined): AuditEntry {
    return this.redactor.redact({ action, runId: this.setup.runId, nodeId, actor: this.opts.host.name, detail });
  }

  private auditFailed(err: unknown): undefined {
    // Said once and loudly: an audit log that stops taking records is not a detail.
    if (this.auditFailure === undefined) {
      this.auditFailure = this.redactor.redactText((err as Error).message);
      this.opts.host.notify({ level: 'error', runId: this.setup.runId, message: `this run could not be audited: ${this.auditFailure}` });
    }
    return undefined;
  }

  /** Resolves with the record's place in the chain, or undefined when it could not be written. */
  private appendAudit(action: string, detail: Record<string, unknown>, nodeId?: string): Promise<AuditHead | undefined> {
    if (!this.opts.audit) return Promise.resolve(undefined);
    return this.opts.audit.append(this.auditEntry(action, detail, nodeId)).catch((err: unknown) => this.auditFailed(err));
  }

  // ── The run ───────────────────────────────────────────────────────────────

  async execute(): Promise<RunResult> {
    const { melody } = this;
    try {
      if (this.setup.depth === 0) this.housekeeping = this.opts.housekeeping?.({ runId: this.setup.runId, resumed: this.setup.prior !== undefined }).catch(() => undefined);
      await this.prepareContext();
      if (this.setup.prior) {
        // Before anything runs again: what the killed attempts started may still be running.
        const stopped = await this.stopLeftovers(this.setup.prior.events);
        await this.restore(this.setup.prior.events);
        await this.emit({ type: 'run-resumed', runId: this.setup.runId, at: this.iso(), pid: process.pid, ...(stopped.length ? { stopped } : {}) });
        this.audit('run-resumed', { pid: process.pid, ...(stopped.length ? { stopped } : {}) });
      } else {
        // Not awaited: effect-free nodes start at once, every other kind first waits for this
        // line to be on disk (`awaitNeedsDurable`). The journal keeps it ahead of their events.
        this.begun = this.emit({
          type: 'run-started',
          runId: this.setup.runId,
          at: this.iso(),
          melody: melody.name,
          file: this.setup.relFile,
          definitionHash: sha256(this.setup.text),
          inputs: this.setup.inputs,
          trigger: this.setup.trigger,
          parent: this.setup.parent,
          replayOf: this.setup.replayOf,
        });
        this.begun.catch(() => undefined);
        this.audit('run-started', { melody: melody.name, file: this.setup.relFile, trigger: this.setup.trigger });
        // run.json is derived and checked against the journal on read: nothing waits for it.
        void this.flushRecord();
        if (this.setup.replaySource) await this.copyUpstream(this.setup.replaySource);
      }
      await this.schedule();
      await this.compensateIfFailed();
    } catch (e) {
      // A bug in the engine ends the run as a failure; it never escapes as an exception.
      this.halting ??= `internal error: ${(e as Error).message}`;
    }
    return this.finish();
  }

  private async prepareContext(): Promise<void> {
    // The workspace's files are read together (from when the run's folder was made), while the secrets are looked up.
    const { privacy, pricing } = this.setup.settings ?? workspaceSettings(this.opts.workspaceRoot);
    const workspace = await (this.setup.workspace ?? this.engine.workspace());
    this.instruments = new Map(workspace.ensembles.ensembles.flatMap((e) => e.instruments.map((i) => [i.ref, i] as const)));
    // Secrets the melody mentions are looked up once; their values are redacted everywhere.
    const secrets: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const name of secretNames(this.setup.text)) {
      // A sub-melody gets only the secrets its caller has, as it gets only its permissions.
      if (this.setup.caller && !this.setup.caller.secrets.has(name)) continue;
      const value = await this.opts.secrets?.(name);
      if (value !== undefined) {
        secrets[name] = value;
        this.redactor.add(value);
      }
    }
    this.secrets = secrets;
    this.celBase = celVariables({ inputs: this.setup.inputs, trigger: this.setup.trigger, secrets });
    const masked = await privacy;
    // Running without the masking the user asked for would leak it: nothing runs.
    if ('error' in masked) this.halting ??= masked.error.message;
    else this.redactor.maskPii([...masked.kinds, ...(this.melody.privacy?.mask ?? [])]);
    const prices = await pricing;
    if ('failed' in prices) throw prices.failed;
    this.workspacePrices = prices.prices;
    if (prices.problem && this.setup.depth === 0) this.opts.host.notify({ level: 'warning', runId: this.setup.runId, message: `${prices.problem} (the file is ignored)` });
    this.celBase.nodes = this.celNodes;
  }

  /** Nodes of the normal graph: all but the compensation node. */
  private graphIds(): string[] {
    const compensate = this.melody['on-failure']?.compensate;
    return Object.keys(this.melody.nodes).filter((id) => id !== compensate);
  }

  /** Runs every node of the graph as soon as its needs are done. */
  private async schedule(): Promise<void> {
    const ids = this.graphIds();
    const remaining = new Map<string, number>();
    const dependents = new Map<string, string[]>();
    for (const id of ids) {
      const needs = needsOf(this.melody.nodes[id]!).filter((n) => !this.outcomes.has(n));
      remaining.set(id, needs.length);
      for (const n of needs) {
        const waiting = dependents.get(n);
        if (waiting) waiting.push(id);
        else dependents.set(n, [id]);
      }
    }
    const ready = ids.filter((id) => !this.outcomes.has(id) && remaining.get(id) === 0);
    // Each node starts the moment the end of its last need is appended (finishNode calls
    // `ended`), in that same call: no polling, no level boundaries, no turn in between.
    // runNode never rejects but for a bug, which ends the run (execute).
    try {
      await new Promise<void>((resolveAll, rejectAll) => {
        let active = 0;
        const settled = () => {
          if (--active === 0) resolveAll();
        };
        // Started through a queue: a node that is skipped ends (and readies its dependents)
        // inside its own start, and a long chain of them must not nest a call per node.
        const queue: string[] = [];
        const start = (id: string) => {
          queue.push(id);
          if (queue.length > 1) return;
          for (let i = 0; i < queue.length; i++) {
            active++;
            this.runNode(queue[i]!).then(settled, rejectAll);
          }
          queue.length = 0;
        };
        this.ended = (id) => {
          const waiting = dependents.get(id);
          if (!waiting) return;
          for (const d of waiting) {
            const left = remaining.get(d)! - 1;
            remaining.set(d, left);
            if (left === 0) start(d);
          }
        };
        for (const id of ready) start(id);
        if (active === 0) resolveAll();
      });
    } finally {
      // Nodes ended after this (compensation, the cancelled ones) start nothing.
      this.ended = undefined;
    }
  }

  /** Set while `schedule` runs: starts the dependents whose last need `id` was. */
  private ended: ((id: string) => void) | undefined;

  // ── One node ──────────────────────────────────────────────────────────────

  private async runNode(id: string): Promise<void> {
    const spec = this.melody.nodes[id]!;
    let started = this.opts.now();
    // Synchronous unless there is a condition to evaluate: a node starts without a turn of its own.
    const decided = this.decide(spec);
    const decision = decided instanceof Promise ? await decided : decided;
    if (decision.kind === 'skip') {
      return this.finishNode(id, spec, { status: decision.cancelled ? 'cancelled' : 'skipped', reason: decision.reason, attempts: 0, iterations: 0, started });
    }
    if (decision.kind === 'error') {
      return this.finishNode(id, spec, { status: 'failure', error: decision.error, attempts: 0, iterations: 0, started });
    }
    if (this.setup.pinned && Object.hasOwn(this.setup.pinned, id)) {
      return this.finishNode(id, spec, { status: 'success', output: this.setup.pinned[id], reason: 'pinned: the output was given, the node did not run', attempts: 0, iterations: 0, started });
    }
    if (this.setup.debug) {
      try {
        await this.setup.debug.beforeNode(id, this.signal);
      } catch {
        return this.finishNode(id, spec, { status: 'cancelled', reason: 'the run was cancelled while paused', attempts: 0, iterations: 0, started });
      }
    }
    let release = this.signal.aborted ? undefined : this.parallel.tryAcquire();
    if (!release) {
      try {
        release = await this.parallel.acquire(this.signal);
      } catch {
        return this.finishNode(id, spec, { status: 'cancelled', reason: 'the run was cancelled before it started', attempts: 0, iterations: 0, started });
      }
    }
    // A node's duration is its own work: the time it waited for a free slot is not part of it.
    started = this.opts.now();
    try {
      // Without `loop:` a node runs its attempts once: no turn through runIterations.
      const end = spec.loop ? await this.runIterations(id, spec, spec.loop, started) : once(await this.attempts(id, spec, 0), started);
      // The slot is held until the end is appended, and freed before the dependents that end
      // readies start (finishNode), so they find it.
      return await this.finishNode(id, spec, end, release);
    } finally {
      // Freed at most once: here when recording the end failed.
      release();
    }
  }

  /**
   * Whether a ready node runs. Without `if:`, it runs when every need succeeded (or failed
   * under continue-on-error) and the run is not stopping. An `if:` without a status
   * function means `success() && (if)`, as in GitHub Actions; with one (`always()`,
   * `failure()`…) it decides alone. A condition that cannot be evaluated fails the node.
   */
  private decide(spec: NodeSpec): Decision | Promise<Decision> {
    if (this.signal.aborted) return { kind: 'skip', reason: 'the run was cancelled', cancelled: true };
    // The common case, without the lists below: no `if:`, the run going on, every need succeeded.
    if (spec.if === undefined && !this.halting && this.needsSucceeded(spec)) return RUN;
    const outcomes = needsOf(spec).map((n) => [n, this.outcomes.get(n)] as const);
    const notOk = outcomes.filter(([, o]) => !(o?.status === 'success' || o?.tolerated));
    const failed = outcomes.some(([, o]) => o?.status === 'failure' && !o.tolerated);
    // Said only for a node that does not run.
    const upstream = (): string =>
      this.halting ? `the run is stopping: ${this.halting}` : `needs ${notOk.map(([n, o]) => `${n} (${o?.status ?? 'not run'})`).join(', ')} did not succeed`;
    const status = { success: notOk.length === 0 && !this.halting, failure: failed || Boolean(this.halting), cancelled: false };
    if (spec.if === undefined) return status.success ? RUN : { kind: 'skip', reason: upstream() };
    const explicit = typeof spec.if === 'boolean' || STATUS_FUNCTION.test(spec.if);
    if (!explicit && !status.success) return { kind: 'skip', reason: upstream() };
    return this.decideCondition(spec, spec.if, status);
  }

  /** Whether every need of a node succeeded (or failed under `continue-on-error`). */
  private needsSucceeded(spec: NodeSpec): boolean {
    const needs = spec.needs;
    if (needs === undefined) return true;
    if (typeof needs === 'string') return this.succeeded(needs);
    for (const n of needs) if (!this.succeeded(n)) return false;
    return true;
  }

  private succeeded(need: string): boolean {
    const o = this.outcomes.get(need);
    return o !== undefined && (o.status === 'success' || o.tolerated === true);
  }

  /** The `if:` of a ready node, evaluated. A condition that cannot be evaluated fails the node. */
  private async decideCondition(spec: NodeSpec, condition: string | boolean, status: { success: boolean; failure: boolean; cancelled: boolean }): Promise<Decision> {
    try {
      const holds = await evaluateCondition(condition, this.context(0), status, this.conditionBounds(spec));
      return holds ? { kind: 'run' } : { kind: 'skip', reason: `its condition is false: ${String(spec.if)}` };
    } catch (e) {
      if (this.signal.aborted) return { kind: 'skip', reason: 'the run was cancelled', cancelled: true };
      return { kind: 'error', error: this.expressionFailure(spec, e, 'its condition') };
    }
  }

  /**
   * What bounds a condition of a node (`if:`, `loop.until`): the run's cancellation, and the
   * node's `timeout:` — which bounds everything the node evaluates — or else the default.
   */
  private conditionBounds(spec: NodeSpec): EvaluationBounds {
    return { signal: this.signal, timeLimitMs: spec.timeout !== undefined ? parseDuration(spec.timeout) : EXPRESSION_TIME_LIMIT_MS };
  }

  /** Why an expression of a node failed, in the words of the node's `timeout:` when that stopped it. */
  private expressionFailure(spec: NodeSpec, e: unknown, what: string, timedOut = false): string {
    const stopped = e instanceof ExpressionError ? e.stopped : undefined;
    if (spec.timeout !== undefined && (timedOut || stopped === 'deadline')) {
      const expression = e instanceof ExpressionError ? ` (\`${e.expression.length > 80 ? `${e.expression.slice(0, 77)}...` : e.expression}\`)` : '';
      return `timed out after ${spec.timeout} evaluating ${what}${expression}`;
    }
    if (stopped === 'deadline') return `${(e as Error).message} (an expression may take ${EXPRESSION_TIME_LIMIT_MS / 1000}s unless its node's \`timeout:\` says otherwise)`;
    return (e as Error).message;
  }

  /** The expression variables of each loop iteration, made once: expressions only read them, and `nodes` is a live Map. */
  private readonly contexts = new Map<number, { readonly base: Record<string, unknown>; readonly variables: Readonly<Record<string, unknown>> }>();

  private context(iteration: number): Readonly<Record<string, unknown>> {
    const made = this.contexts.get(iteration);
    if (made?.base === this.celBase) return made.variables;
    const variables = { ...this.celBase, loop: { iteration: BigInt(iteration) } };
    this.contexts.set(iteration, { base: this.celBase, variables });
    return variables;
  }

  /** Runs a node with `loop:` until its `until` holds or `max` is reached; resolves with how it ended. */
  private async runIterations(id: string, spec: NodeSpec, loop: NonNullable<NodeSpec['loop']>, started: number): Promise<NodeEnd> {
    for (let iteration = 0; ; iteration++) {
      const r = await this.attempts(id, spec, iteration);
      const iterations = iteration + 1;
      if (r.status !== 'success') return { ...r, iterations, started };
      // `until` sees this iteration's output as nodes.<id>.output.
      this.celNodes.set(id, toCel({ status: 'success', output: r.output ?? null }));
      let done: boolean;
      try {
        done = await evaluateCondition(loop.until, this.context(iteration), undefined, this.conditionBounds(spec));
      } catch (e) {
        if (this.signal.aborted) return { ...r, status: 'cancelled', error: 'cancelled', iterations, started };
        return { ...r, status: 'failure', error: this.expressionFailure(spec, e, '`loop.until`'), iterations, started };
      }
      if (done) return { ...r, iterations, started };
      if (iterations >= loop.max) {
        const error = `the loop ran ${loop.max} times and \`until: ${loop.until}\` never became true`;
        return { ...r, status: 'failure', error, iterations, started };
      }
    }
  }

  /** Attempts of one iteration: retries around the fallback chain. */
  private async attempts(
    id: string,
    spec: NodeSpec,
    iteration: number,
  ): Promise<{ status: NodeStatus; output?: unknown; error?: string; attempts: number; provenance?: string }> {
    const policy = retryPolicy(spec);
    let attempt = this.attemptsDone.get(id) ?? 0;
    let tries = 0;
    for (;;) {
      tries++;
      // Without an instrument the chain is one attempt: made here, without attemptChain's turn.
      const result = spec.instrument ? await this.attemptChain(id, spec, spec.instrument, iteration, attempt) : chained(await this.attempt(id, spec, iteration, attempt + 1, undefined), attempt + 1);
      attempt = result.attempt;
      this.attemptsDone.set(id, attempt);
      if (result.ok) return { status: 'success', output: result.output, attempts: attempt, provenance: result.provenance };
      if (result.cancelled) return { status: 'cancelled', error: result.error, attempts: attempt };
      if (!result.retryable || tries >= policy.max) {
        return { status: 'failure', output: result.output, error: result.error, attempts: attempt, provenance: result.provenance };
      }
      // A server that said how long to wait (a 429's Retry-After) is not asked again sooner.
      const delayMs = Math.max(retryDelay(policy, tries + 1, this.opts.random), result.retryAfterMs ?? 0);
      await this.emit({ type: 'node-retried', runId: this.setup.runId, at: this.iso(), nodeId: id, attempt, delayMs, error: result.error });
      try {
        await this.opts.sleep(delayMs, this.signal);
      } catch {
        return { status: 'cancelled', error: 'cancelled while waiting to retry', attempts: attempt };
      }
    }
  }

  /** One attempt: the node's instrument, then each fallback in turn (see `chained` for a node without one). */
  private async attemptChain(
    id: string,
    spec: NodeSpec,
    instrument: string,
    iteration: number,
    attemptsSoFar: number,
  ): Promise<ChainOutcome> {
    const chain = [instrument, ...(spec.fallback ?? [])];
    let attempt = attemptsSoFar;
    let lastError = '';
    let lastOutput: unknown;
    let retryable = true;
    let retryAfterMs: number | undefined;
    let provenance: string | undefined;
    for (let i = 0; i < chain.length; i++) {
      attempt++;
      const ref = chain[i]!;
      const r = await this.attempt(id, spec, iteration, attempt, ref);
      provenance = r.provenance ?? provenance;
      if (r.ok) return { ok: true, output: r.output, error: '', retryable: true, attempt, provenance };
      if (r.cancelled) return { ok: false, error: r.error, retryable: false, cancelled: true, attempt };
      lastError = r.error;
      lastOutput = r.output;
      retryable = r.retryable;
      retryAfterMs = r.retryAfterMs;
      const next = chain[i + 1];
      if (next && r.fallbackHelps) {
        await this.emit({ type: 'node-fallback', runId: this.setup.runId, at: this.iso(), nodeId: id, from: ref, to: next, error: r.error });
        continue;
      }
      break;
    }
    return { ok: false, output: lastOutput, error: lastError, retryable, retryAfterMs, attempt, provenance };
  }

  private attempt(id: string, spec: NodeSpec, iteration: number, attempt: number, instrumentRef: string | undefined): Promise<AttemptOutcome> {
    // Timeout and cancellation reach everything an attempt does — evaluating its inputs,
    // waiting for its instrument, the implementation — through one signal.
    const timeoutMs = spec.timeout !== undefined ? parseDuration(spec.timeout) : undefined;
    if (timeoutMs === undefined && EFFECT_FREE_KINDS.has(spec.uses as NodeKind)) {
      // Only the run can cancel it, and what it runs (expressions, the kind's own code) keeps
      // no listener on a signal: the run's serves, without a controller and listener per
      // attempt — and its promise is the caller's, not wrapped in one more async function's.
      return this.attemptWithin(id, spec, iteration, attempt, instrumentRef, { signal: this.signal, timeLimitMs: EXPRESSION_TIME_LIMIT_MS }, NO_TIMEOUT);
    }
    return this.attemptWithSignal(id, spec, iteration, attempt, instrumentRef, timeoutMs);
  }

  /** An attempt with a signal of its own: a timeout, or a kind that may keep listeners on it. */
  private async attemptWithSignal(
    id: string,
    spec: NodeSpec,
    iteration: number,
    attempt: number,
    instrumentRef: string | undefined,
    timeoutMs: number | undefined,
  ): Promise<AttemptOutcome> {
    // The attempt's own signal, aborted by the run's or by the timeout. Linked by hand:
    // AbortSignal.any costs a weak reference per attempt that only a GC clears.
    const attemptController = new AbortController();
    const signal = attemptController.signal;
    setMaxListeners(0, signal);
    const onRunAbort = () => attemptController.abort(this.signal.reason);
    if (this.signal.aborted) onRunAbort();
    else this.signal.addEventListener('abort', onRunAbort, { once: true });
    const timeout = { fired: false };
    const timer = timeoutMs !== undefined ? setTimeout(() => ((timeout.fired = true), attemptController.abort(new Error('timeout'))), timeoutMs) : undefined;
    try {
      return await this.attemptWithin(id, spec, iteration, attempt, instrumentRef, { signal, timeLimitMs: timeoutMs ?? EXPRESSION_TIME_LIMIT_MS }, timeout);
    } finally {
      clearTimeout(timer);
      this.signal.removeEventListener('abort', onRunAbort);
    }
  }

  private async attemptWithin(
    id: string,
    spec: NodeSpec,
    iteration: number,
    attempt: number,
    instrumentRef: string | undefined,
    bounds: EvaluationBounds & { signal: AbortSignal },
    timeout: { readonly fired: boolean },
  ): Promise<AttemptOutcome> {
    const kind = spec.uses as NodeKind;
    const { signal } = bounds;

    // Inputs: evaluate the expressions of `with:` and `env:`, then parse with the kind's schema.
    let input: unknown;
    let env: Record<string, string>;
    try {
      // Without expressions, the copy of `with:` is made without a turn.
      input = renderValueNow(spec.with ?? {}, () => this.context(iteration), bounds);
      if (input instanceof Promise) input = await input;
      env = spec.env ? await this.nodeEnv(spec.env, iteration, bounds) : {};
    } catch (e) {
      void this.emit({ type: 'node-started', runId: this.setup.runId, at: this.iso(), nodeId: id, attempt, iteration, instrument: instrumentRef, provenance: '' });
      if (this.signal.aborted) return CANCELLED;
      // The same expressions over the same data would take as long again: not retried.
      if (timeout.fired) return failed(this.expressionFailure(spec, e, 'its inputs', true), false);
      const missing = secretNames(JSON.stringify(spec.with ?? {})).filter((n) => !Object.hasOwn(this.secrets, n));
      const message = !missing.length
        ? this.expressionFailure(spec, e, 'its inputs')
        : this.setup.caller
          ? `secret ${missing.join(', ')} is not available to this sub-melody: the melody that started it does not use it (a sub-melody gets only its caller's secrets; pass the value as an input)`
          : `secret ${missing.join(', ')} is not set (the CLI reads it from the environment variable of that name; in VS Code run "Symphony: Set Secret")`;
      return failed(message, false);
    }
    const instrument = instrumentRef ? this.instruments.get(instrumentRef) : undefined;
    // canonicalJson({ node: spec, input, instrument, kind }), without the object.
    const provenance = sha256(canonicalObject(PROVENANCE_KEYS, [this.redactor.redact(input), instrumentRef, kind, spec]));
    void this.emit({ type: 'node-started', runId: this.setup.runId, at: this.iso(), nodeId: id, attempt, iteration, instrument: instrumentRef, provenance });

    const parsed = safeParseNames(NODE_KINDS[kind], input);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${['with', ...i.path].join('.')}: ${i.message}`).join('; ');
      return failed(`the evaluated inputs do not fit ${kind}: ${issues}`, false, { provenance });
    }
    if (instrumentRef && !instrument) return failed(`unknown instrument ${instrumentRef}`, false, { fallbackHelps: true, provenance });
    const impl = this.opts.nodes[kind] as { run(input: unknown, ctx: NodeContext): Promise<NodeResult> } | undefined;
    if (!impl) return failed(`node kind "${kind}" is not available in this host`, false, { provenance });
    const cacheKey = this.caches(spec) ? this.cacheKey(kind, input, env, instrument, spec) : undefined;
    if (cacheKey !== undefined && !this.setup.noCache) {
      const hit = await this.cacheHit(cacheKey);
      if (hit) {
        this.cacheKeys.set(id, cacheKey);
        this.cacheHits.add(id);
        this.log(id, 'info', `cached: the output of an earlier run with the same inputs and files (${hit.storedAt})\n`);
        return { ok: true, output: hit.output, error: '', retryable: true, provenance };
      }
    }
    this.prepareOnce();
    if (!EFFECT_FREE_KINDS.has(kind)) {
      const unrecorded = await this.awaitNeedsDurable(spec);
      if (unrecorded) return failed(unrecorded, false, { provenance });
    }
    const budgetError = this.budgetExceeded();
    if (budgetError && (kind === 'instrument' || kind === 'summarize')) return failed(budgetError, false, { provenance });

    const releaseInstrument = instrument ? await this.engine.instrumentLimit(instrument).acquire(signal).catch(() => undefined) : NOTHING_TO_RELEASE;
    if (!releaseInstrument) return timeout.fired ? failed(`timed out after ${spec.timeout} waiting for instrument ${instrumentRef}`, true) : CANCELLED;

    const reads = cacheKey !== undefined ? new ReadRecorder(this.permissions, () => (this.rootReal ??= fsp.realpath(this.opts.workspaceRoot)), this.digests) : undefined;
    const ctx = this.nodeContext(id, attempt, iteration, bounds, instrument, env, reads?.guard);
    try {
      const result = await raceAbort(impl.run(parsed.data, ctx), signal);
      const output = this.redactor.redact(result.output);
      if (spec.outputs) {
        const problems = schemaErrors(spec.outputs, output);
        if (problems.length) return failed(`the output does not match \`outputs:\`: ${problems.join('; ')}`, true, { provenance });
      }
      const over = this.budgetExceeded();
      if (over) return failed(over, false, { provenance });
      // Only a success is remembered, and only when every read was allowed and recorded and
      // nothing was written: a hit would skip the write.
      if (cacheKey !== undefined && reads?.complete) {
        this.cacheKeys.set(id, cacheKey);
        this.storing.push(this.storeCached(cacheKey, reads.list(), output).catch((e: Error) => this.log(id, 'info', `the node cache could not store this output: ${e.message}\n`)));
      }
      return { ok: true, output, error: '', retryable: true, provenance };
    } catch (e) {
      if (timeout.fired) return failed(`timed out after ${spec.timeout}`, true, { provenance });
      if (this.signal.aborted || e instanceof Cancelled) return CANCELLED;
      if (e instanceof NodeError) {
        return { ...failed(this.redactor.redactText(e.message), e.retryable, { fallbackHelps: true, provenance }), output: this.redactor.redact(e.output), retryAfterMs: e.retryAfterMs };
      }
      if (e instanceof PermissionError || e instanceof ExpressionError) return failed(e.message, false, { provenance });
      if (e instanceof ProviderUnavailableError) return failed(e.message, false, { fallbackHelps: true, provenance });
      return failed(`${kind} failed unexpectedly: ${this.redactor.redactText((e as Error)?.message ?? String(e))}`, true, { fallbackHelps: true, provenance });
    } finally {
      releaseInstrument();
    }
  }

  /**
   * Waits until the run's start and the ends of the node's needs are on disk: the
   * documented guarantee that a node's end is durable before anything that needs it acts on
   * it, and that nothing acts outside the engine for a run a crash could leave without a
   * record. Before this, a dependent has only computed in memory and journaled (after those
   * lines, in order). Resolves with why the node must not run when a line could not be written.
   */
  private async awaitNeedsDurable(spec: NodeSpec): Promise<string | undefined> {
    try {
      await this.begun;
    } catch (e) {
      return `the start of the run could not be recorded in the run journal: ${(e as Error).message}`;
    }
    for (const need of needsOf(spec)) {
      try {
        await this.ends.get(need);
      } catch (e) {
        return `the end of ${need} could not be recorded in the run journal: ${(e as Error).message}`;
      }
    }
    return undefined;
  }

  private prepared = false;

  /** Calls the run's `prepare` the first time it is needed (see RunRequest.prepare). */
  private prepareOnce(): void {
    if (this.prepared) return;
    this.prepared = true;
    this.setup.prepare?.();
  }

  private caches(spec: NodeSpec): boolean {
    return cachesNode(this.melody, spec);
  }

  /**
   * The node cache key before the files: the kind, the evaluated `with:` and `env:`, the
   * instrument (with its model), the node's `outputs:` schema, and the permissions of this
   * run and every run above it — so a melody allowed less never shares a key with one
   * allowed more. Inputs are redacted first: no secret is part of a key, and a key read
   * from disk tells nothing about one. The files the node read are checked on a hit.
   */
  private cacheKey(kind: NodeKind, input: unknown, env: Record<string, string>, instrument: Instrument | undefined, spec: NodeSpec): string {
    return sha256(
      canonicalJson({
        cache: 1,
        kind,
        with: this.redactor.redact(input),
        env: this.redactor.redact(env),
        instrument: instrument ?? null,
        outputs: spec.outputs ?? null,
        permissions: this.permissions.chain,
      }),
    );
  }

  /**
   * The stored output for a key, when every file the entry says the node read is still
   * readable by this run's guard and has the same content. The guard check is what keeps a
   * cache from serving one melody's output to a node that may not read the files behind it.
   */
  private async cacheHit(key: string): Promise<{ output: unknown; storedAt: string } | undefined> {
    const entry = await this.engine.nodeCache.get(key).catch(() => undefined);
    if (!entry) return undefined;
    for (const read of entry.reads) {
      const real = await this.permissions.resolveRead(read.path).catch(() => undefined);
      if (real === undefined) return undefined;
      const digest = await this.digests.digest(real).catch(() => undefined);
      if (digest !== read.sha256) return undefined;
    }
    const stored = await this.storedOutput(entry.outputRef);
    if (!stored || typeof stored !== 'object') return undefined;
    return { output: stored.output, storedAt: entry.storedAt };
  }

  /** The outputs hits used this run, as text by blob: nodes with equal outputs share one, read and checked once. */
  private readonly storedOutputs = new Map<string, string>();
  private storedOutputBytes = 0;

  /** A stored output, parsed anew for each hit (no two nodes share the object). */
  private async storedOutput(ref: string): Promise<{ output?: unknown } | undefined> {
    let text = this.storedOutputs.get(ref);
    if (text === undefined) {
      // A missing blob (collected by gc) is a miss, like a damaged one.
      const bytes = await this.opts.artifacts.getBytes(ref).catch(() => undefined);
      if (!bytes) return undefined;
      text = bytes.toString('utf8');
      // What is kept is bounded: past that, a blob is read again at its next hit.
      if (this.storedOutputBytes + bytes.length <= STORED_OUTPUTS_KEPT) {
        this.storedOutputs.set(ref, text);
        this.storedOutputBytes += bytes.length;
      }
    }
    try {
      return JSON.parse(text) as { output?: unknown };
    } catch {
      return undefined;
    }
  }

  /** Remembers a node's output under its key and the files it read. */
  private async storeCached(key: string, reads: CacheRead[], output: unknown): Promise<void> {
    // Wrapped, so an output of `undefined` (no output) is stored too.
    const outputRef = await this.opts.artifacts.put({ output }, { durable: true });
    await this.engine.nodeCache.put({ key, reads, outputRef, storedAt: this.iso() });
  }

  /** The node's `env:` evaluated: what its processes get on top of the program host's environment. */
  private async nodeEnv(named: NonNullable<NodeSpec['env']>, iteration: number, bounds: EvaluationBounds): Promise<Record<string, string>> {
    // Only what the node names: programs get the rest of their environment from the
    // program host, which passes on just PATH, HOME, LANG… and what permissions.env allows.
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(named)) setOwn(env, k, String(await renderValue(v, this.context(iteration), bounds)));
    return env;
  }

  // ── Model usage and budgets ───────────────────────────────────────────────

  /** Models whose price is unknown, said once per run. */
  private readonly unpricedSaid = new Set<string>();
  /** The workspace's `.symphony/prices.yaml`, read once per run. */
  private workspacePrices: Readonly<Record<string, Price>> = {};

  /**
   * Charges a model call to this run — journaled at once, so the spending is durable and
   * the next budget check sees it — and through the caller link to the node that started
   * this run, up to the top-level run.
   */
  private recordUsage(nodeId: string, call: ModelUsage, childRunId?: string): void {
    this.tokens = { input: this.tokens.input + call.tokens.input, output: this.tokens.output + call.tokens.output };
    this.costUsd += call.costUsd;
    void this.emit({ type: 'node-usage', runId: this.setup.runId, at: this.iso(), nodeId, instrument: call.instrument, model: call.model, tokens: call.tokens, costUsd: call.costUsd, childRunId });
    if (!call.priced && !childRunId && !this.unpricedSaid.has(call.model)) {
      this.unpricedSaid.add(call.model);
      this.log(nodeId, 'info', `no price is known for ${call.model}: its calls count as $0 (set model.price on the instrument, or the model in .symphony/prices.yaml)\n`);
    }
    this.setup.caller?.charge(call, this.setup.runId);
  }

  /** What this run may still spend: its own budget, narrowed by every run above it. */
  private budgetLeft(): BudgetLeft {
    const b = this.melody.budget;
    const up = this.setup.caller?.budgetLeft() ?? {};
    const tokens = b?.tokens !== undefined ? b.tokens - this.tokens.input - this.tokens.output : undefined;
    const usd = b?.usd !== undefined ? b.usd - this.costUsd : undefined;
    return { tokens: minDefined(tokens, up.tokens), usd: minDefined(usd, up.usd) };
  }

  private budgetExceeded(): string | undefined {
    const b = this.melody.budget;
    const used = this.tokens.input + this.tokens.output;
    if (b?.tokens !== undefined && used > b.tokens) return `budget exceeded: ${used} tokens used of ${b.tokens}`;
    if (b?.usd !== undefined && this.costUsd > b.usd) return `budget exceeded: $${this.costUsd.toFixed(4)} spent of $${b.usd}`;
    const up = this.setup.caller?.budgetExceeded();
    return up ? `${up} (the budget of the melody that started this one)` : undefined;
  }

  /** The parts of a node's context that are the same for every node of the run, made once. */
  private readonly runContext: Pick<NodeContext, 'lookupInstrument' | 'budgetLeft' | 'priceOf' | 'addSecret' | 'redact' | 'storeArtifact'> & Pick<Host, 'notify'> = {
    lookupInstrument: (ref) => this.instruments.get(ref),
    budgetLeft: () => this.budgetLeft(),
    priceOf: (instrument, answeredBy) => (instrument.model ? priceOf(instrument.model, answeredBy, this.workspacePrices) : undefined),
    addSecret: (value) => this.redactor.add(value),
    redact: (text) => this.redactor.redactText(text),
    storeArtifact: (value) => this.opts.artifacts.put(value, { durable: true }),
    notify: (notice) => this.opts.host.notify({ ...notice, message: this.redactor.redactText(notice.message) }),
  };

  private nodeContext(
    id: string,
    attempt: number,
    iteration: number,
    bounds: EvaluationBounds & { signal: AbortSignal },
    instrument: Instrument | undefined,
    env: Record<string, string>,
    guard: PermissionGuard = this.permissions,
  ): NodeContext {
    const signal = bounds.signal;
    return {
      runId: this.setup.runId,
      nodeId: id,
      attempt,
      iteration,
      workspaceRoot: this.opts.workspaceRoot,
      melodyFile: this.setup.file,
      melodyName: this.melody.name,
      signal,
      permissions: guard,
      instrument,
      env,
      programs: this.programs,
      host: this.observedHost(id),
      models: this.opts.models ?? unavailableModels,
      lookupInstrument: this.runContext.lookupInstrument,
      usage: (call) => this.recordUsage(id, call),
      budgetLeft: this.runContext.budgetLeft,
      priceOf: this.runContext.priceOf,
      addSecret: this.runContext.addSecret,
      redact: this.runContext.redact,
      toolCall: (call) => void this.emit({ type: 'node-tool', runId: this.setup.runId, at: this.iso(), nodeId: id, ...call }),
      programStarted: (program) => void this.storing.push(this.recordProgram(id, attempt, program)),
      storeArtifact: this.runContext.storeArtifact,
      log: (stream, text) => this.log(id, stream, text),
      runMelody: (file, inputs) => this.runChild(id, file, inputs, signal),
      render: (text) => renderString(text, this.context(iteration), bounds),
    };
  }

  /**
   * The host as nodes see it: approvals announced as events and their decisions audited,
   * and every message shown to a person redacted — a node's inputs may hold secrets.
   */
  private observedHost(nodeId: string): Host {
    const host = this.opts.host;
    return {
      ...host,
      approve: async (request, signal) => {
        const message = this.redactor.redactText(request.message);
        await this.emit({ type: 'approval-requested', runId: this.setup.runId, at: this.iso(), nodeId, message });
        const approved = await host.approve({ ...request, message }, signal);
        this.audit('approval', { message, approved }, nodeId);
        return approved;
      },
      notify: this.runContext.notify,
    };
  }

  /** Journals a program a node started, so a resume after a crash can end what it left running. */
  private async recordProgram(nodeId: string, attempt: number, program: StartedProgram): Promise<void> {
    const startTime = await this.opts.processes.startTime(program.pid).catch(() => undefined);
    await this.emit({
      type: 'node-process',
      runId: this.setup.runId,
      at: this.iso(),
      nodeId,
      attempt,
      command: program.command,
      pgid: program.pid,
      ...(startTime !== undefined ? { startTime } : {}),
      token: program.token,
    }).catch(() => undefined);
  }

  /** One stream redactor per node and stream: a secret split across two reads is still caught. */
  private readonly logStreams = new Map<string, StreamRedactor>();

  private log(nodeId: string, stream: 'stdout' | 'stderr' | 'info', text: string): void {
    const key = `${stream}\u0000${nodeId}`;
    let redactor = this.logStreams.get(key);
    if (!redactor) this.logStreams.set(key, (redactor = this.redactor.stream()));
    this.writeLog(nodeId, stream, redactor.write(text));
  }

  /** Writes what the stream redactors held back of a node's logs (before its end is recorded). */
  private flushLogs(nodeId: string): void {
    if (this.logStreams.size === 0) return;
    for (const stream of ['stdout', 'stderr', 'info'] as const) {
      const key = `${stream}\u0000${nodeId}`;
      const redactor = this.logStreams.get(key);
      if (!redactor) continue;
      this.logStreams.delete(key);
      this.writeLog(nodeId, stream, redactor.flush());
    }
  }

  private writeLog(nodeId: string, stream: 'stdout' | 'stderr' | 'info', text: string): void {
    if (!text) return;
    const used = this.logBytes.get(nodeId) ?? 0;
    if (used >= this.opts.logLimit) return;
    let t = text;
    if (used + t.length > this.opts.logLimit) t = `${t.slice(0, this.opts.logLimit - used)}\n[log truncated: the node's output is kept whole in its artifact]\n`;
    this.logBytes.set(nodeId, used + t.length);
    void this.emit({ type: 'node-log', runId: this.setup.runId, at: this.iso(), nodeId, stream, text: t });
  }

  private async runChild(nodeId: string, file: string, inputs: Readonly<Record<string, unknown>>, signal: AbortSignal): Promise<ChildRun> {
    const ancestry = [...(this.setup.ancestry ?? []), this.setup.file];
    // A sub-melody is a file this melody reads: inside the workspace and within fs.read —
    // refused before it is opened, so nothing of a file outside is ever quoted.
    await this.permissions.resolveRead(file);
    const { melody, text, file: abs } = await this.engine.loadMelodyFile(file).catch((e: Error) => {
      throw new NodeError(e.message, { retryable: false });
    });
    if (this.setup.depth + 1 > MAX_MELODY_DEPTH) throw new NodeError(`sub-melodies nest deeper than ${MAX_MELODY_DEPTH} levels`, { retryable: false });
    if (ancestry.includes(abs)) throw new NodeError(`${file} is already running above this node (a melody cannot call itself)`, { retryable: false });
    let resolved: Record<string, unknown>;
    try {
      resolved = resolveInputs(melody, inputs);
    } catch (e) {
      throw new NodeError((e as Error).message, { retryable: false });
    }
    const child = await this.engine.prepare(melody, abs, text, {
      inputs: resolved,
      trigger: { kind: 'melody', detail: this.setup.runId },
      signal,
      depth: this.setup.depth + 1,
      parent: { runId: this.setup.runId, nodeId },
      ancestry,
      noCache: this.setup.noCache,
      caller: {
        budgetLeft: () => this.budgetLeft(),
        budgetExceeded: () => this.budgetExceeded(),
        charge: (call, childRunId) => this.recordUsage(nodeId, call, childRunId),
        redactor: this.redactor,
        guard: this.permissions,
        secrets: new Set(Object.keys(this.secrets)),
      },
    });
    const result = await child.execute();
    const outputs = Object.fromEntries(Object.entries(result.nodes).map(([id, n]) => [id, n.output]));
    return { runId: result.runId, status: result.state, outputs };
  }

  /**
   * Records a node's end. The end is appended to the journal at once — so a dependent's
   * events always come after it — and `ends` holds the promise of it being on disk, which a
   * dependent awaits before it does anything outside the engine (`awaitNeedsDurable`). The
   * node's slot and its dependents' scheduling do not wait for the disk.
   */
  private async finishNode(id: string, spec: NodeSpec, r: NodeEnd, release?: () => void): Promise<void> {
    this.flushLogs(id);
    const tolerated = r.status === 'failure' && spec['continue-on-error'] === true;
    this.outcomes.set(id, { status: r.status, output: r.output, tolerated });
    this.celNodes.set(id, toCel({ status: r.status, output: r.output ?? null }));
    if (r.status === 'failure' && !tolerated) this.halting ??= `${id} failed`;

    let outputRef: string | undefined;
    let inline: unknown = r.output;
    // A large output lives only in the store, so it is on disk before the journal names it.
    // A small one lives in its journal line alone: a blob of it would be read by nobody.
    if (r.output !== undefined && !fitsInline(r.output, this.opts.inlineOutputLimit)) {
      outputRef = await this.opts.artifacts.put(r.output, { durable: true });
      inline = undefined;
    }
    const spent = this.record?.nodes[id];
    const durable = this.emit({
      type: 'node-finished',
      runId: this.setup.runId,
      at: this.iso(),
      nodeId: id,
      status: r.status,
      attempts: r.attempts,
      iterations: r.iterations,
      output: inline,
      outputRef,
      error: r.error,
      reason: r.reason,
      // What the node's calls spent, as its usage events added it up (all attempts).
      tokens: spent?.tokens,
      costUsd: spent?.costUsd,
      durationMs: Math.max(0, this.opts.now() - r.started),
      provenance: r.provenance,
      cached: r.status === 'success' && this.cacheHits.has(id) ? true : undefined,
      cacheKey: r.status === 'success' ? this.cacheKeys.get(id) : undefined,
    });
    // Rejections are the run's (emit sets `halting`); a dependent that awaits this sees them too.
    durable.catch(() => undefined);
    this.ends.set(id, durable);
    if (r.status !== 'skipped') this.audit('node-finished', { status: r.status, attempts: r.attempts, provenance: r.provenance, error: r.error }, id);
    release?.();
    this.ended?.(id);
  }

  /** Replay: nodes outside the re-run set take status and output from the source run. */
  private async copyUpstream(replay: { source: RunRecord; from: string }): Promise<void> {
    const rerun = downstreamOf(this.melody, replay.from);
    for (const id of this.graphIds()) {
      if (rerun.has(id)) continue;
      const old = replay.source.nodes[id];
      if (!old || old.state === 'pending' || old.state === 'running') continue;
      const output = old.output !== undefined ? old.output : old.outputRef ? await this.opts.artifacts.getJson(old.outputRef) : undefined;
      await this.finishNode(id, this.melody.nodes[id]!, {
        status: old.state,
        output,
        error: old.error,
        reason: `taken from run ${replay.source.runId}`,
        attempts: 0,
        iterations: old.iterations,
        provenance: old.provenance,
        started: this.opts.now(),
      });
    }
  }

  /**
   * Resume: ends the programs of attempts the killed process never finished — and of the
   * sub-melody runs it left unfinished — that are still running, so a node never runs
   * again while its previous attempt is still at work.
   */
  private async stopLeftovers(events: readonly RunEvent[]): Promise<StoppedProgram[]> {
    const leftovers: (NodeProcess & { readonly childRunId?: string })[] = unfinishedPrograms(events);
    if (unfinishedNodes(events).some((id) => this.melody.nodes[id]?.uses === 'melody')) {
      // Sub-melody runs the killed process started, and theirs, never finished either.
      const records = await this.opts.storage.list().catch(() => [] as RunRecord[]);
      const children = (parent: string): RunRecord[] => records.filter((r) => r.parent?.runId === parent && r.state === 'running');
      const queue = children(this.setup.runId);
      for (let child = queue.shift(); child; child = queue.shift()) {
        const childEvents = await this.opts.storage.events(child.runId).catch(() => [] as RunEvent[]);
        leftovers.push(...unfinishedPrograms(childEvents).map((p) => ({ ...p, childRunId: child.runId })));
        queue.push(...children(child.runId));
      }
    }
    if (!leftovers.length) return [];
    const ended = await this.opts.processes.end(leftovers.map((p) => ({ pgid: p.pgid, startTime: p.startTime, token: p.token })));
    return leftovers
      .filter((p) => ended.has(p.token))
      .map((p) => ({ nodeId: p.nodeId, attempt: p.attempt, command: p.command, pgid: p.pgid, ...(p.childRunId ? { runId: p.childRunId } : {}) }));
  }

  /** Resume: restore finished nodes, their outputs and the counters from the journal. */
  private async restore(events: readonly RunEvent[]): Promise<void> {
    for (const e of events) this.builder.apply(e);
    const record = this.record!;
    this.tokens = record.tokens;
    this.costUsd = record.costUsd;
    for (const [id, n] of Object.entries(record.nodes)) {
      this.attemptsDone.set(id, n.attempts);
      if (n.state === 'pending' || n.state === 'running') continue;
      const spec = this.melody.nodes[id];
      const tolerated = n.state === 'failure' && spec?.['continue-on-error'] === true;
      // Outputs too large for the journal come back from the artifact store.
      const output = n.output === undefined && n.outputRef ? await this.opts.artifacts.getJson(n.outputRef).catch(() => undefined) : n.output;
      this.outcomes.set(id, { status: n.state, output, tolerated });
      this.celNodes.set(id, toCel({ status: n.state, output: output ?? null }));
      if (n.state === 'failure' && !tolerated) this.halting ??= `${id} failed`;
    }
  }

  private async compensateIfFailed(): Promise<void> {
    const failed = this.halting !== undefined && !this.signal.aborted;
    const onFailure = this.melody['on-failure'];
    if (!failed || !onFailure) return;
    const compensate = onFailure.compensate;
    if (compensate && !this.outcomes.has(compensate)) {
      const spec = this.melody.nodes[compensate]!;
      const started = this.opts.now();
      const release = await this.parallel.acquire(this.signal).catch(() => undefined);
      if (release) {
        try {
          const r = await this.attempts(compensate, spec, 0);
          await this.finishNode(compensate, spec, { ...r, iterations: 0, started, reason: 'compensation after the run failed' });
        } finally {
          release();
        }
      }
    }
    if (onFailure.notify) {
      this.opts.host.notify({ level: 'error', runId: this.setup.runId, message: this.redactor.redactText(`Melody ${this.melody.name} failed: ${this.halting}`) });
    }
  }

  private async finish(): Promise<RunResult> {
    // Nodes never reached (cancelled run) are recorded as cancelled.
    if (this.signal.aborted) {
      for (const id of this.graphIds()) {
        if (!this.outcomes.has(id)) {
          await this.finishNode(id, this.melody.nodes[id]!, { status: 'cancelled', reason: 'the run was cancelled', attempts: 0, iterations: 0, started: this.opts.now() }).catch(() => undefined);
        }
      }
    }
    const status: RunStatus = this.signal.aborted ? 'cancelled' : this.halting ? 'failure' : 'success';
    const record = this.record;
    const elapsed = record ? this.opts.now() - Date.parse(record.startedAt) : this.opts.now() - this.startedAt;
    // No snapshot of run.json while the tail is flushed: the final one is written below.
    clearTimeout(this.recordTimer);
    this.recordTimer = undefined;
    // The run's last audit record goes first, so run-finished can anchor the chain at it:
    // `audit verify` then notices if records are later cut off the end of the log.
    const auditHead = await this.appendAudit('run-finished', { status, tokens: this.tokens, costUsd: this.costUsd });
    await Promise.all([...this.auditing, ...this.storing, this.housekeeping]);
    const ended = this.emit({
      type: 'run-finished',
      runId: this.setup.runId,
      at: this.iso(),
      status,
      tokens: this.tokens,
      costUsd: this.costUsd,
      durationMs: Math.max(0, elapsed),
      error: status === 'failure' ? this.halting : status === 'cancelled' ? 'cancelled' : undefined,
      ...(auditHead ? { auditHead } : {}),
      ...(this.auditFailure !== undefined ? { auditError: this.auditFailure } : {}),
    }).catch(() => undefined);
    // run.json is trusted only once the journal ends with this same run-finished
    // (FileRunStorage.record), so it is written while that line is flushed. The journal
    // closes once that line is written (close waits for what was appended before it).
    await Promise.all([ended, this.flushRecord(), this.setup.journal.close().catch(() => undefined)]);
    return this.record as RunResult;
  }
}

/** How many bytes of the outputs its hits used a run keeps, to read each blob once. */
const STORED_OUTPUTS_KEPT = 16 * 1024 * 1024;

/** Whether a node is cached: its own `cache:`, else the melody's. A loop's iterations never are. */
function cachesNode(melody: Melody, spec: NodeSpec): boolean {
  return (spec.cache ?? melody.cache ?? false) && !spec.loop;
}

/**
 * Whether a value's JSON is at most `limit` characters. Outputs are mostly small, so the
 * common case is one JSON.stringify; only a value near the limit is put in canonical form
 * (its keys sorted, which changes the order, never the length).
 */
function fitsInline(value: unknown, limit: number): boolean {
  // A number, a boolean or null is at most 24 characters of JSON (-1.2345678901234567e-308).
  if ((typeof value === 'number' || typeof value === 'boolean' || value === null) && limit >= 24) return true;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    // A bigint, say: canonicalJson writes those as strings.
    json = canonicalJson(value);
  }
  return (json ?? 'null').length <= limit;
}

/**
 * The guard a cached node runs with: the run's own, recording each file it lets the node
 * read, with the content's hash taken as it is read. A refused read, a write, or a
 * rebased guard (reads it cannot see) make the attempt one the cache does not keep.
 */
class ReadRecorder {
  private readonly reads = new Map<string, string | null>();
  private spoiled = false;
  readonly guard: PermissionGuard;

  constructor(
    inner: PermissionGuard,
    private readonly rootReal: () => Promise<string>,
    private readonly digests: FileDigests,
  ) {
    // Delegates everything else to the run's guard (its compiled globs, its caller chain).
    const guard = Object.create(inner) as PermissionGuard;
    Object.defineProperties(guard, {
      resolveRead: { value: (path: string) => this.read(inner, path) },
      resolveWrite: {
        value: (path: string) => {
          this.spoiled = true;
          return inner.resolveWrite(path);
        },
      },
      rebase: {
        value: (root: string) => {
          this.spoiled = true;
          return inner.rebase(root);
        },
      },
    });
    this.guard = guard;
  }

  /** Whether every read was allowed and recorded, and nothing was written. */
  get complete(): boolean {
    return !this.spoiled;
  }

  list(): CacheRead[] {
    return [...this.reads].map(([path, sha256]) => ({ path, sha256 })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  private async read(inner: PermissionGuard, path: string): Promise<string> {
    let real: string;
    try {
      real = await inner.resolveRead(path);
    } catch (e) {
      this.spoiled = true;
      throw e;
    }
    try {
      const rel = relative(await this.rootReal(), real).split(sep).join('/') || '.';
      const digest = await this.digests.digest(real);
      const before = this.reads.get(rel);
      // The same file read twice with different content: which one the output rests on is unknown.
      if (before !== undefined && before !== digest) this.spoiled = true;
      this.reads.set(rel, digest);
    } catch {
      this.spoiled = true;
    }
    return real;
  }
}

/** The programs journaled for attempts that have no node-finished after them. */
function unfinishedPrograms(events: readonly RunEvent[]): NodeProcess[] {
  const open = new Map<string, NodeProcess>();
  for (const e of events) {
    if (e.type === 'node-process') open.set(e.token, e);
    if (e.type === 'node-finished') for (const [token, p] of open) if (p.nodeId === e.nodeId) open.delete(token);
  }
  return [...open.values()];
}

/** Nodes started but never finished. */
function unfinishedNodes(events: readonly RunEvent[]): string[] {
  const open = new Set<string>();
  for (const e of events) {
    if (e.type === 'node-started') open.add(e.nodeId);
    if (e.type === 'node-finished') open.delete(e.nodeId);
  }
  return [...open];
}

/** The smaller of two limits, either of which may be absent (unlimited). */
function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

/** `from` and every node that (transitively) needs it. */
export function downstreamOf(melody: Melody, from: string): Set<string> {
  const out = new Set([from]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [id, spec] of Object.entries(melody.nodes)) {
      if (!out.has(id) && needsOf(spec).some((n) => out.has(n))) {
        out.add(id);
        grew = true;
      }
    }
  }
  return out;
}

/** Names used as `secrets.NAME` or `secrets['NAME']` in a text. */
export function secretNames(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/\bsecrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*['"]([^'"]+)['"]\s*\])/g)) names.add((m[1] ?? m[2])!);
  return [...names];
}

/** The CEL text of a condition written with or without `${{ }}`. */
function conditionText(source: string): string {
  const m = /^\s*\$\{\{([\s\S]*)\}\}\s*$/.exec(source);
  return (m ? m[1]! : source).trim();
}

/**
 * How long an aborted node may take to stop (a shell node killing its process tree) before
 * the engine moves on without it — so a retry never overlaps the attempt it replaces, and
 * a node that ignores the signal cannot hold the run forever.
 */
const ABORT_GRACE_MS = 5000;

/**
 * The races waiting on each signal. A signal gets one listener that tells them all — the run's
 * signal is shared by every effect-free attempt, and a listener added and removed per node
 * cost more than the node.
 */
const racing = new WeakMap<AbortSignal, Set<() => void>>();

/** Settles with the promise; after the signal aborts, waits up to ABORT_GRACE_MS, then rejects. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Cancelled());
  let races = racing.get(signal);
  if (!races) {
    const waiting = new Set<() => void>();
    racing.set(signal, (races = waiting));
    signal.addEventListener('abort', () => [...waiting].forEach((onAbort) => onAbort()), { once: true });
  }
  const waiting = races;
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      waiting.delete(onAbort);
      timer = setTimeout(() => reject(new Cancelled()), ABORT_GRACE_MS);
    };
    waiting.add(onAbort);
    const settle = () => {
      waiting.delete(onAbort);
      clearTimeout(timer);
    };
    promise.then(
      (v) => (settle(), resolve(v)),
      (e: unknown) => (settle(), reject(e)),
    );
  });
}
