import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { EXPRESSION_MEMORY_MB, type StatusFunctions } from './cel';
import type { WorkerReply, WorkerRequest } from './celWorker';

/**
 * Worker threads that evaluate costly expressions (see `shape.ts`), so a slow one never
 * holds up the engine's thread — its other runs, `symphony serve`'s webhooks, the editor —
 * and can always be stopped: at its deadline or when its signal aborts, the thread running
 * it is terminated (evaluation cannot be interrupted from inside) and a new one takes its
 * place when needed. Idle threads do not keep the process alive.
 */

/** Why an evaluation was stopped before it gave a value. */
export class EvaluationStopped extends Error {
  constructor(
    readonly reason: 'deadline' | 'aborted' | 'memory' | 'crashed',
    message: string,
  ) {
    super(message);
    this.name = 'EvaluationStopped';
  }
}

/** An expression's own error (a missing key, a wrong type), as the worker reported it. */
export class EvaluationFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvaluationFailed';
  }
}

export interface WorkerBounds {
  /** Aborting it terminates the evaluation (a node's timeout, a run's cancellation). */
  readonly signal?: AbortSignal;
  /** Most milliseconds of evaluation, counted from when a thread starts on it. */
  readonly timeLimitMs: number;
}

interface Task {
  readonly request: WorkerRequest;
  readonly bounds: WorkerBounds;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  slot?: Slot;
  timer?: NodeJS.Timeout;
  done?: () => void;
}

interface Slot {
  readonly worker: Worker;
  task?: Task;
  /** Ends the thread after it has been idle a while (its memory goes back). */
  idle?: NodeJS.Timeout;
}

/** How long an idle thread is kept for the next costly expression. */
const IDLE_MS = 30_000;

/**
 * Where the worker's code is: dist/celWorker.js, beside the extension's bundle and one
 * folder above the CLI's chunks (dist/cli/), or — running from source, as the tests and
 * benches do — the TypeScript file, loaded through tsx (resolved here, so the process's
 * working directory does not matter).
 */
function workerScript(): { file: string; execArgv?: string[] } {
  for (const bundled of [join(__dirname, 'celWorker.js'), join(__dirname, '..', 'celWorker.js')]) {
    if (existsSync(bundled)) return { file: bundled };
  }
  let tsx = 'tsx/cjs';
  try {
    tsx = createRequire(__filename).resolve('tsx/cjs');
  } catch {
    // Left to Node's own resolution.
  }
  return { file: join(__dirname, 'celWorker.ts'), execArgv: ['--require', tsx] };
}

export class ExpressionWorkers {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private readonly size: number;

  constructor(options: { readonly size?: number } = {}) {
    this.size = options.size ?? Math.max(2, Math.min(4, availableParallelism()));
  }

  /** Evaluates `expression` over `context` on a worker thread; rejects with EvaluationStopped or EvaluationFailed. */
  evaluate(expression: string, context: Readonly<Record<string, unknown>>, status: StatusFunctions | undefined, bounds: WorkerBounds): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const { signal } = bounds;
      if (signal?.aborted) return reject(new EvaluationStopped('aborted', 'stopped before it began'));
      const task: Task = { request: { id: this.nextId++, expression, context, status }, bounds, resolve, reject };
      if (signal) {
        const onAbort = () => this.stop(task, new EvaluationStopped('aborted', 'stopped'));
        signal.addEventListener('abort', onAbort, { once: true });
        task.done = () => signal.removeEventListener('abort', onAbort);
      }
      this.queue.push(task);
      this.pump();
    });
  }

  /** Terminates every thread; evaluations in progress are stopped. */
  async close(): Promise<void> {
    const closed = () => new EvaluationStopped('aborted', 'the evaluator was closed');
    const slots = this.slots.splice(0);
    for (const task of this.queue.splice(0)) this.settle(task, closed());
    for (const slot of slots) if (slot.task) this.settle(slot.task, closed());
    for (const slot of slots) clearTimeout(slot.idle);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find((s) => !s.task) ?? (this.slots.length < this.size ? this.spawn() : undefined);
      if (!slot) return;
      const task = this.queue.shift()!;
      clearTimeout(slot.idle);
      slot.task = task;
      task.slot = slot;
      task.timer = setTimeout(() => this.stop(task, new EvaluationStopped('deadline', `took longer than ${seconds(task.bounds.timeLimitMs)}`)), task.bounds.timeLimitMs);
      slot.worker.postMessage(task.request);
    }
  }

  /** Ends a task with `error`; a running one takes its thread down with it. */
  private stop(task: Task, error: Error): void {
    const slot = task.slot;
    if (slot) {
      this.drop(slot);
      void slot.worker.terminate();
    } else {
      const i = this.queue.indexOf(task);
      if (i < 0) return;
      this.queue.splice(i, 1);
    }
    this.settle(task, error);
    this.pump();
  }

  private settle(task: Task, outcome: Error | WorkerReply): void {
    clearTimeout(task.timer);
    task.done?.();
    const slot = task.slot;
    if (slot?.task === task) {
      slot.task = undefined;
      if (this.slots.includes(slot)) {
        slot.idle = setTimeout(() => (this.drop(slot), void slot.worker.terminate()), IDLE_MS);
        slot.idle.unref();
      }
    }
    task.slot = undefined;
    if (outcome instanceof Error) task.reject(outcome);
    else if (outcome.ok) task.resolve(outcome.value);
    else task.reject(new EvaluationFailed(outcome.message));
  }

  private spawn(): Slot {
    const { file, execArgv } = workerScript();
    const worker = new Worker(file, {
      execArgv,
      resourceLimits: { maxOldGenerationSizeMb: EXPRESSION_MEMORY_MB, maxYoungGenerationSizeMb: 32 },
    });
    const slot: Slot = { worker };
    worker.on('message', (reply: WorkerReply) => {
      const task = slot.task;
      if (!task || task.request.id !== reply.id) return;
      this.settle(task, reply);
      this.pump();
    });
    const died = (error: EvaluationStopped) => {
      if (!this.slots.includes(slot)) return;
      this.drop(slot);
      if (slot.task) this.settle(slot.task, error);
      this.pump();
    };
    worker.on('error', (e: Error & { code?: string }) =>
      died(
        e.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new EvaluationStopped('memory', `used more than ${EXPRESSION_MEMORY_MB} MB of memory`)
          : new EvaluationStopped('crashed', `the expression worker failed: ${e.message}`),
      ),
    );
    worker.on('exit', (code) => died(new EvaluationStopped('crashed', `the expression worker stopped (exit code ${code})`)));
    // An idle thread never keeps the process alive; a running evaluation's deadline timer
    // does. (After the listeners: adding a 'message' listener refs the worker again.)
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  private drop(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
