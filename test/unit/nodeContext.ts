import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PermissionGuard } from '../../src/core/engine/permissions';
import { renderString, toCel } from '../../src/core/expr/evaluate';
import type { Instrument } from '../../src/core/model/instrument';
import type { Permissions } from '../../src/core/model/melody';
import type { TokenUsage } from '../../src/core/model/run';
import type { ChildRun, Host, NodeContext } from '../../src/core/nodes/types';
import type { ModelProvider, ModelRequest, ModelResponse } from '../../src/core/providers/types';

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

/** One scripted model answer: its text (streamed in `chunks` when given) or an error to throw. */
export interface ScriptedReply {
  readonly text?: string;
  readonly chunks?: readonly string[];
  readonly error?: Error;
  readonly tokens?: TokenUsage;
  readonly costUsd?: number;
}

/** A ModelProvider that answers from a script and records every request. */
export class FakeModels implements ModelProvider {
  readonly requests: { instrument: Instrument; request: ModelRequest }[] = [];
  private readonly script: ScriptedReply[] = [];

  /** Queues the next answer. */
  reply(reply: ScriptedReply | string): this {
    this.script.push(typeof reply === 'string' ? { text: reply } : reply);
    return this;
  }

  complete(instrument: Instrument, request: ModelRequest, signal: AbortSignal, onText?: (chunk: string) => void): Promise<ModelResponse> {
    this.requests.push({ instrument, request });
    const next = this.script.shift();
    if (!next) return Promise.reject(new Error('the test scripted no model reply for this call'));
    if (next.error) return Promise.reject(next.error);
    signal.throwIfAborted();
    const chunks = next.chunks ?? [next.text ?? ''];
    for (const chunk of chunks) onText?.(chunk);
    return Promise.resolve({
      text: next.text ?? chunks.join(''),
      tokens: next.tokens ?? { input: 10, output: 5 },
      costUsd: next.costUsd ?? 0.001,
      model: instrument.model?.id ?? 'fake',
    });
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
  const host: Host = {
    name: 'test',
    approve: (request) => {
      approvals.push(request);
      return Promise.resolve(options.approve ?? true);
    },
    notify: (notice) => void notices.push(notice),
    executeCommand: options.executeCommand,
  };
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  const celContext = toCel(options.expressions ?? {}) as Record<string, unknown>;
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
    env,
    host,
    models,
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
