import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as fc from 'fast-check';
import { stringify } from 'yaml';
import { diagnosticsOf, loadMelody } from '../../src/core/load/melody';
import { cli, REPO, tempDir } from './helpers';

/**
 * Issue 9, points 8–10, tried as an attacker would: expressions that never end, node ids
 * that are Object.prototype's names, and melodies built to exhaust the loader. Each test
 * reproduces an attack and shows it fails. One `describe` per numbered point of the issue.
 */

interface RunJson {
  runId: string;
  status: string;
  nodes: Record<string, { status: string; error?: string; output?: unknown; reason?: string }>;
}

/** A workspace with the given files; returns its root. */
function workspace(files: Record<string, string | Buffer>): string {
  const root = tempDir('symphony-limits-');
  writeFileSync(join(root, 'sheetMusic.md'), '# limits\n');
  for (const [path, text] of Object.entries(files)) writeFileSync(join(root, path), text);
  return root;
}

/** `symphony run --json` in-process; `interrupt` presses Ctrl+C after that many ms. */
async function run(root: string, melody: string, opts: { inputs?: Record<string, string>; interruptAfterMs?: number } = {}): Promise<RunJson & { ms: number }> {
  const args = ['run', melody, '--json', ...Object.entries(opts.inputs ?? {}).flatMap(([k, v]) => ['--input', `${k}=${v}`])];
  const started = Date.now();
  const r = await cli(root, args, {
    env: { PATH: process.env.PATH },
    onInterrupt: (handler) => {
      const timer = opts.interruptAfterMs !== undefined ? setTimeout(handler, opts.interruptAfterMs) : undefined;
      return () => clearTimeout(timer);
    },
  });
  assert.ok(r.stdout.trim().startsWith('{'), `symphony run printed no JSON:\n${r.stdout}\n${r.stderr}`);
  return { ...(JSON.parse(r.stdout) as RunJson), ms: Date.now() - started };
}

/** The longest the event loop went without a turn while `work` ran, in ms. */
async function longestStall<T>(work: () => Promise<T>): Promise<{ value: T; stallMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 10);
  try {
    const value = await work();
    return { value, stallMs };
  } finally {
    clearInterval(timer);
  }
}

/** Five `all()` nested over 30 numbers: 24 million steps from 600 bytes of CEL. */
const PIN = (() => {
  const list = `[${Array.from({ length: 30 }, (_, i) => i).join(',')}]`;
  const vars = ['a', 'b', 'c', 'd', 'e'];
  let body = `${vars.join(' + ')} >= 0`;
  for (const v of [...vars].reverse()) body = `${list}.all(${v}, ${body})`;
  return body;
})();

/** Quadratic in `inputs.s`: passes every load-time limit, takes as long as the data says. */
const SLOW = "inputs.s.split('').all(a, inputs.s.split('').all(b, a == b))";
/** 20 000 characters: about 30 s of evaluation when nothing stops it. */
const LONG_INPUT = 'x'.repeat(20_000);

