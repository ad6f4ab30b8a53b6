import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PermissionGuard } from '../../src/core/engine/permissions';
import { processEnv } from '../../src/core/engine/workspaceEngine';
import { programHost } from '../../src/core/programs/host';
import { celVariables, renderString } from '../../src/core/expr/evaluate';
import type { Instrument } from '../../src/core/model/instrument';
import type { Permissions } from '../../src/core/model/melody';
import type { TokenUsage } from '../../src/core/model/run';
import type { ChildRun, Host, NodeContext } from '../../src/core/nodes/types';
import type { ChatModel, ChatRequest, ModelCheck, ModelProvider, ToolCall } from '../../src/core/providers/types';
import { priceOf } from '../../src/core/providers/prices';
import { sha256, canonicalJson } from '../../src/core/engine/hash';
import type { BudgetLeft, ModelUsage, StartedProgram, ToolCallReport } from '../../src/core/nodes/types';

/**
 * A real NodeContext for node-kind tests: a temporary workspace behind a real
 * PermissionGuard, the real expression renderer, a Host that records what it is asked,
 * a model provider the test scripts, and an AbortController the test holds.
 */

const workspaces: string[] = [];
after(() => {
  for (const dir of workspaces) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the test run ends. */
export function scratchDir(prefix = 'symphony-nodes-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  workspaces.push(dir);
  return dir;
}

/** One scripted model answer: its text (streamed in `chunks` when given), tool calls, or an error to throw. */
export interface ScriptedReply {
  readonly text?: string;
  readonly chunks?: readonly string[];
  readonly toolCalls?: readonly ToolCall[];
  readonly error?: Error;
  /** Usage the fake provider reports; `null` reports none (Symphony then counts). */
  readonly tokens?: TokenUsage | null;
  readonly model?: string;
}

/**
 * A ModelProvider whose models answer from a script and record every request. Tokens are
 * counted by whitespace-separated words, so tests can predict budget checks.
 */
export class FakeModels implements ModelProvider {
  readonly requests: { instrument: Instrument; request: ChatRequest }[] = [];
  private readonly script: ScriptedReply[] = [];

  /** Queues the next answer. */
  reply(reply: ScriptedReply | string): this {
    this.script.push(typeof reply === 'string' ? { text: reply } : reply);
    return this;
  }

  /** The user text of the n-th request's first message. */
  prompt(n = 0): string {
    const first = this.requests[n]?.request.messages[0];
    return first && first.role === 'user' ? first.text : '';
  }

  open(instrument: Instrument): Promise<ChatModel> {
    const id = instrument.model?.id ?? 'fake';
    return Promise.resolve({
      provider: 'fake',
      id,
      countTokens: (text) => Promise.resolve(text.split(/\s+/).filter(Boolean).length),
      chat: (request, options) => {
        this.requests.push({ instrument, request });
        const next = this.script.shift();
        if (!next) return Promise.reject(new Error('the test scripted no model reply for this call'));
        if (next.error) return Promise.reject(next.error);
        options.signal.throwIfAborted();
        const chunks = next.chunks ?? (next.text !== undefined ? [next.text] : []);
        for (const chunk of chunks) options.onText?.(chunk);
        return Promise.resolve({
          text: next.text ?? chunks.join(''),
          toolCalls: next.toolCalls ?? [],
          usage: next.tokens === null ? undefined : (next.tokens ?? { input: 10, output: 5 }),
          model: next.model ?? id,
          finishReason: next.toolCalls?.length ? 'tool-calls' : 'stop',
        });
      },
    });
  }

  check(): Promise<ModelCheck> {
    return Promise.resolve({ reachable: true, detail: 'the fake model of a test' });
  }
}

/** A model instrument as the loader would produce it. */
export function testInstrument(overrides: Partial<Instrument> = {}): Instrument {
  return {
    nickname: 'Tuba',
    kind: 'model',
    role: 'Handles schema and queries.',
    model: { provider: 'openai-compatible', id: 'llama3.1' },
    concurrency: 1,
    ref: 'backend/database',
    ensemble: 'backend',
    id: 'database',
    file: '/nowhere/ensembles/backend/database.yaml',
    ...overrides,
  };
}

export interface RigOptions {
  /** The workspace (default: a new temporary folder). */
  readonly root?: string;
  readonly permissions?: Permissions;
  readonly instrument?: Instrument;
  /** What `approve` answers (default true). */
  readonly approve?: boolean;
  readonly executeCommand?: Host['executeCommand'];
  /** The expression context `render` sees, as plain data (`inputs`, `nodes`…). */
  readonly expressions?: Record<string, unknown>;
  readonly runMelody?: (file: string, inputs: Readonly<Record<string, unknown>>) => Promise<ChildRun>;
  /** Other instruments lookupInstrument() finds. */
  readonly instruments?: readonly Instrument[];
  /** What budgetLeft() answers before any usage (default: unlimited). */
  readonly budget?: BudgetLeft;
}

/** A NodeContext and everything a test needs to drive and observe it. */
export interface NodeRig {
  readonly root: string;
  readonly ctx: NodeContext;
  readonly controller: AbortController;
  readonly models: FakeModels;
  readonly logs: { stream: 'stdout' | 'stderr' | 'info'; text: string }[];
  readonly notices: Parameters<Host['notify']>[0][];
  readonly approvals: Parameters<Host['approve']>[0][];
  /** Model calls charged with ctx.usage, in order. */
  readonly usages: ModelUsage[];
  /** Tool calls reported with ctx.toolCall. */
  readonly tools: ToolCallReport[];
  /** Secrets registered with ctx.addSecret. */
  readonly secrets: string[];
  /** Values stored with ctx.storeArtifact, by sha256. */
  readonly artifacts: Map<string, unknown>;
  /** Programs reported with ctx.programStarted. */
  readonly programs: StartedProgram[];
  /** Everything logged to one stream, concatenated. */
  logged(stream: 'stdout' | 'stderr' | 'info'): string;
}

/** Builds a NodeContext over a real workspace folder. */
export function nodeRig(options: RigOptions = {}): NodeRig {
  const root = options.root ?? scratchDir();
  const controller = new AbortController();
  const models = new FakeModels();
  const logs: NodeRig['logs'] = [];
  const notices: NodeRig['notices'] = [];
  const approvals: NodeRig['approvals'] = [];
  const usages: ModelUsage[] = [];
  const tools: ToolCallReport[] = [];
  const secrets: string[] = [];
  const artifacts = new Map<string, unknown>();
  const programs: StartedProgram[] = [];
  const host: Host = {
    name: 'test',
    approve: (request) => {
      approvals.push(request);
      return Promise.resolve(options.approve ?? true);
    },
    notify: (notice) => void notices.push(notice),
    executeCommand: options.executeCommand,
  };
  const celContext = celVariables(options.expressions ?? {});
  const ctx: NodeContext = {
    runId: '20261122-140312-a1b2c3',
    nodeId: 'node',
    attempt: 1,
    iteration: 0,
    workspaceRoot: root,
    melodyFile: join(root, 'melodies', 'test.melody.yaml'),
    melodyName: 'test-melody',
    signal: controller.signal,
    permissions: new PermissionGuard(root, options.permissions ?? {}),
    instrument: options.instrument,
    env: {},
    programs: programHost(processEnv()),
    host,
    models,
    lookupInstrument: (ref) => options.instruments?.find((i) => i.ref === ref),
    usage: (call) => void usages.push(call),
    budgetLeft: () => {
      const spent = usages.reduce((n, u) => n + u.tokens.input + u.tokens.output, 0);
      const usd = usages.reduce((n, u) => n + u.costUsd, 0);
      const b = options.budget ?? {};
      return { tokens: b.tokens === undefined ? undefined : b.tokens - spent, usd: b.usd === undefined ? undefined : b.usd - usd };
    },
    priceOf: (instrument, answeredBy) => (instrument.model ? priceOf(instrument.model, answeredBy) : undefined),
    addSecret: (value) => void secrets.push(value),
    redact: (text) => secrets.reduce((t, secret) => t.split(secret).join('***'), text),
    toolCall: (call) => void tools.push(call),
    storeArtifact: (value) => {
      const hash = sha256(canonicalJson(value));
      artifacts.set(hash, value);
      return Promise.resolve(hash);
    },
    programStarted: (program) => void programs.push(program),
    log: (stream, text) => void logs.push({ stream, text }),
    runMelody: options.runMelody ?? (() => Promise.reject(new Error('the test gave no runMelody'))),
    render: (text) => renderString(text, celContext),
  };
  return {
    root,
    ctx,
    controller,
    models,
    logs,
    notices,
    approvals,
    usages,
    tools,
    secrets,
    artifacts,
    programs,
    logged: (stream) => logs.filter((l) => l.stream === stream).map((l) => l.text).join(''),
  };
}

/** Awaits a promise that must reject, and returns what it rejected with. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
