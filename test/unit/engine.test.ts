import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Breakpoints } from '../../src/core/engine/debugger';
import { sha256 } from '../../src/core/engine/hash';
import { NodeError, type NodeContext } from '../../src/core/nodes/types';
import type { RunEvent } from '../../src/core/model/run';
import { FileRunStorage } from '../../src/core/store/runs';
import { EngineRig } from './engineRig';
import { yaml } from './helpers';

const statuses = EngineRig.statuses;

describe('engine', () => {
  describe('scheduling', () => {
    it('fans out at once, fans in only when every need is done', async () => {
      const rig = new EngineRig();
      const done = rig.run(yaml`
        name: fan
        nodes:
          a: { uses: transform, with: { value: 1 } }
          b: { uses: transform, with: { value: 2 } }
          c: { uses: transform, needs: [a, b], with: { value: 3 } }
      `);
      await rig.waitRunning('a', 'b'); // both independent nodes are running at the same time
      assert.deepEqual([...rig.running.keys()].sort(), ['a', 'b']);
      rig.finish('a');
      await rig.until('a to finish', () => rig.eventsOf('node-finished').length === 1);
      assert.ok(!rig.running.has('c'), 'c must wait for b');
      rig.finish('b');
      await rig.waitRunning('c');
      rig.finish('c');
      const r = await done;
      assert.equal(r.state, 'success');
      assert.deepEqual(rig.started, ['a#1', 'b#1', 'c#1']);
    });

    it('passes upstream outputs to downstream inputs through expressions', async () => {
      const rig = new EngineRig();
      rig.auto.set('a', () => ({ output: { files: ['x.ts', 'y.ts'], count: 2 } }));
      let seen: unknown;
      rig.auto.set('b', (_ctx, input) => ((seen = input), { output: 'ok' }));
      const r = await rig.run(yaml`
        name: pass
        inputs:
          who: { type: string, default: Ada }
        nodes:
          a: { uses: transform, with: { value: 1 } }
          b:
            uses: transform
            needs: [a]
            with:
              value:
                list: "\${{ nodes.a.output.files }}"
                text: "\${{ inputs.who }} has \${{ nodes.a.output.count + 1 }} files"
      `, { inputs: { who: 'Grace' } });
      assert.equal(r.state, 'success');
      assert.deepEqual(seen, { value: { list: ['x.ts', 'y.ts'], text: 'Grace has 3 files' } });
    });

    it('never runs more nodes at once than the parallel limit', async () => {
      const rig = new EngineRig({ maxParallel: 2 });
      let peak = 0;
      let now = 0;
      for (const id of ['a', 'b', 'c', 'd', 'e']) {
        rig.auto.set(id, async () => {
          peak = Math.max(peak, ++now);
          await new Promise((r) => setTimeout(r, 15));
          now--;
          return { output: id };
        });
      }
      const r = await rig.run(yaml`
        name: wide
        nodes:
          a: { uses: transform, with: { value: 1 } }
          b: { uses: transform, with: { value: 1 } }
          c: { uses: transform, with: { value: 1 } }
          d: { uses: transform, with: { value: 1 } }
          e: { uses: transform, with: { value: 1 } }
      `);
      assert.equal(r.state, 'success');
      assert.equal(peak, 2);
    });

    it('honours an instrument’s concurrency across nodes', async () => {
      const rig = new EngineRig();
      mkdirSync(join(rig.root, 'ensembles', 'team'), { recursive: true });
      writeFileSync(join(rig.root, 'ensembles', 'team', 'solo.yaml'), 'nickname: Solo\nkind: model\nmodel: { provider: anthropic, id: m }\nconcurrency: 1\n');
      const done = rig.run(yaml`
        name: solo
        nodes:
          a: { uses: instrument, instrument: team/solo, with: { prompt: a } }
          b: { uses: instrument, instrument: team/solo, with: { prompt: b } }
      `);
      // Both attempts have started (node-started is emitted before the instrument is
      // acquired) and one call runs (after the run's start is on disk); once the event loop
      // has turned, the second is plainly waiting.
      await rig.until('both attempts to start', () => rig.eventsOf('node-started').length === 2);
      await rig.until('a call to run', () => rig.running.size > 0);
      await new Promise((r) => setImmediate(r));
      assert.equal(rig.running.size, 1, 'the second call must wait for the instrument');
      const first = [...rig.running.keys()][0]!;
      assert.equal(rig.running.get(first)!.ctx.instrument?.nickname, 'Solo');
      rig.finish(first);
      const second = first === 'a' ? 'b' : 'a';
      await rig.waitRunning(second);
      rig.finish(second);
      assert.equal((await done).state, 'success');
    });
  });

  describe('conditions', () => {
    it('skips a node whose if is false, and the nodes that need it', async () => {
      const rig = new EngineRig();
      rig.auto.set('a', () => ({ output: { ok: false } }));
      const r = await rig.run(yaml`
        name: cond
        nodes:
          a: { uses: transform, with: { value: 1 } }
          b: { uses: transform, needs: [a], if: "\${{ nodes.a.output.ok }}", with: { value: 1 } }
          c: { uses: transform, needs: [b], with: { value: 1 } }
      `);
      assert.deepEqual(statuses(r), { a: 'success', b: 'skipped', c: 'skipped' });
      assert.equal(r.nodes.b!.reason, 'its condition is false: ${{ nodes.a.output.ok }}');
      assert.equal(r.nodes.c!.reason, 'needs b (skipped) did not succeed');
      assert.equal(r.state, 'success');
    });

    it('skips a chain of thousands of nodes after a false condition, each as its need ends', async () => {
      // Each skipped node ends inside its own start and readies the next: started one after
      // another, not one inside the other, however long the chain.
      const rig = new EngineRig();
      const n = 10_000;
      const lines = ['name: chain', 'nodes:', '  n0: { uses: transform, if: false, with: { value: 0 } }'];
      for (let i = 1; i < n; i++) lines.push(`  n${i}: { uses: transform, needs: [n${i - 1}], with: { value: ${i} } }`);
      const r = await rig.run(`${lines.join('\n')}\n`);
      assert.equal(r.state, 'success');
      assert.equal(Object.values(r.nodes).filter((node) => node.state === 'skipped').length, n);
      assert.equal(r.nodes[`n${n - 1}`]!.reason, `needs n${n - 2} (skipped) did not succeed`);
      assert.deepEqual(rig.started, []);
    });

    it('runs always() and failure() nodes after a failure; success() ones skip', async () => {
      const rig = new EngineRig();
      rig.auto.set('a', () => Promise.reject(new NodeError('lint exploded', { retryable: false })));
      for (const id of ['cleanup', 'report']) rig.auto.set(id, () => ({ output: id }));
      const r = await rig.run(yaml`
        name: statusfns
        nodes:
          a: { uses: transform, with: { value: 1 } }
          cleanup: { uses: transform, needs: [a], if: "always()", with: { value: 1 } }
          report: { uses: transform, needs: [a], if: "\${{ failure() }}", with: { value: 1 } }
          deploy: { uses: transform, needs: [a], if: "success()", with: { value: 1 } }
      `);
      assert.deepEqual(statuses(r), { a: 'failure', cleanup: 'success', report: 'success', deploy: 'skipped' });
      assert.equal(r.state, 'failure');
      assert.equal(r.nodes.a!.error, 'lint exploded');
    });

    it('fails a node whose condition cannot be evaluated', async () => {
      const rig = new EngineRig();
      rig.auto.set('a', () => ({ output: {} }));
      const r = await rig.run(yaml`
        name: badcond
        nodes:
          a: { uses: transform, with: { value: 1 } }
          b: { uses: transform, needs: [a], if: "nodes.a.output.missing == 1", with: { value: 1 } }
      `);
      assert.equal(r.nodes.b!.state, 'failure');
      assert.match(r.nodes.b!.error!, /^expression `nodes\.a\.output\.missing == 1` failed: No such key: missing/);
    });
  });

  describe('failures', () => {
    it('continue-on-error lets dependents run and the run succeed', async () => {
      const rig = new EngineRig();
      rig.auto.set('lint', () => Promise.reject(new NodeError('3 warnings', { retryable: false })));
      rig.auto.set('test', () => ({ output: 'ok' }));
      const r = await rig.run(yaml`
        name: tolerant
        nodes:
          lint: { uses: transform, continue-on-error: true, with: { value: 1 } }
          test: { uses: transform, needs: [lint], with: { value: 1 } }
      `);
      assert.deepEqual(statuses(r), { lint: 'failure', test: 'success' });
      assert.equal(r.state, 'success');
    });

    it('keeps what a failed node produced, so a tolerated failure still hands its output on', async () => {
      const rig = new EngineRig();
      rig.auto.set('lint', () => Promise.reject(new NodeError('eslint exited with code 1', { retryable: false, output: { stdout: '2 problems', exitCode: 1 } })));
      let seen: unknown;
      rig.auto.set('review', (_c, input) => ((seen = input), { output: 'ok' }));
      const r = await rig.run(yaml`
        name: lintreport
        nodes:
          lint: { uses: transform, continue-on-error: true, with: { value: 1 } }
          review: { uses: transform, needs: [lint], with: { value: "Lint: \${{ nodes.lint.output.stdout }} (\${{ nodes.lint.status }})" } }
      `);
      assert.deepEqual(seen, { value: 'Lint: 2 problems (failure)' });
      assert.deepEqual(r.nodes.lint!.output, { stdout: '2 problems', exitCode: 1 });
      assert.equal(r.state, 'success');
    });

    it('halts on failure: nothing new starts, the compensation runs, the user is notified', async () => {
      const rig = new EngineRig();
      const done = rig.run(yaml`
        name: halt
        nodes:
          a: { uses: transform, with: { value: 1 } }
          slow: { uses: transform, with: { value: 1 } }
          after-slow: { uses: transform, needs: [slow], with: { value: 1 } }
          revert: { uses: transform, with: { value: undo } }
        on-failure: { notify: true, compensate: revert }
      `);
      await rig.waitRunning('a', 'slow');
      assert.ok(!rig.running.has('revert'), 'the compensation node is not part of the normal graph');
      rig.fail('a', 'broken build', false);
      await rig.until('a to fail', () => rig.eventsOf('node-finished').length === 1);
      rig.finish('slow'); // running nodes are allowed to finish…
      await rig.waitRunning('revert');
      rig.finish('revert');
      const r = await done;
      assert.deepEqual(statuses(r), { a: 'failure', slow: 'success', 'after-slow': 'skipped', revert: 'success' });
      assert.equal(r.nodes['after-slow']!.reason, 'the run is stopping: a failed'); // …but nothing new starts
      assert.equal(r.state, 'failure');
      assert.deepEqual(rig.notices, ['error: Melody halt failed: a failed']);
    });

    it('retries with exponential backoff and jitter, then succeeds', async () => {
      const delays: number[] = [];
      const rig = new EngineRig({ sleep: async (ms) => void delays.push(ms), random: () => 0.5 });
      let calls = 0;
      rig.auto.set('flaky', () => (++calls < 3 ? Promise.reject(new NodeError(`try ${calls} failed`)) : { output: 'third time lucky' }));
      const r = await rig.run(yaml`
        name: retry
        nodes:
          flaky: { uses: transform, retry: { max: 4, backoff: exponential, delay: 1s }, with: { value: 1 } }
      `);
      assert.equal(r.nodes.flaky!.state, 'success');
      assert.equal(r.nodes.flaky!.attempts, 3);
      assert.deepEqual(delays, [500, 1000]); // 1s·2⁰ and 1s·2¹, each times the jitter draw 0.5
      assert.deepEqual(rig.eventsOf('node-retried').map((e) => (e as { error: string }).error), ['try 1 failed', 'try 2 failed']);
      assert.deepEqual(r.nodes.flaky!.timeline.map((t) => t.error ?? 'ok'), ['try 1 failed', 'try 2 failed', 'ok']);
    });

    it('uses a fixed delay, and gives up after max attempts', async () => {
      const delays: number[] = [];
      const rig = new EngineRig({ sleep: async (ms) => void delays.push(ms) });
      rig.auto.set('down', () => Promise.reject(new NodeError('503')));
      const r = await rig.run(yaml`
        name: giveup
        nodes:
          down: { uses: transform, retry: { max: 3, delay: 250ms }, with: { value: 1 } }
      `);
      assert.equal(r.nodes.down!.state, 'failure');
      assert.equal(r.nodes.down!.attempts, 3);
      assert.deepEqual(delays, [250, 250]);
    });

    it('does not retry a failure that retrying cannot fix', async () => {
      const rig = new EngineRig();
      rig.auto.set('x', () => Promise.reject(new NodeError('permission denied', { retryable: false })));
      const r = await rig.run('name: nr\nnodes:\n  x: { uses: transform, retry: { max: 5 }, with: { value: 1 } }\n');
      assert.equal(r.nodes.x!.attempts, 1);
    });

    it('times out an attempt, aborting the node, and retries it', async () => {
      const rig = new EngineRig();
      const aborted: string[] = [];
      rig.auto.set('hang', (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => (aborted.push(`attempt ${ctx.attempt}`), reject(new Error('aborted'))))));
      const r = await rig.run('name: to\nnodes:\n  hang: { uses: transform, timeout: 40ms, retry: { max: 2, delay: 1ms }, with: { value: 1 } }\n');
      assert.equal(r.nodes.hang!.state, 'failure');
      assert.equal(r.nodes.hang!.error, 'timed out after 40ms');
      assert.equal(r.nodes.hang!.attempts, 2);
      assert.deepEqual(aborted, ['attempt 1', 'attempt 2']);
    });

    it('falls back through the instrument chain', async () => {
      const rig = new EngineRig();
      mkdirSync(join(rig.root, 'ensembles', 'ai'), { recursive: true });
      for (const [id, nick] of [['big', 'Tuba'], ['small', 'Flute']]) {
        writeFileSync(join(rig.root, 'ensembles', 'ai', `${id}.yaml`), `nickname: ${nick}\nkind: model\nmodel: { provider: anthropic, id: ${id} }\n`);
      }
      const used: string[] = [];
      rig.auto.set('ask', (ctx) => {
        used.push(ctx.instrument!.nickname);
        if (ctx.instrument!.id === 'big') return Promise.reject(new NodeError('rate limited'));
        ctx.usage({ tokens: { input: 10, output: 5 }, costUsd: 0.01, model: 'small', instrument: 'ai/small', priced: true });
        return { output: 'answer' };
      });
      const r = await rig.run(yaml`
        name: fb
        nodes:
          ask: { uses: instrument, instrument: ai/big, fallback: [ai/small], with: { prompt: hi } }
      `);
      assert.deepEqual(used, ['Tuba', 'Flute']);
      assert.equal(r.nodes.ask!.state, 'success');
      assert.equal(r.nodes.ask!.instrument, 'ai/small');
      assert.deepEqual(rig.eventsOf('node-fallback').map((e) => [(e as { from: string }).from, (e as { to: string }).to]), [['ai/big', 'ai/small']]);
      assert.deepEqual(r.tokens, { input: 10, output: 5 });
      assert.equal(r.costUsd, 0.01);
    });

    it('validates outputs against the outputs: JSON Schema', async () => {
      const rig = new EngineRig();
      let n = 0;
      rig.auto.set('review', () => ({ output: ++n === 1 ? { mood: 'fine' } : { verdict: 'ok' } }));
      const r = await rig.run(yaml`
        name: outs
        nodes:
          review: { uses: transform, retry: { max: 2, delay: 1ms }, outputs: { type: object, required: [verdict] }, with: { value: 1 } }
      `);
      assert.equal(r.nodes.review!.state, 'success');
      assert.deepEqual(rig.eventsOf('node-retried').map((e) => (e as { error: string }).error), ["the output does not match `outputs:`: (the value) must have required property 'verdict'"]);
    });

    it('enforces the token budget', async () => {
      const rig = new EngineRig();
      rig.auto.set('a', (ctx) => {
        ctx.usage({ tokens: { input: 900, output: 200 }, costUsd: 0, model: 'm', instrument: 'ai/m', priced: true });
        return { output: 'x' };
      });
      const r = await rig.run('name: b\nbudget: { tokens: 1000 }\nnodes:\n  a: { uses: transform, with: { value: 1 } }\n');
      assert.equal(r.nodes.a!.state, 'failure');
      assert.equal(r.nodes.a!.error, 'budget exceeded: 1100 tokens used of 1000');
    });
  });

  describe('loops and sub-melodies', () => {
    it('loops until the condition holds', async () => {
      const rig = new EngineRig();
      rig.auto.set('fix', (ctx) => ({ output: { ok: ctx.iteration === 2, iteration: ctx.iteration } }));
      const r = await rig.run('name: l\nnodes:\n  fix: { uses: transform, loop: { until: "${{ nodes.fix.output.ok }}", max: 5 }, with: { value: 1 } }\n');
      assert.equal(r.nodes.fix!.state, 'success');
      assert.equal(r.nodes.fix!.iterations, 3);
      assert.deepEqual(r.nodes.fix!.output, { ok: true, iteration: 2 });
    });

    it('fails a loop that reaches max without the condition', async () => {
      const rig = new EngineRig();
      rig.auto.set('fix', () => ({ output: { ok: false } }));
      const r = await rig.run('name: l\nnodes:\n  fix: { uses: transform, loop: { until: "nodes.fix.output.ok", max: 2 }, with: { value: 1 } }\n');
      assert.equal(r.nodes.fix!.state, 'failure');
      assert.equal(r.nodes.fix!.iterations, 2);
      assert.equal(r.nodes.fix!.error, 'the loop ran 2 times and `until: nodes.fix.output.ok` never became true');
    });

    it('runs a sub-melody as a child run and returns its outputs', async () => {
      const rig = new EngineRig();
      rig.auto.set('call', async (ctx, input) => {
        const w = (input as { melody: string; inputs: Record<string, unknown> });
        const child = await ctx.runMelody(w.melody, w.inputs);
        return { output: child };
      });
      rig.auto.set('double', (_ctx, input) => ({ output: (input as { value: number }).value * 2 }));
      rig.melody('name: child\ninputs:\n  n: { type: number }\nnodes:\n  double: { uses: transform, with: { value: "${{ inputs.n }}" } }\n', 'child.melody.yaml');
      const r = await rig.run('name: parent\nnodes:\n  call: { uses: melody, with: { melody: child.melody.yaml, inputs: { n: 21 } } }\n');
      assert.equal(r.state, 'success');
      const child = r.nodes.call!.output as { runId: string; status: string; outputs: Record<string, unknown> };
      assert.equal(child.status, 'success');
      assert.deepEqual(child.outputs, { double: 42 });
      const started = rig.eventsOf('run-started', child.runId)[0] as Extract<RunEvent, { type: 'run-started' }>;
      assert.deepEqual(started.parent, { runId: r.runId, nodeId: 'call' });
    });
  });

  describe('model usage and budgets across runs', () => {
    const spend = (tokens: number, costUsd = 0) => (ctx: NodeContext) => {
      ctx.usage({ tokens: { input: tokens, output: 0 }, costUsd, model: 'm1', instrument: 'ai/m', priced: true });
      return { output: ctx.budgetLeft() };
    };

    it('rolls a sub-melody’s tokens and cost up into the node that called it, and records usage by instrument and model', async () => {
      const rig = new EngineRig();
      rig.auto.set('call', async (ctx, input) => ({ output: await ctx.runMelody((input as { melody: string }).melody, {}) }));
      rig.auto.set('think', spend(300, 0.03));
      rig.auto.set('own', spend(50, 0.005));
      rig.melody('name: child\nnodes:\n  think: { uses: transform, with: { value: 1 } }\n', 'child.melody.yaml');
      const r = await rig.run('name: parent\nnodes:\n  call: { uses: melody, with: { melody: child.melody.yaml } }\n  own: { uses: transform, with: { value: 1 } }\n');
      assert.equal(r.state, 'success');
      assert.deepEqual(r.nodes.call!.tokens, { input: 300, output: 0 });
      assert.equal(r.nodes.call!.costUsd, 0.03);
      assert.deepEqual(r.tokens, { input: 350, output: 0 });
      assert.equal(Math.round(r.costUsd * 1000), 35);
      assert.deepEqual(r.usage?.map((u) => ({ ...u, costUsd: Math.round(u.costUsd * 1000) })), [{ instrument: 'ai/m', model: 'm1', calls: 2, tokens: { input: 350, output: 0 }, costUsd: 35 }]);
      const childRunId = (r.nodes.call!.output as { runId: string }).runId;
      const parentUsage = rig.eventsOf('node-usage', r.runId).find((e) => (e as { nodeId: string }).nodeId === 'call') as { childRunId?: string };
      assert.equal(parentUsage.childRunId, childRunId, 'the parent journal says which child spent it');
    });

    it('makes the caller’s budget a ceiling for a sub-melody: a child with its own larger budget cannot spend past it', async () => {
      const rig = new EngineRig();
      const seen: unknown[] = [];
      rig.auto.set('call', async (ctx, input) => ({ output: await ctx.runMelody((input as { melody: string }).melody, {}) }));
      rig.auto.set('first', spend(80));
      rig.auto.set('second', (ctx) => {
        seen.push(ctx.budgetLeft());
        return spend(60)(ctx);
      });
      rig.melody('name: child\nbudget: { tokens: 10000 }\nnodes:\n  first: { uses: transform, with: { value: 1 } }\n  second: { uses: transform, needs: [first], with: { value: 1 } }\n', 'child.melody.yaml');
      const r = await rig.run('name: parent\nbudget: { tokens: 100 }\nnodes:\n  call: { uses: melody, with: { melody: child.melody.yaml } }\n');
      assert.deepEqual(seen, [{ tokens: 20, usd: undefined }], 'the child sees what its caller has left, not its own 10,000');
      const child = rig.eventsOf('run-finished').find((e) => e.runId !== r.runId) as { status: string; error: string };
      assert.equal(child.status, 'failure');
      assert.match(child.error, /second failed/);
      const second = rig.eventsOf('node-finished').find((e) => (e as { nodeId: string }).nodeId === 'second') as { error: string };
      assert.equal(second.error, 'budget exceeded: 140 tokens used of 100 (the budget of the melody that started this one)');
      assert.deepEqual(r.tokens, { input: 140, output: 0 }, 'the parent shows what its child spent');
    });

    it('waits at least as long as a failure asked (a 429’s Retry-After) before retrying', async () => {
      const delays: number[] = [];
      const rig = new EngineRig({ sleep: async (ms) => void delays.push(ms) });
      let n = 0;
      rig.auto.set('ask', () => (++n === 1 ? Promise.reject(new NodeError('429 rate limited', { retryable: true, retryAfterMs: 7000 })) : { output: 'ok' }));
      const r = await rig.run('name: ra\nnodes:\n  ask: { uses: transform, retry: { max: 2, delay: 10ms }, with: { value: 1 } }\n');
      assert.equal(r.state, 'success');
      assert.deepEqual(delays, [7000]);
    });
  });

  describe('cancellation', () => {
    it('aborts running nodes, cancels the rest, and ends the run cancelled', async () => {
      const rig = new EngineRig();
      const controller = new AbortController();
      const done = rig.run(yaml`
        name: cancel
        nodes:
          a: { uses: transform, with: { value: 1 } }
          b: { uses: transform, needs: [a], with: { value: 1 } }
      `, { signal: controller.signal });
      await rig.waitRunning('a');
      const signal = rig.running.get('a')!.ctx.signal;
      controller.abort();
      const r = await done;
      assert.ok(signal.aborted, 'the running node saw the abort');
      assert.deepEqual(statuses(r), { a: 'cancelled', b: 'cancelled' });
      assert.equal(r.state, 'cancelled');
    });
  });

  describe('durability', () => {
    it('journals every event in order and writes run.json and the audit log', async () => {
      const rig = new EngineRig();
      rig.auto.set('a', () => ({ output: { big: 'x'.repeat(20_000) } }));
      const r = await rig.run('name: d\nnodes:\n  a: { uses: transform, with: { value: 1 } }\n');
      const dir = join(rig.root, '.symphony', 'runs', r.runId);
      const lines = readFileSync(join(dir, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RunEvent);
      assert.deepEqual(lines.map((e) => e.type), ['run-started', 'node-started', 'node-finished', 'run-finished']);
      const finished = lines[2] as Extract<RunEvent, { type: 'node-finished' }>;
      assert.equal(finished.output, undefined, 'large outputs stay out of the journal');
      assert.match(finished.outputRef!, /^[0-9a-f]{64}$/);
      const blob = readFileSync(join(rig.root, '.symphony', 'artifacts', 'sha256', finished.outputRef!.slice(0, 2), finished.outputRef!), 'utf8');
      assert.equal(sha256(blob), finished.outputRef);
      const record = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
      assert.equal(record.state, 'success');
      const audit = readFileSync(join(rig.root, '.symphony', 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).action);
      assert.deepEqual(audit, ['run-started', 'node-finished', 'run-finished']);
    });

    it('redacts secrets (raw, base64, URL-encoded) from journal, artifacts and outputs', async () => {
      const secret = 'hunter2-s3cr3t/+';
      const rig = new EngineRig({ secrets: async (name) => (name === 'TOKEN' ? secret : undefined) });
      rig.auto.set('leak', (ctx, input) => {
        ctx.log('stdout', `token=${secret} b64=${Buffer.from(secret).toString('base64')} url=${encodeURIComponent(secret)}\n`);
        ctx.host.notify({ level: 'info', message: `deploying with ${secret}` });
        return { output: input };
      });
      const r = await rig.run('name: s\nnodes:\n  leak: { uses: transform, with: { value: "Bearer ${{ secrets.TOKEN }}" } }\n');
      assert.deepEqual(r.nodes.leak!.output, { value: 'Bearer ***' });
      const everything = [
        readFileSync(join(rig.root, '.symphony', 'runs', r.runId, 'journal.jsonl'), 'utf8'),
        readFileSync(join(rig.root, '.symphony', 'runs', r.runId, 'run.json'), 'utf8'),
        readFileSync(join(rig.root, '.symphony', 'audit.jsonl'), 'utf8'),
      ].join('\n');
      for (const form of [secret, Buffer.from(secret).toString('base64'), encodeURIComponent(secret)]) assert.ok(!everything.includes(form), `${form} leaked`);
      // The log may arrive in pieces (the stream redactor holds back what could start a secret).
      const log = rig.eventsOf('node-log', r.runId).map((e) => (e as { text: string }).text).join('');
      assert.equal(log, 'token=*** b64=*** url=***\n');
      assert.deepEqual(rig.notices, ['info: deploying with ***'], 'messages shown to a person are redacted too');
    });

    it('says which secret is missing', async () => {
      const rig = new EngineRig({ secrets: async () => undefined });
      const r = await rig.run('name: s\nnodes:\n  a: { uses: transform, with: { value: "${{ secrets.API_KEY }}" } }\n');
      assert.match(r.nodes.a!.error!, /^secret API_KEY is not set/);
    });

    it('resumes a run whose process died, without re-running completed nodes', async () => {
      const rig = new EngineRig();
      const m = rig.melody(yaml`
        name: resumable
        nodes:
          a: { uses: transform, with: { value: 1 } }
          b: { uses: transform, needs: [a], with: { value: "\${{ nodes.a.output }}" } }
          c: { uses: transform, needs: [b], with: { value: 1 } }
      `);
      // A journal as a killed process leaves it: a finished, b started, then nothing.
      const storage = new FileRunStorage(rig.root);
      const j = await storage.create('20260101-000000-dead01');
      const at = new Date().toISOString();
      const base = { runId: '20260101-000000-dead01', at };
      await j.append({ ...base, type: 'run-started', melody: 'resumable', file: 'test.melody.yaml', definitionHash: sha256(m.text), inputs: {}, trigger: { kind: 'manual' } });
      await j.append({ ...base, type: 'node-started', nodeId: 'a', attempt: 1, iteration: 0, provenance: 'p' });
      await j.append({ ...base, type: 'node-finished', nodeId: 'a', status: 'success', attempts: 1, iterations: 0, output: 'from-before', durationMs: 1 });
      await j.append({ ...base, type: 'node-started', nodeId: 'b', attempt: 1, iteration: 0, provenance: 'p' });
      await j.close();

      let bInput: unknown;
      rig.auto.set('b', (_c, input) => ((bInput = input), { output: 'b' }));
      rig.auto.set('c', () => ({ output: 'c' }));
      const r = await rig.engine.resume('20260101-000000-dead01');
      assert.equal(r.state, 'success');
      assert.deepEqual(rig.started, ['b#2', 'c#1'], 'a is not run again; b continues with its next attempt');
      assert.deepEqual(bInput, { value: 'from-before' });
      assert.equal(r.resumes, 1);
      await assert.rejects(rig.engine.resume('20260101-000000-dead01'), /already ended \(success\)/);
    });

    it('refuses to resume when the melody changed since the run started', async () => {
      const rig = new EngineRig();
      rig.melody('name: x\nnodes:\n  a: { uses: transform, with: { value: 1 } }\n');
      const storage = new FileRunStorage(rig.root);
      const j = await storage.create('20260101-000000-chg001');
      await j.append({ runId: '20260101-000000-chg001', at: new Date().toISOString(), type: 'run-started', melody: 'x', file: 'test.melody.yaml', definitionHash: 'old', inputs: {}, trigger: { kind: 'manual' } });
      await j.close();
      await assert.rejects(rig.engine.resume('20260101-000000-chg001'), /changed since run 20260101-000000-chg001 started/);
    });

    it('replays from a node with upstream outputs taken from the stored run', async () => {
      const rig = new EngineRig();
      let calls = 0;
      rig.auto.set('fetch', () => ({ output: { n: ++calls } }));
      const seen: unknown[] = [];
      rig.auto.set('use', (_c, input) => (seen.push(input), { output: 'used' }));
      const text = yaml`
        name: rp
        nodes:
          fetch: { uses: transform, with: { value: 1 } }
          use: { uses: transform, needs: [fetch], with: { value: "\${{ nodes.fetch.output.n }}" } }
      `;
      const first = await rig.run(text);
      const again = await rig.engine.replay(first.runId, 'use');
      assert.equal(again.state, 'success');
      assert.equal(calls, 1, 'fetch is not run again');
      assert.deepEqual(seen, [{ value: 1 }, { value: 1 }]);
      assert.deepEqual(again.replayOf, { runId: first.runId, from: 'use' });
      assert.equal(again.nodes.fetch!.reason, `taken from run ${first.runId}`);
    });
  });

  describe('concurrency groups', () => {
    const GROUPED = (cancel: boolean) => yaml`
      name: grouped
      inputs:
        target: { type: string, default: main }
      concurrency: { group: "deploy-\${{ inputs.target }}", cancel-in-progress: ${cancel} }
      nodes:
        work: { uses: transform, with: { value: "\${{ inputs.target }}" } }
    `;

    it('queues a run until the one in progress in its group has ended', async () => {
      const rig = new EngineRig();
      // Each attempt waits on a gate the test opens; gates name the run's target input.
      const gates: { target: string; open: () => void }[] = [];
      rig.auto.set('work', (_ctx, input) => new Promise((resolve) => gates.push({ target: (input as { value: string }).value, open: () => resolve({ output: 'done' }) })));
      const m = rig.melody(GROUPED(false));
      const first = rig.engine.run(m);
      await rig.until('the first run', () => gates.length === 1);
      const second = rig.engine.run(m);
      const other = rig.engine.run({ ...m, inputs: { target: 'staging' } });
      await rig.until('the other group to run', () => gates.length === 2);
      assert.deepEqual(gates.map((g) => g.target), ['main', 'staging'], 'a different group is not held up; the same group waits');
      gates[1]!.open();
      assert.equal((await other).state, 'success');
      gates[0]!.open();
      assert.equal((await first).state, 'success');
      await rig.until('the queued run to start', () => gates.length === 3);
      assert.equal(gates[2]!.target, 'main');
      gates[2]!.open();
      assert.equal((await second).state, 'success');
    });

    it('cancels the run in progress with cancel-in-progress', async () => {
      const rig = new EngineRig();
      const m = rig.melody(GROUPED(true));
      const first = rig.engine.run(m);
      await rig.waitRunning('work');
      const second = rig.engine.run(m);
      const r1 = await first;
      assert.equal(r1.state, 'cancelled');
      await rig.waitRunning('work');
      rig.finish('work');
      assert.equal((await second).state, 'success');
    });
  });

  describe('preview and debugging', () => {
    it('does not run pinned nodes: their given output flows downstream', async () => {
      const rig = new EngineRig();
      let seen: unknown;
      rig.auto.set('use', (_c, input) => ((seen = input), { output: 'used' }));
      const m = rig.melody(yaml`
        name: preview
        nodes:
          deploy: { uses: transform, with: { value: 1 } }
          use: { uses: transform, needs: [deploy], with: { value: "\${{ nodes.deploy.output.url }}" } }
      `);
      const r = await rig.engine.run({ ...m, pinned: { deploy: { url: 'https://staging.example' } } });
      assert.deepEqual(rig.started, ['use#1'], 'the pinned node never ran');
      assert.deepEqual(seen, { value: 'https://staging.example' });
      assert.equal(r.nodes.deploy!.reason, 'pinned: the output was given, the node did not run');
    });

    it('pauses at breakpoints and steps node by node', async () => {
      const rig = new EngineRig();
      for (const id of ['a', 'b', 'c']) rig.auto.set(id, () => ({ output: id }));
      const pauses: string[] = [];
      const debug = new Breakpoints(['b'], { onPause: (p) => pauses.push(p.nodeId) });
      const m = rig.melody('name: dbg\nnodes:\n  a: { uses: transform, with: { value: 1 } }\n  b: { uses: transform, needs: [a], with: { value: 1 } }\n  c: { uses: transform, needs: [b], with: { value: 1 } }\n');
      const done = rig.engine.run({ ...m, debug });
      await rig.until('the pause at b', () => debug.paused === 'b');
      assert.deepEqual(rig.started, ['a#1'], 'b waits at its breakpoint');
      debug.step();
      await rig.until('the pause at c', () => debug.paused === 'c');
      assert.deepEqual(rig.started, ['a#1', 'b#1'], 'stepping pauses before the next node');
      debug.continue();
      const r = await done;
      assert.equal(r.state, 'success');
      assert.deepEqual(pauses, ['b', 'c']);
    });

    it('cancels a run paused at a breakpoint', async () => {
      const rig = new EngineRig();
      const debug = new Breakpoints(['a']);
      const controller = new AbortController();
      const m = rig.melody('name: dbg\nnodes:\n  a: { uses: transform, with: { value: 1 } }\n');
      const done = rig.engine.run({ ...m, debug, signal: controller.signal });
      await rig.until('the pause', () => debug.paused === 'a');
      controller.abort();
      const r = await done;
      assert.equal(r.state, 'cancelled');
      assert.deepEqual(rig.started, []);
    });
  });

  describe('inputs', () => {
    it('coerces typed inputs and rejects unknown or missing ones before starting', async () => {
      const rig = new EngineRig();
      let seen: unknown;
      rig.auto.set('a', (_c, input) => ((seen = input), { output: 1 }));
      const text = yaml`
        name: inp
        inputs:
          n: { type: number, required: true }
          flag: { type: boolean, default: false }
        nodes:
          a: { uses: transform, with: { value: "\${{ inputs.n * 2 }} \${{ inputs.flag }}" } }
      `;
      await rig.run(text, { inputs: { n: '21', flag: 'true' } });
      assert.deepEqual(seen, { value: '42 true' });
      await assert.rejects(rig.run(text, { inputs: {} }), /needs input "n"/);
      await assert.rejects(rig.run(text, { inputs: { n: '1', colour: 'red' } }), /has no input "colour" \(its inputs: n, flag\)/);
      await assert.rejects(rig.run(text, { inputs: { n: 'many' } }), /input n must be a number, not "many"/);
    });
  });
});