describe('hardening: limits on what a melody can make Symphony do', () => {
  describe('9. node ids and input names that are Object.prototype’s names are ordinary names', () => {
    const PROTO_NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', 'isPrototypeOf', 'propertyIsEnumerable', '__defineGetter__'];

    it('runs nodes named constructor, toString, valueOf, hasOwnProperty and __proto__, each reported once', async () => {
      const root = workspace({
        'proto.melody.yaml': [
          'name: proto',
          'inputs: { constructor: { type: string, default: c }, __proto__: { type: string, default: p } }',
          'nodes:',
          "  constructor: { uses: transform, with: { value: \"${{ inputs['constructor'] }}\" } }",
          "  __proto__: { uses: transform, with: { value: \"${{ inputs['__proto__'] }}\" } }",
          "  toString: { uses: transform, needs: [constructor, __proto__], with: { value: \"${{ nodes.constructor.output + nodes['__proto__'].output }}\" } }",
          '  valueOf: { uses: transform, needs: toString, if: "nodes.toString.output == \'cp\'", with: { value: { __proto__: 1, constructor: 2 } } }',
          '  hasOwnProperty: { uses: transform, needs: [valueOf], with: { value: "${{ nodes.valueOf.output }}" } }',
          '',
        ].join('\n'),
      });
      const validated = await cli(root, ['validate', 'proto.melody.yaml']);
      assert.equal(validated.code, 0, validated.stdout + validated.stderr);
      const r = await run(root, 'proto.melody.yaml');
      assert.equal(r.status, 'success', JSON.stringify(r.nodes));
      assert.deepEqual(Object.keys(r.nodes).sort(), ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'valueOf']);
      const node = (id: string) => r.nodes[id]!;
      assert.equal(node('constructor').output, 'c');
      assert.equal(node('__proto__').output, 'p');
      assert.equal(node('toString').output, 'cp');
      assert.deepEqual(Object.entries(node('hasOwnProperty').output as object), [['__proto__', 1], ['constructor', 2]]);
      const record = JSON.parse(readFileSync(join(root, '.symphony', 'runs', r.runId, 'run.json'), 'utf8')) as { nodes: Record<string, { state: string }> };
      assert.deepEqual(Object.keys(record.nodes).sort(), Object.keys(r.nodes).sort());
      // Replaying from a node named like a prototype member finds it.
      const again = await cli(root, ['replay', r.runId, '--from', 'toString', '--json']);
      assert.equal(again.code, 0, again.stderr);
      const replayed = (JSON.parse(again.stdout) as RunJson).nodes;
      assert.equal(replayed['toString' as string]!.output, 'cp');
    });

    it('property: melodies of such node ids and input names load, run, and report each node exactly once', async function () {
      this.timeout(120_000);
      const names = fc.constantFrom(...PROTO_NAMES, 'a', 'b', 'node-1');
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(names, { minLength: 1, maxLength: 6 }), fc.uniqueArray(names, { maxLength: 3 }), async (ids, inputNames) => {
          // Each node outputs its index (or a map keyed by the names), an earlier node's output, or an input.
          const expected = new Map<string, unknown>();
          const nodes: [string, Record<string, unknown>][] = ids.map((id, i) => {
            const earlier = i > 0 ? ids[i - 1]! : undefined;
            const input = inputNames[i % Math.max(1, inputNames.length)];
            if (earlier && i % 2 === 1) {
              expected.set(id, expected.get(earlier));
              return [id, { uses: 'transform', needs: [earlier], with: { value: `\${{ nodes['${earlier}'].output }}` } }];
            }
            if (input !== undefined && i % 3 === 2) {
              expected.set(id, `in-${input}`);
              return [id, { uses: 'transform', with: { value: `\${{ inputs['${input}'] }}` } }];
            }
            // An output whose keys are the same names: it must come back key for key.
            const value = i % 2 === 0 && inputNames.length ? entries(inputNames.map((n) => [n, i])) : i;
            expected.set(id, value);
            return [id, { uses: 'transform', with: { value } }];
          });
          const doc = { name: 'prop', inputs: entries(inputNames.map((n) => [n, { type: 'string', default: `in-${n}` }])), nodes: entries(nodes) };
          const root = workspace({ 'prop.melody.yaml': stringify(doc) });
          const r = await run(root, 'prop.melody.yaml');
          assert.equal(r.status, 'success', JSON.stringify(r.nodes));
          assert.deepEqual(Object.keys(r.nodes).sort(), [...ids].sort());
          for (const id of ids) assert.deepEqual(r.nodes[id]!.output, expected.get(id), id);
          const record = JSON.parse(readFileSync(join(root, '.symphony', 'runs', r.runId, 'run.json'), 'utf8')) as { nodes: Record<string, { state: string }> };
          assert.deepEqual(Object.keys(record.nodes).sort(), [...ids].sort());
          assert.ok(Object.values(record.nodes).every((n) => n.state === 'success'));
        }),
        { numRuns: 25 },
      );
    });
  });

  describe('10. the loader has limits, says them, and is linear in the size of a melody', () => {
    /** `n` transform nodes in a chain, each reading its predecessor's output. */
    function chain(n: number): string {
      const lines = ['name: big', 'nodes:'];
      for (let i = 0; i < n; i++) {
        lines.push(`  n${i}:`, '    uses: transform');
        if (i) lines.push(`    needs: [n${i - 1}]`, `    with: { value: "\${{ nodes.n${i - 1}.output }}" }`);
        else lines.push('    with: { value: 0 }');
      }
      return lines.join('\n') + '\n';
    }

    it('refuses a melody over 5 MB before parsing it, saying its size', () => {
      const text = `name: huge\nnodes:\n  a: { uses: transform, with: { value: "${'x'.repeat(6 * 1024 * 1024)}" } }\n`;
      const started = performance.now();
      const ds = diagnosticsOf(loadMelody(text, 'huge.melody.yaml'));
      assert.ok(performance.now() - started < 500, `took ${(performance.now() - started).toFixed(0)} ms`);
      assert.deepEqual(
        ds.map((d) => `${d.range.start.line}:${d.range.start.column} ${d.message}`),
        ['1:1 huge.melody.yaml is 6.0 MB; a melody may be at most 5 MB'],
      );
    });

    it('refuses nesting deeper than 64 levels at once, at the line where it goes too deep', () => {
      for (const [what, text, line] of [
        ['flow', `name: deep\nnodes:\n  a: { uses: transform, with: { value: ${'['.repeat(100_000)}1${']'.repeat(100_000)} } }\n`, 3],
        ['block sequences', `name: deep\nnodes: {}\nx:\n${'- '.repeat(100_000)}1\n`, 4],
        ['block maps', `name: deep\nnodes: {}\n${Array.from({ length: 100 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')} 1\n`, 67],
      ] as const) {
        const started = performance.now();
        const ds = diagnosticsOf(loadMelody(text, 'deep.melody.yaml'));
        assert.ok(performance.now() - started < 500, `${what}: took ${(performance.now() - started).toFixed(0)} ms`);
        assert.equal(ds.length, 1, `${what}: ${ds.map((d) => d.message).join('\n')}`);
        assert.equal(ds[0]!.range.start.line, line, what);
        assert.match(ds[0]!.message, /^the YAML nests deeper than 64 levels here; a melody may nest at most 64/, what);
      }
    });

    it('refuses more than 20,000 nodes, saying how many there are', () => {
      const text = `name: many\nnodes:\n${Array.from({ length: 20_001 }, (_, i) => `  n${i}: { uses: transform }\n`).join('')}`;
      const ds = diagnosticsOf(loadMelody(text, 'many.melody.yaml'));
      assert.deepEqual(
        ds.map((d) => `${d.range.start.line}:${d.range.start.column} ${d.message}`),
        ['2:1 the melody has 20,001 nodes; a melody may have at most 20,000'],
      );
    });

    it('reports invalid UTF-8 and NUL characters at their line instead of reading on', async () => {
      const root = workspace({
        'latin1.melody.yaml': Buffer.concat([Buffer.from('name: latin\nnodes:\n  a: { uses: transform, with: { value: "caf'), Buffer.from([0xe9]), Buffer.from('" } }\n')]),
        'nul.melody.yaml': 'name: nul\nnodes:\n  a: { uses: transform, with: { value: "a\0b" } }\n',
      });
      const r = await cli(root, ['validate', '.']);
      assert.equal(r.code, 1);
      const out = r.stdout + r.stderr;
      assert.match(out, /latin1\.melody\.yaml:3:44: the file is not valid UTF-8 \(byte 0xE9\); save it as UTF-8/);
      assert.match(out, /nul\.melody\.yaml:3:42: the file contains a NUL character \(U\+0000\), which YAML does not allow/);
      const run1 = await cli(root, ['run', 'latin1.melody.yaml']);
      assert.equal(run1.code, 1);
      assert.match(run1.stderr, /latin1\.melody\.yaml:3:44: the file is not valid UTF-8/);
    });

    it('loads in time linear in the number of nodes (bench/loader.bench.ts has the figures)', function () {
      this.timeout(90_000);
      // CPU time, the least of three: this machine is shared, and only the ratio matters.
      const time = (n: number) => {
        const text = chain(n);
        let best = Infinity;
        for (let i = 0; i < 3; i++) {
          const before = process.cpuUsage();
          const r = loadMelody(text, 'big.melody.yaml');
          const used = process.cpuUsage(before);
          assert.ok(r.ok, diagnosticsOf(r).slice(0, 3).map((d) => d.message).join('\n'));
          best = Math.min(best, (used.user + used.system) / 1000);
        }
        return best;
      };
      time(1000); // warm up
      const small = time(4000);
      const large = time(16_000);
      // Linear is 4×; the quadratic loader this replaces took 16× and more.
      assert.ok(large / small < 7, `16,000 nodes took ${(large / small).toFixed(1)}× as long as 4,000 (${large.toFixed(0)} vs ${small.toFixed(0)} ms)`);
    });
  });
});

/** An object with exactly these own keys — `__proto__` included, as YAML would have it. */
function entries(pairs: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  return Object.fromEntries(pairs);
}
