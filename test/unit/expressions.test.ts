import * as assert from 'node:assert/strict';
import * as fc from 'fast-check';
import { celEnvironment, fromCel, NO_FAILURE } from '../../src/core/expr/cel';
import { celVariables, evaluateCondition, evaluateExpression, ExpressionError, isCostly, renderValue } from '../../src/core/expr/evaluate';
import { expressionShape } from '../../src/core/expr/shape';
import { celSyntaxError } from '../../src/core/expr/template';
import { EvaluationStopped, ExpressionWorkers } from '../../src/core/expr/workers';

const shapeOf = (expression: string) => expressionShape(celEnvironment(() => NO_FAILURE).parse(expression).ast);

describe('expressions: bounded evaluation', () => {
  describe('the shape of an expression decides where it runs', () => {
    it('evaluates the usual conditions and templates here, at once', () => {
      for (const e of [
        "nodes.test.status == 'success'",
        'nodes.a.output.exitCode == 0 && inputs.force',
        "size(nodes.list.output) > 0 ? nodes.list.output[0] : ''",
        'toJson(nodes.a.output)',
        "nodes['my-node'].output.items.join(', ')",
        'has(nodes.a.output.x) || success()',
        "trigger.payload.ref.startsWith('refs/tags/')",
      ]) assert.equal(isCostly(e), false, e);
    });

    it('sends comprehensions, cel.bind, regular expressions and output that can outgrow its input to a worker', () => {
      for (const e of [
        "nodes.a.output.exists(x, x == 'b')",
        '[1, 2].map(x, x * 2)',
        "cel.bind(s, 'ab', s + s)",
        "inputs.s.matches('^a+$')",
        'toJson(toJson(inputs.x))',
        "inputs.s.split('').join(inputs.s)",
        'bytes(toJson(inputs.x)).base64()',
      ]) assert.equal(isCostly(e), true, e);
    });

    it('names the variables and the node ids an expression reads', () => {
      const s = shapeOf("nodes.a.output + nodes['b-c'].output + inputs.x");
      assert.deepEqual([...s.variables].sort(), ['inputs', 'nodes']);
      assert.deepEqual([...s.nodeIds!].sort(), ['a', 'b-c']);
      assert.equal(shapeOf('size(nodes) > 1').nodeIds, undefined, 'reads every node');
      assert.equal(shapeOf("nodes[inputs.which].output").nodeIds, undefined, 'a computed id reads every node');
    });

    it('counts how deep comprehensions nest and where the limit is passed', () => {
      assert.equal(shapeOf('a.map(x, x)').comprehensionNesting, 1);
      assert.equal(shapeOf('a.map(x, x).filter(y, y > 1).all(z, z > 0)').comprehensionNesting, 1, 'a chain is not nesting');
      const e = 'a.all(x, b.all(y, c.exists(z, z == x + y)))';
      const s = shapeOf(e);
      assert.equal(s.comprehensionNesting, 3);
      assert.equal(s.tooNestedAt, e.indexOf('c.exists'));
    });
  });

  describe('load-time limits', () => {
    it('accepts what people write and names each limit it refuses', () => {
      assert.equal(celSyntaxError("nodes.a.output.items.all(i, i.tags.exists(t, t == 'x'))"), undefined);
      const cases: [string, RegExp][] = [
        ['x + '.repeat(1100) + 'x', /^the expression is 4,401 characters long; an expression may be at most 4,096$/],
        [`${'('.repeat(40)}1${')'.repeat(40)}`, /^the expression nests deeper than 32 levels/],
        [Array.from({ length: 600 }, () => 'a').join(' + '), /^the expression has more than 1,000 parts/],
        [`[${Array.from({ length: 501 }, (_, i) => i).join(',')}]`, /^a list in the expression has more than 500 items; a list literal may have at most 500/],
        ['a.all(x, b.all(y, c.all(z, true)))', /^comprehensions are nested 3 deep here; an expression may nest at most 2/],
      ];
      for (const [e, message] of cases) {
        const problem = celSyntaxError(e);
        assert.ok(problem?.limit, `${e.slice(0, 40)}: ${problem?.message}`);
        assert.match(problem.message, message);
      }
      assert.equal(celSyntaxError('1 +')?.limit, undefined, 'a syntax error is not a limit');
    });

    it('says of a plain path (`nodes.a.output`) what the parser says, reserved words and long chains included (property)', () => {
      const parser = celEnvironment(() => NO_FAILURE);
      const parses = (e: string): boolean => {
        try {
          parser.parse(e);
          return true;
        } catch {
          return false;
        }
      };
      // Every word the CEL library keeps for itself, beside names people write.
      const word = fc.oneof(
        fc.constantFrom('nodes', 'inputs', 'output', 'build_1', '_x', 'loop', 'in', 'true', 'false', 'null', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'package', 'namespace', 'return', 'var', 'void', 'while', '__proto__', 'prototype', '1a', 'a-b', ''),
        fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/),
      );
      const root = fc.constantFrom('nodes', 'inputs');
      fc.assert(
        // Any words; words after the two names the shortcut takes; and chains of names long
        // enough to pass the parser's depth limit (32).
        fc.property(
          fc.oneof(
            fc.array(word, { minLength: 1, maxLength: 12 }),
            fc.tuple(root, fc.array(word, { maxLength: 10 })).map(([r, rest]) => [r, ...rest]),
            fc.tuple(root, fc.array(fc.stringMatching(/^[a-z][a-z0-9_]{0,4}$/), { maxLength: 40, size: 'max' })).map(([r, rest]) => [r, ...rest]),
          ),
          (words) => {
            const e = words.join('.');
            assert.equal(celSyntaxError(e) === undefined, parses(e), e);
          },
        ),
        { numRuns: 1500 },
      );
      assert.equal(celSyntaxError('nodes.build.output'), undefined);
      assert.match(celSyntaxError('nodes.in.output')?.message ?? '', /./, 'a reserved word is found by the parser');
    });
  });

  describe('evaluation on a worker', () => {
    const context = celVariables({ inputs: { s: 'x'.repeat(4000), list: [1, 2, 3] }, nodes: new Map([['a', { status: 'success', output: { constructor: 1, __proto__: 2 } }]]) });

    it('gives the same values as evaluating here (property)', async function () {
      this.timeout(60_000);
      const here = celEnvironment(() => NO_FAILURE);
      const atom = fc.constantFrom('x', 'x * 2', 'x + 1', "string(x) + 'a'", 'x > 1', '[x, x]', '{"k": x}');
      const expr = fc.tuple(fc.constantFrom('map', 'filter', 'exists', 'all'), atom, fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 6 })).map(([macro, body, list]) => {
        const predicate = macro === 'map' ? body : body.includes('>') ? body : `${body} == ${body}`;
        return `[${list.join(', ')}].${macro}(x, ${predicate})`;
      });
      await fc.assert(
        fc.asyncProperty(expr, async (e) => {
          assert.equal(isCostly(e), true);
          let expected: unknown;
          try {
            expected = fromCel(here.parse(e)(context));
          } catch {
            await assert.rejects(evaluateExpression(e, context), ExpressionError);
            return;
          }
          assert.deepEqual(await evaluateExpression(e, context), expected);
        }),
        { numRuns: 60 },
      );
    });

    it('sees keys named like Object.prototype’s members, and the status functions', async () => {
      assert.deepEqual(await evaluateExpression("[1].map(i, nodes.a.output)", context), [{ constructor: 1, __proto__: 2 }]);
      assert.equal(await evaluateCondition('[1].all(i, failure())', context, { success: false, failure: true, cancelled: false }), true);
    });

    it('stops at the deadline, and the next evaluation gets a fresh thread', async function () {
      this.timeout(20_000);
      const slow = "inputs.s.split('').all(a, inputs.s.split('').all(b, a == b))";
      const started = Date.now();
      await assert.rejects(evaluateExpression(slow, context, undefined, { timeLimitMs: 300 }), (e: ExpressionError) => e.stopped === 'deadline' && /took longer than 300ms/.test(e.message));
      assert.ok(Date.now() - started < 3000, `stopped after ${Date.now() - started} ms`);
      assert.deepEqual(await evaluateExpression('inputs.list.map(x, x * 2)', context), [2, 4, 6]);
    });

    it('stops when its signal aborts, before it begins or while it runs', async function () {
      this.timeout(20_000);
      const slow = "inputs.s.split('').all(a, inputs.s.split('').all(b, a == b))";
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      await assert.rejects(evaluateExpression(slow, context, undefined, { signal: controller.signal }), (e: ExpressionError) => e.stopped === 'aborted');
      await assert.rejects(evaluateExpression(slow, context, undefined, { signal: AbortSignal.abort() }), (e: ExpressionError) => e.stopped === 'aborted');
    });

    it('fails an expression that needs too much memory without taking the process down', async function () {
      this.timeout(60_000);
      // 16 million two-character strings: more than the worker's heap.
      const greedy = "inputs.s.split('').map(a, inputs.s.split('').map(b, a + b))";
      await assert.rejects(evaluateExpression(greedy, context, undefined, { timeLimitMs: 50_000 }), (e: ExpressionError) => e.stopped === 'memory' && /used more than 256 MB of memory/.test(e.message));
      assert.deepEqual(await evaluateExpression('[1].map(x, x)', context), [1]);
    });

    it('runs no more threads than its size and queues the rest', async function () {
      this.timeout(20_000);
      const pool = new ExpressionWorkers({ size: 1 });
      try {
        const slow = "inputs.s.split('').all(a, inputs.s.split('').all(b, a == b))";
        const first = pool.evaluate(slow, context, undefined, { timeLimitMs: 500 });
        const second = pool.evaluate('[1, 2].map(x, x)', context, undefined, { timeLimitMs: 5000 });
        await assert.rejects(first, (e: EvaluationStopped) => e.reason === 'deadline');
        assert.deepEqual(await second, [1, 2]);
      } finally {
        await pool.close();
      }
    });
  });

  it('reads keys named like Object.prototype’s members in payloads and outputs, and no inherited ones', async () => {
    const payload = JSON.parse('{"constructor": "c", "__proto__": {"toString": "t"}, "ref": "v1"}') as unknown;
    const context = celVariables({ trigger: { kind: 'webhook', payload } });
    assert.equal(await evaluateExpression('trigger.payload.constructor', context), 'c');
    assert.equal(await evaluateExpression("trigger.payload['__proto__'].toString", context), 't');
    assert.equal(await evaluateExpression('has(trigger.payload.hasOwnProperty)', context), false);
    assert.deepEqual(Object.keys((await evaluateExpression('trigger.payload', context)) as object), ['constructor', '__proto__', 'ref']);
  });

  it('renders `with:` values keeping every key, expressions bounded by the same signal', async () => {
    const value = await renderValue({ a: '${{ inputs.list.map(x, x + 1) }}', b: ['${{ size(inputs.list) }}'], ['__proto__']: 'kept' }, celVariables({ inputs: { list: [1, 2] } }));
    assert.deepEqual(Object.entries(value as object), [
      ['a', [2, 3]],
      ['b', [2]],
      ['__proto__', 'kept'],
    ]);
  });
});
