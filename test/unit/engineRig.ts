import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, type EngineOptions, type RunResult } from '../../src/core/engine/engine';
import { loadMelody } from '../../src/core/load/melody';
import type { Melody } from '../../src/core/model/melody';
import { NODE_KIND_NAMES, type NodeKind } from '../../src/core/model/nodeKinds';
import type { RunEvent } from '../../src/core/model/run';
import { NodeError, type Host, type NodeContext, type NodeImplementation, type NodeRegistry, type NodeResult } from '../../src/core/nodes/types';
import { FileArtifactStore } from '../../src/core/store/artifacts';
import { FileAuditLog } from '../../src/core/store/audit';
import { FileRunStorage } from '../../src/core/store/runs';
import { tempDir } from './helpers';

interface Deferred {
  resolve(r: NodeResult): void;
  reject(e: unknown): void;
  ctx: NodeContext;
  input: unknown;
}

/**
 * A controllable engine for scheduler tests: every node kind is a fake whose attempts the
 * test finishes by hand (or automatically), so ordering, overlap and failure modes are
 * asserted deterministically. Storage, artifacts and audit are the real file-backed ones.
 */
export class EngineRig {
  readonly root = tempDir('symphony-engine-');
  readonly events: RunEvent[] = [];
  /** `nodeId#attempt` in the order attempts started. */
  readonly started: string[] = [];
  readonly running = new Map<string, Deferred>();
  readonly notices: string[] = [];
  /** Automatic behaviour per node id; nodes without one wait for finish()/fail(). */
  readonly auto = new Map<string, (ctx: NodeContext, input: unknown) => Promise<NodeResult> | NodeResult>();
  private waiters: (() => void)[] = [];
  readonly engine: Engine;
  readonly host: Host;

  constructor(options: Partial<EngineOptions> = {}) {
    mkdirSync(join(this.root, '.symphony'), { recursive: true });
    const fake: NodeImplementation = {
      kind: 'transform',
      run: (input, ctx) => this.onRun(ctx, input),
    };
    const nodes = Object.fromEntries(NODE_KIND_NAMES.map((k) => [k, { ...fake, kind: k }])) as NodeRegistry;
    this.host = {
      name: 'test',
      approve: async () => true,
      notify: (n) => this.notices.push(`${n.level}: ${n.message}`),
    };
    this.engine = new Engine({
      workspaceRoot: this.root,
      storage: new FileRunStorage(this.root),
      artifacts: new FileArtifactStore(this.root),
      audit: new FileAuditLog(this.root),
      host: this.host,
      nodes,
      sleep: async () => undefined,
      random: () => 0.5,
      onEvent: (e) => {
        this.events.push(e);
        this.wake();
      },
      ...options,
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private onRun(ctx: NodeContext, input: unknown): Promise<NodeResult> {
    this.started.push(`${ctx.nodeId}#${ctx.attempt}`);
    const auto = this.auto.get(ctx.nodeId);
    const p = auto
      ? Promise.resolve().then(() => auto(ctx, input))
      : new Promise<NodeResult>((resolve, reject) => {
          this.running.set(ctx.nodeId, { resolve, reject, ctx, input });
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
        });
    this.wake();
    return p.finally(() => {
      this.running.delete(ctx.nodeId);
    });
  }

  /**
   * Waits until `probe` holds, re-checking after every engine event and node start. The
   * deadline only catches a hang, so it is generous (a loaded CI machine is slow).
   */
  async until(what: string, probe: () => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!probe()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; started: ${this.started.join(', ')}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 20);
      });
    }
  }

  async waitRunning(...ids: string[]): Promise<void> {
    await this.until(`${ids.join(', ')} to be running`, () => ids.every((id) => this.running.has(id)));
  }

  finish(id: string, output: unknown = `${id} done`, extra: Partial<NodeResult> = {}): void {
    const d = this.running.get(id);
    if (!d) throw new Error(`${id} is not running (running: ${[...this.running.keys()].join(', ')})`);
    d.resolve({ output, ...extra });
  }

  fail(id: string, message = `${id} broke`, retryable = true): void {
    const d = this.running.get(id);
    if (!d) throw new Error(`${id} is not running`);
    d.reject(new NodeError(message, { retryable }));
  }

  inputOf(id: string): unknown {
    return this.running.get(id)?.input;
  }

  /** Writes a melody into the workspace and loads it (failing the test on load errors). */
  melody(yamlText: string, name = 'test.melody.yaml'): { melody: Melody; file: string; text: string } {
    const file = join(this.root, name);
    writeFileSync(file, yamlText);
    const r = loadMelody(yamlText, file);
    if (!r.ok) throw new Error(`fixture melody is invalid:\n${r.error.map((d) => `${d.range.start.line}:${d.range.start.column} ${d.message}`).join('\n')}`);
    return { melody: r.value.melody, file, text: yamlText };
  }

  run(yamlText: string, extra: { inputs?: Record<string, unknown>; signal?: AbortSignal } = {}): Promise<RunResult> {
    const m = this.melody(yamlText);
    return this.engine.run({ ...m, ...extra });
  }

  /** Statuses by node id. */
  static statuses(r: RunResult): Record<string, string> {
    return Object.fromEntries(Object.entries(r.nodes).map(([id, n]) => [id, n.state]));
  }

  eventsOf(type: RunEvent['type'], runId?: string): RunEvent[] {
    return this.events.filter((e) => e.type === type && (!runId || e.runId === runId));
  }
}

/** Node kinds used in fixtures: every one is faked by the rig, so any kind works. */
export const KIND: NodeKind = 'transform';
