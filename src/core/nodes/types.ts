import type { Instrument } from '../model/instrument';
import type { NodeKind, WithOf } from '../model/nodeKinds';
import type { RunStatus, TokenUsage } from '../model/run';
import type { PermissionGuard } from '../engine/permissions';
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
}

/** The outcome of a sub-melody run, as seen by the `melody` node. */
export interface ChildRun {
  readonly runId: string;
  readonly status: RunStatus;
  /** Each child node's output, by node id. */
  readonly outputs: Readonly<Record<string, unknown>>;
}

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
  /** The environment for child processes: the engine's base environment plus the node's `env:`. */
  readonly env: Readonly<Record<string, string>>;
  readonly host: Host;
  /** The model providers (instrument and summarize nodes). */
  readonly models: ModelProvider;
  /** Writes to the node's log; the engine redacts secrets before anything is stored or shown. */
  log(stream: 'stdout' | 'stderr' | 'info', text: string): void;
  /** Runs another melody as a child run of this one. */
  runMelody(file: string, inputs: Readonly<Record<string, unknown>>): Promise<ChildRun>;
  /** Renders text holding `${{ }}` expressions with this node's expression context (template files). */
  render(text: string): unknown;
}

/** What a node produces. */
export interface NodeResult {
  readonly output: unknown;
  readonly tokens?: TokenUsage;
  readonly costUsd?: number;
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
  constructor(message: string, options: { retryable?: boolean; cause?: unknown; output?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'NodeError';
    this.retryable = options.retryable ?? true;
    this.output = options.output;
  }
}

/** Node implementations by kind. */
export type NodeRegistry = { readonly [K in NodeKind]?: NodeImplementation<K> };
