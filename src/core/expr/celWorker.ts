import { parentPort } from 'node:worker_threads';
import { celEnvironment, firstLine, fromCel, NO_FAILURE, type StatusFunctions } from './cel';

/**
 * The body of an expression worker thread (bundled as dist/celWorker.js): evaluates the
 * costly expressions the engine sends it, one at a time. The engine terminates the thread
 * when a deadline passes or the run is cancelled — evaluation cannot be interrupted from
 * inside, so a thread is what can be stopped.
 */

/** An expression to evaluate, with the part of the context it reads. */
export interface WorkerRequest {
  readonly id: number;
  readonly expression: string;
  readonly context: Readonly<Record<string, unknown>>;
  readonly status?: StatusFunctions;
}

/** Its value as plain data (ints as numbers), or why it failed. */
export type WorkerReply = { readonly id: number; readonly ok: true; readonly value: unknown } | { readonly id: number; readonly ok: false; readonly message: string };

let status: StatusFunctions = NO_FAILURE;
const env = celEnvironment(() => status);
const compiled = new Map<string, (context: Readonly<Record<string, unknown>>) => unknown>();

parentPort?.on('message', (request: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    let fn = compiled.get(request.expression);
    if (!fn) {
      fn = env.parse(request.expression) as unknown as (context: Readonly<Record<string, unknown>>) => unknown;
      if (compiled.size > 1000) compiled.clear();
      compiled.set(request.expression, fn);
    }
    status = request.status ?? NO_FAILURE;
    reply = { id: request.id, ok: true, value: fromCel(fn(request.context)) };
  } catch (e) {
    reply = { id: request.id, ok: false, message: firstLine(e) };
  }
  try {
    parentPort!.postMessage(reply);
  } catch (e) {
    parentPort!.postMessage({ id: request.id, ok: false, message: `its value cannot be passed on: ${firstLine(e)}` } satisfies WorkerReply);
  }
});
