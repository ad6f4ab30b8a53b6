import type { Instrument } from '../model/instrument';
import type { NodeKind, WithOf } from '../model/nodeKinds';
import type { NodeTool, RunStatus, TokenUsage } from '../model/run';
import type { PermissionGuard } from '../engine/permissions';
import type { ProgramHost } from '../programs/host';
import type { Price } from '../providers/prices';
import type { ModelProvider } from '../providers/types';

/**
 * What the surface running the engine (the CLI, the extension, a test) provides: the
 * things only it can do, such as asking a person.
 */
export interface Host {
  readonly name: 'cli' | 'vscode' | 'test';
  /** Asks a person to approve; resolves false when declined. Aborts with the signal. */
  approve(request: { readonly runId: string; readonly nodeId: string; readonly message: string }, signal: AbortSignal): Promise<boolean>;
  /** Tells the user something (a notification, or a line on the terminal). */
  notify(notice: { readonly level: 'info' | 'warning' | 'error'; readonly message: string; readonly runId?: string }): void;
  /** Runs a VS Code command; undefined outside the extension host. */
  readonly executeCommand?: (command: string, args: readonly unknown[]) => Promise<unknown>;
  /**
   * Replaces a range of one line of a workspace file (1-based line, 0-based columns) the way
   * an editor would — in VS Code a WorkspaceEdit, so an open editor and undo see it.
   * Resolves false when it could not; absent where files are simply written (the CLI).
   */
  readonly editText?: (file: string, edit: { readonly line: number; readonly start: number; readonly end: number; readonly text: string }) => Promise<boolean>;
}

/** The outcome of a sub-melody run, as seen by the `melody` node. */
export interface ChildRun {
  readonly runId: string;
  readonly status: RunStatus;
  /** Each child node's output, by node id. */
  readonly outputs: Readonly<Record<string, unknown>>;
}

/** A model call's usage, as a node reports it. */
export interface ModelUsage {
  readonly tokens: TokenUsage;
  readonly costUsd: number;
  /** The model that answered. */
  readonly model: string;
  /** `ensemble/instrument`. */
  readonly instrument: string;
  /** False when no price was known for the model (it then counts as $0). */
  readonly priced: boolean;
}

/** What a run may still spend: the tightest limits of it and every run above it; absent = unlimited. */
export interface BudgetLeft {
  readonly tokens?: number;
  readonly usd?: number;
}

/** A tool call as a node reports it (the engine adds run, node and time). */
export type ToolCallReport = Omit<NodeTool, 'type' | 'runId' | 'at' | 'nodeId'>;

/** Everything a node implementation may use while it runs. */
export interface NodeContext {
  readonly runId: string;
  readonly nodeId: string;
  /** 1-based attempt number (retries and fallbacks increase it). */
  readonly attempt: number;
  /** 0-based loop iteration. */
  readonly iteration: number;
  /** Absolute path of the workspace root; relative paths in `with:` are resolved against it. */
  readonly workspaceRoot: string;
  /** The melody file being run (absolute). */
  readonly melodyFile: string;
  /** The melody's `name:`. */
  readonly melodyName: string;
  /** Aborted on cancellation and on timeout; every wait and child process must honour it. */
  readonly signal: AbortSignal;
  /** Checks file and command access against the melody's `permissions:`. */
  readonly permissions: PermissionGuard;
  /** The node's instrument (instrument and summarize nodes), after fallbacks. */
  readonly instrument?: Instrument;
  /**
   * The variables the node's `env:` sets for the programs it runs — on top of the minimal
   * environment every program gets (programs/environment.ts); checked against
   * `permissions.env` when a program starts.
   */
  readonly env: Readonly<Record<string, string>>;
  /** How programs start: Symphony's start environment (programs are found on its PATH). */
  readonly programs: ProgramHost;
  readonly host: Host;
  /** The model providers (instrument and summarize nodes). */
  readonly models: ModelProvider;
  /** Another instrument of the workspace, by `ensemble/instrument` (a reviewer, a summarizer). */
  lookupInstrument(ref: string): Instrument | undefined;
  /**
   * Charges a model call to the run — and to every run above it, for a sub-melody — and
   * journals it at once, so the next call's budget check sees it even if the node fails later.
   */
  usage(call: ModelUsage): void;
  /** What the run may still spend before its `budget:` (or a parent run's) is broken. */
  budgetLeft(): BudgetLeft;
  /** The price of a model: `model.price`, the workspace's `.symphony/prices.yaml`, the built-in table; undefined when unknown. */
  priceOf(instrument: Instrument, answeredBy: string): Price | undefined;
  /** Redacts a value (an API key) from everything the run writes or shows from now on. */
  addSecret(value: string): void;
  /**
   * The text with the run's secrets (in all their encodings) and the personal data its
   * `privacy:` masks taken out — for what a node writes outside the journal (handoff.md)
   * and what it sends away (prompts).
   */
  redact(text: string): string;
  /** Journals an agent's tool call (shown in the Runs view, on the board and by the CLI). */
  toolCall(call: ToolCallReport): void;
  /** Puts a value (text, JSON) in the run's content-addressed artifact store; resolves to its sha256. */
  storeArtifact(value: unknown): Promise<string>;
  /**
   * Told of every program the node starts (through `runNodeProgram`): the run journals its
   * process group and marker, so that a resume after a crash first ends what the killed
   * attempt left running.
   */
  programStarted(program: StartedProgram): void;
  /** Writes to the node's log; the engine redacts secrets before anything is stored or shown. */
  log(stream: 'stdout' | 'stderr' | 'info', text: string): void;
  /** Runs another melody as a child run of this one. */
  runMelody(file: string, inputs: Readonly<Record<string, unknown>>): Promise<ChildRun>;
  /** Renders text holding `${{ }}` expressions with this node's expression context (template files), within its timeout. */
  render(text: string): Promise<unknown>;
}

/** A program a node started: its pid (also its process group), what it is, and the marker in its environment. */
export interface StartedProgram {
  readonly pid: number;
  readonly command: string;
  readonly token: string;
}

/** What a node produces. Model usage is not part of it: nodes report it as it happens (`ctx.usage`). */
export interface NodeResult {
  readonly output: unknown;
}

/**
 * One node kind. `input` is the node's `with:` after its expressions were evaluated and
 * the kind's zod schema parsed it. Expected failures throw `NodeError`; anything else
 * thrown is reported as an internal error of the kind.
 */
export interface NodeImplementation<K extends NodeKind = NodeKind> {
  readonly kind: K;
  run(input: WithOf<K>, ctx: NodeContext): Promise<NodeResult>;
}

/** A node failed in an expected way; the message is shown to the user as is. */
export class NodeError extends Error {
  /** False when trying again cannot help (a refused permission, a schema mismatch). */
  readonly retryable: boolean;
  /**
   * What the node produced before failing (a shell node's stdout and exit code), kept as the
   * node's output so later nodes — e.g. after `continue-on-error` — can still read it.
   */
  readonly output?: unknown;
  /** The least wait before a retry, when the failure said (a model server's 429 `Retry-After`). */
  readonly retryAfterMs?: number;
  constructor(message: string, options: { retryable?: boolean; cause?: unknown; output?: unknown; retryAfterMs?: number } = {}) {
    super(message, { cause: options.cause });
    this.name = 'NodeError';
    this.retryable = options.retryable ?? true;
    this.output = options.output;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Node implementations by kind. */
export type NodeRegistry = { readonly [K in NodeKind]?: NodeImplementation<K> };
