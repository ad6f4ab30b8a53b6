// What bounding expressions costs: the cheap path (evaluated at once) against the CEL
// library called bare, and the worker round trip that costly expressions pay.
import { celEnvironment, NO_FAILURE } from '../src/core/expr/cel';
import { celVariables, evaluateCondition, evaluateExpression, renderValue } from '../src/core/expr/evaluate';
import { ExpressionWorkers } from '../src/core/expr/workers';
import type { Bench, Figure } from './index';

/** Microseconds per call of `f`, the least of three rounds of `n` calls awaited one by one. */
async function microseconds(n: number, f: () => unknown): Promise<number> {
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    for (let i = 0; i < n; i++) await f();
    best = Math.min(best, ((performance.now() - started) * 1000) / n);
  }
  return best;
}

export const bench: Bench = {
  title: 'expressions',
  async run(): Promise<Figure[]> {
    const figures: Figure[] = [];
    // A run's context with 200 finished nodes, each with a small output.
    const nodes = new Map(Array.from({ length: 200 }, (_, i) => [`n${i}`, { status: 'success', output: { exitCode: 0, items: [1, 2, 3], text: 'x'.repeat(200) } }]));
    const context = celVariables({ inputs: { force: false, target: 'prod' }, trigger: { kind: 'manual' }, nodes });
    const condition = "nodes.n7.status == 'success' && nodes.n7.output.exitCode == 0 && !inputs.force";

    const bare = celEnvironment(() => NO_FAILURE).parse(condition);
    const bareUs = await microseconds(20_000, () => bare(context));
    figures.push({ name: 'a condition, CEL library called bare', value: bareUs, unit: 'µs' });
    const hereUs = await microseconds(20_000, () => evaluateCondition(condition, context, NO_FAILURE));
    figures.push({ name: 'the same condition through evaluateCondition (cheap path)', value: hereUs, unit: 'µs', note: `+${(hereUs - bareUs).toFixed(2)} µs: the cached shape check, the await` });

    const withValue = { command: 'deploy', args: ['--target', '${{ inputs.target }}', '--sha=${{ nodes.n3.output.text }}'], retries: 3 };
    figures.push({ name: 'a node’s `with:` (two expressions) through renderValue', value: await microseconds(5000, () => renderValue(withValue, context)), unit: 'µs' });

    // Costly: a comprehension, on a worker. The first call starts the thread.
    const costly = 'nodes.n7.output.items.exists(i, i == 2)';
    const coldStarted = performance.now();
    await evaluateExpression(costly, context);
    figures.push({ name: 'first costly expression (starts a worker thread)', value: performance.now() - coldStarted, unit: 'ms' });
    const bareCostly = celEnvironment(() => NO_FAILURE).parse(costly);
    const bareCostlyUs = await microseconds(5000, () => bareCostly(context));
    const workerUs = await microseconds(2000, () => evaluateExpression(costly, context));
    figures.push({ name: 'a comprehension, CEL library called bare', value: bareCostlyUs, unit: 'µs' });
    figures.push({ name: 'the same comprehension on a worker (round trip)', value: workerUs, unit: 'µs', note: `+${(workerUs - bareCostlyUs).toFixed(0)} µs: only expressions with comprehensions, regexes, cel.bind pay it` });
    const allNodes = 'size(nodes) > 0 && [1].all(x, x == 1)';
    figures.push({ name: 'a comprehension reading all 200 nodes (whole `nodes` sent)', value: await microseconds(500, () => evaluateExpression(allNodes, context)), unit: 'µs' });

    // Stopping: how long after its deadline a runaway expression is stopped.
    const pool = new ExpressionWorkers({ size: 1 });
    try {
      const slow = "inputs.s.split('').all(a, inputs.s.split('').all(b, a == b))";
      const big = celVariables({ inputs: { s: 'x'.repeat(20_000) } });
      await pool.evaluate('[1].map(x, x)', big, undefined, { timeLimitMs: 5000 });
      const started = performance.now();
      await pool.evaluate(slow, big, undefined, { timeLimitMs: 200 }).catch(() => undefined);
      figures.push({ name: 'a runaway expression with a 200 ms deadline: stopped after', value: performance.now() - started, unit: 'ms', note: 'ideal 200' });
    } finally {
      await pool.close();
    }
    return figures;
  },
};
