import * as assert from 'node:assert/strict';
import * as fc from 'fast-check';
import { fastYamlMap, hasMarker, isSuspect } from '../../src/core/load/fastYaml';
import { MAX_YAML_DEPTH } from '../../src/core/load/limits';
import { diagnosticsOf, loadMelody, loadParsedMelody, parseMelodyYaml } from '../../src/core/load/melody';
import { YamlSource } from '../../src/core/load/yamlSource';

/**
 * The loader reads most melodies with js-yaml (`fastYamlMap`) and builds the `yaml` Document
 * only for positions; anything that quick path may read differently goes the `yaml` way, as
 * all files did before. These tests hold the two ways to the same data and the same
 * diagnostics, at the same positions.
 */

const FILE = 'quick.melody.yaml';

/** Both ways, as far as they go: the parse, then every check of the melody. */
function bothWays(text: string) {
  const quick = parseMelodyYaml(text, FILE);
  const slow = parseMelodyYaml(text, FILE, { quick: false });
  const tookQuickPath = quick.ok && quick.value.source.data !== undefined;
  return {
    quick,
    slow,
    tookQuickPath,
    quickLoad: quick.ok ? loadParsedMelody(quick.value, {}) : quick,
    slowLoad: slow.ok ? loadParsedMelody(slow.value, {}) : slow,
  };
}

/** The two ways agree on everything a user sees. */
function assertSame(text: string): boolean {
  const r = bothWays(text);
  assert.equal(r.quick.ok, r.slow.ok, 'parsed one way and not the other');
  if (r.quick.ok && r.slow.ok) {
    assert.deepStrictEqual(r.quick.value.data, r.slow.value.data);
    assert.deepStrictEqual(r.quick.value.warnings, r.slow.value.warnings);
  }
  assert.deepStrictEqual(diagnosticsOf(r.quickLoad), diagnosticsOf(r.slowLoad));
  assert.equal(r.quickLoad.ok, r.slowLoad.ok);
  if (r.quickLoad.ok && r.slowLoad.ok) assert.deepStrictEqual(r.quickLoad.value.melody, r.slowLoad.value.melody);
  return r.tookQuickPath;
}

// Plain scalars whose type depends on the schema (YAML 1.2 core, as the `yaml` package reads
// it), quoted ones, expressions (right, wrong and unknown), and text that is barely YAML.
const TRICKY = [
  '0b101', '0o17', '0o8', '1_000', '.inf', '-.Inf', '+.INF', '.nan', '.NaN', '.NAN', '~', 'null', 'Null', 'NULL', 'nULL',
  'True', 'TRUE', 'true', 'tRUE', 'false', 'False', 'FALSE', 'yes', 'no', 'on', 'off', 'y', '0x1F', '0x1f', '0X1F', '0xg', '+1', '-1', '-0', '+0',
  '1e3', '1E-3', '+.5e+2', '.5', '-.5', '1.', '1.50', '012', '09', '0.0', '1e', '12:30', '2001-12-14', '123456789012345678901234', '"x"', "'y'", '""',
  "''", '"a\\tb\\u00e9\\n"', "'it''s'", '${{ nodes.a.output }}', '${{ inputs.who }}', '${{ nodes.zz.output }}', '${{ 1 + }}', '${{ nodes.a.output',
  'nodes.a.status == "success"', 'a b', 'a:b', 'x #comment', '-', '- x', '[]', '{}', '[1, 2]', '{a: 1}', '[a, [b, {c: ~}]]', '{a: [1, .5], b: True}',
  'é', '"\\x41"', 'a\tb', '@x', '`x`', '|', '>', ':', 'a: b', '[a', 'x]', '"unterminated', '0o', '._', '+', '.', 'echo',
];
const scalar = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...TRICKY) },
  { weight: 1, arbitrary: fc.string().map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
  { weight: 1, arbitrary: fc.double().map(String) },
  { weight: 1, arbitrary: fc.integer().map(String) },
);
const KEYS = ['a', 'b', 'c', 'uses', 'with', 'needs', 'value', 'command', '1', 'true', '~', 'null', '.inf', '0x1F', '"q"', "'1'", 'x y', 'é', '-x', '"${{ nodes.a.output }}"'];
const key = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: fc.string({ maxLength: 5 }) });

/** A YAML value as text to put at some indentation, in block or flow style. */
type Tree = { scalar: string } | { map: [string, Tree][]; flow: boolean; lines: boolean } | { seq: Tree[]; flow: boolean; lines: boolean };
const tree: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ scalar }),
    fc.record({ map: fc.array(fc.tuple(key, tie('tree')), { maxLength: 4 }), flow: fc.boolean(), lines: fc.boolean() }),
    fc.record({ seq: fc.array(tie('tree'), { maxLength: 4 }), flow: fc.boolean(), lines: fc.boolean() }),
  ),
})).tree;

function flow(t: Tree, indent: string): string {
  if ('scalar' in t) return t.scalar;
  const sep = t.lines ? `,\n${indent}  ` : ', ';
  if ('map' in t) return `{${t.map.map(([k, v]) => `${k}: ${flow(v, indent + '  ')}`).join(sep)}}`;
  return `[${t.seq.map((v) => flow(v, indent + '  ')).join(sep)}]`;
}

/** `key:` and the value, on its line or the lines below. */
function entry(prefix: string, t: Tree, indent: string): string {
  if ('scalar' in t || t.flow || ('map' in t ? t.map.length === 0 : t.seq.length === 0)) return `${prefix} ${flow(t, indent)}\n`;
  return `${prefix}\n${block(t, indent + '  ')}`;
}

function block(t: Tree, indent: string): string {
  if ('scalar' in t || t.flow) return `${indent}${flow(t, indent)}\n`;
  if ('map' in t) return t.map.map(([k, v]) => entry(`${indent}${k}:`, v, indent)).join('');
  return t.seq.map((v) => entry(`${indent}-`, v, indent)).join('');
}

const node = fc.record(
  {
    uses: fc.oneof(fc.constantFrom('transform', 'shell', 'notify', 'nope'), scalar),
    needs: fc.oneof(fc.constantFrom('a', 'b', '[a]', '[a, b]', '[zz]', '[]'), scalar),
    if: fc.oneof(fc.constantFrom('${{ nodes.a.status == "success" }}', 'nodes.b.output', '${{ 1 + }}', 'nodes.zz.output'), scalar),
    with: tree,
    env: tree,
    retry: tree,
  },
  { requiredKeys: ['uses'] },
);

const melodyText = fc
  .record({
    name: scalar,
    nodes: fc.array(fc.tuple(fc.oneof(fc.constantFrom('a', 'b', 'c'), key), node), { maxLength: 4 }),
    extra: fc.array(fc.tuple(key, tree), { maxLength: 2 }),
    crlf: fc.boolean(),
    comment: fc.boolean(),
  })
  .map(({ name, nodes, extra, crlf, comment }) => {
    let text = `${comment ? '# a melody\n' : ''}name: ${name}\nnodes:\n`;
    for (const [id, spec] of nodes) {
      text += `  ${id}:\n`;
      for (const [k, v] of Object.entries(spec)) text += typeof v === 'string' ? `    ${k}: ${v}\n` : entry(`    ${k}:`, v, '    ');
    }
    for (const [k, v] of extra) text += entry(`${k}:`, v, '');
    return crlf ? text.replace(/\n/g, '\r\n') : text;
  });

describe('the loader reads plain melodies quickly, and the same as the yaml package does', function () {
  this.timeout(600_000); // LOADER_PROPERTY_RUNS may ask for many more runs
  it('property: the quick path and the yaml path give equal data, melodies and diagnostics', () => {
    let quick = 0;
    let runs = 0;
    fc.assert(
      fc.property(melodyText, (text) => {
        runs++;
        if (assertSame(text)) quick++;
      }),
      { numRuns: Number(process.env.LOADER_PROPERTY_RUNS ?? 600) },
    );
    // Not vacuous: a good share of these melodies did take the quick path. Over 30 seeds of
    // 600 runs, 57–89 did (mean 71): a tenth failed one seed in fifteen; a twentieth is
    // about five standard deviations below the mean.
    assert.ok(quick > runs / 20, `only ${quick} of ${runs} melodies took the quick path`);
  });

  it('property: arbitrary lines of YAML-ish text give the same either way', () => {
    const piece = fc.constantFrom(
      'a:', 'b:', ' ', '  ', '\t', '\n', '- ', '[', ']', '{', '}', ', ', ': ', '#c', '"', "'", 'x', '1', '~', 'True', '.inf', '|', '>', '\\', '---', '...', '${{', '}}', 'nodes', 'name: m',
      '-', '?', '&a ', '*a', '!t ', '%', '<<: ', '"x"', "'y'", '\r\n', '0x1F', '~', 'null: ', '1: ', '- - ', '\n  ', '\n    ', ':', '#', '""', '\\t', '{}', '[]', '&', '*', '!', '.', '0', '-1', '? ', 'é', '\r', '\u0085', '\u2028', '\uFEFF', ' # c\n',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => void assertSame(pieces.join(''))),
      { numRuns: Number(process.env.LOADER_PROPERTY_RUNS ?? 3000) },
    );
  });

  it('property: the gates, tried in parts, decide as the regular expressions written in one piece', () => {
    // The quick path's two gates as first written, one alternation each; fastYaml.ts tries
    // their alternatives in parts, and only where the text has a character they need.
    const SUSPECT = /(?:^|[:?,[{-])[ \t]*[&*!?]|^%|<<|__proto__|[\]}"']#/m;
    const MARKER = /^(?:---|\.\.\.)|^ *\t|^ *-[ \t]+-(?:[ \t\r]|$)|^ *-[ \t]*(?:#.*)?\r?$|\r(?!\n)|\uFEFF/m;
    const piece = fc.constantFrom(
      'a', 'b: ', ' ', '  ', '\t', '\n', '\r', '\r\n', '\u2028', '\u2029', '\u0085', '\uFEFF', '-', '- ', '--', '---', '...', '.', '#', '#c', '%', '<', '<<', '_', '__proto__', '__proto',
      ':', '?', ',', '[', ']', '{', '}', '"', "'", '&', '*', '!', '&a', '*a', '!t', '${{', '}}', 'x != y', '*.ts',
    );
    fc.assert(
      fc.property(fc.oneof(fc.array(piece, { maxLength: 30 }).map((p) => p.join('')), fc.string({ unit: 'binary', maxLength: 60 })), (text) => {
        assert.equal(isSuspect(text), SUSPECT.test(text), JSON.stringify(text));
        assert.equal(hasMarker(text), MARKER.test(text), JSON.stringify(text));
      }),
      { numRuns: Number(process.env.LOADER_PROPERTY_RUNS ?? 3000) * 3 },
    );
  });

  it('resolves each tricky scalar, as a value and as a key, as the yaml package does', () => {
    for (const s of TRICKY) {
      assertSame(`name: m\nnodes:\n  a: { uses: transform, with: { value: ${s} } }\n  b:\n    uses: transform\n    with:\n      value: ${s}\n`);
      assertSame(`name: m\nnodes:\n  a:\n    uses: transform\n    with:\n      ${s}: 1\n`);
      assertSame(`name: m\nnodes:\n  a: { uses: transform, with: { ${s}: [${s}] } }\n`);
    }
    // These do take the quick path, to values of the core schema.
    assert.deepStrictEqual(
      fastYamlMap('a: [0b101, 0o17, 1_000, .inf, ~, True, 0x1F, +1, 1e3, .5, -.INF, .NaN, 012, -0, "1"]'),
      { a: ['0b101', 15, '1_000', Infinity, null, true, 31, 1, 1000, 0.5, -Infinity, NaN, 12, -0, '1'] },
    );
  });

  it('nests to the limit on the quick path, and one level more goes the yaml way and is refused there', () => {
    const nested = (depth: number) => `name: m\nnodes:\n  a: { uses: transform, with: { v: ${'['.repeat(depth - 4)}1${']'.repeat(depth - 4)} } }\n`;
    // `name:`'s map, `nodes`, `a`, `with`: four levels before the lists.
    assert.ok(new YamlSource(FILE, nested(MAX_YAML_DEPTH), 'a melody', { data: true }).data);
    assert.equal(new YamlSource(FILE, nested(MAX_YAML_DEPTH + 1), 'a melody', { data: true }).data, undefined);
    assertSame(nested(MAX_YAML_DEPTH));
    assertSame(nested(MAX_YAML_DEPTH + 1));
    const r = loadMelody(nested(MAX_YAML_DEPTH + 1), FILE);
    assert.ok(!r.ok);
    assert.equal(r.error[0]!.code, 'limit');
    assert.match(r.error[0]!.message, /nests deeper than 64 levels/);
    // Far deeper: js-yaml stops early, and the yaml way says where.
    assertSame(nested(5000));
  });

  describe('goes the yaml way for what it may read differently, with the positions of before', () => {
    const cases: [string, string, string][] = [
      ['an anchor and an alias', 'name: m\nnodes:\n  a: &n { uses: transform }\n  b: *n\n', ''],
      ['a tag', 'name: m\nnodes:\n  a: { uses: !!str transform, with: { value: !custom 1 } }\n', '3:46 yaml-warning'],
      ['a directive', '%YAML 1.2\n---\nname: m\nnodes:\n  a: { uses: transform }\n', ''],
      ['a merge key', 'name: m\nbase: &b { uses: transform }\nnodes:\n  a:\n    <<: *b\n', ''],
      ['a duplicate key', 'name: m\nnodes:\n  a: { uses: transform }\n  a: { uses: notify }\n', '4:3 yaml-syntax'],
      ['a syntax error', 'name: m\nnodes:\n  a: { uses: transform\n', '4:1 yaml-syntax'],
      ['a flow collection over lines', 'name: m\nnodes:\n  a: { uses: transform, with: { value: [1,\n  2\n  ] } }\n', '4:3 yaml-syntax'],
      ['a flow collection over lines that the yaml package refuses', 'name: m\nnodes: [1,\n2\n]\n', '3:1 yaml-syntax'],
      ['a document marker', 'name: m\nnodes:\n  a: { uses: transform }\n---a: 1\n', ''],
      ['a comment right after a bracket', 'name: m\nnodes:\n  a: {}#: 0}\n', ''],
      ['a tab in the indentation', 'name: m\nnodes:\n\ta: { uses: transform }\n', ''],
      ['a list in a list on one line', 'name: m\nnodes:\n  a:\n    uses: transform\n    with:\n      - -\n      - 0\n', ''],
      ['a long line', `name: m\nnodes:\n  a: { uses: transform, with: { value: ${'x'.repeat(1000)} } }\n`, ''],
      ['a long last line', `name: m\nnodes:\n  a: { uses: transform, with: { value: ${'x'.repeat(1000)} } }`, ''],
      ['an empty list item', 'name: m\nnodes:\n  a:\n    uses: transform\n    retry:\n      -\n        - \n      - ""\n', ''],
      ['a document end', 'name: m\nnodes:\n  a: { uses: transform }\n...\n', ''],
      ['a number as a key', 'name: m\nnodes:\n  1: { uses: transform }\n', ''],
      ['a null key', 'name: m\nnodes:\n  a: { uses: transform, with: { ~: 1 } }\n', ''],
      ['a list as a key', 'name: m\nnodes:\n  a: { uses: transform, with: { [x]: 1 } }\n', ''],
      ['an explicit key', 'name: m\nnodes:\n  ? a\n  : { uses: transform }\n', ''],
      ['a __proto__ key', 'name: m\nnodes:\n  __proto__: { uses: transform }\n', ''],
      ['two documents', 'name: m\nnodes:\n  a: { uses: transform }\n---\nname: n\n', '4:1 yaml-syntax'],
      ['a top level that is not a map', '- a\n- b\n', '1:1 schema'],
      ['an empty file', '# nothing\n', '1:1 empty'],
    ];
    for (const [what, text, first] of cases) {
      it(what, () => {
        assert.equal(fastYamlMap(text), undefined, 'took the quick path');
        assertSame(text);
        const d = diagnosticsOf(loadMelody(text, FILE))[0];
        if (first) assert.equal(d && `${d.range.start.line}:${d.range.start.column} ${d.code}`, first);
      });
    }
  });

  it('takes the quick path for comments, a leading `---` and operators inside scalars', () => {
    const text = [
      '---',
      '# a melody',
      'name: m # its name',
      'nodes: # the nodes',
      '  a:',
      '    uses: shell',
      '    if: nodes.b.status != "failed" && inputs.n * 2 > 3',
      '    with: # what it runs',
      '      command: echo',
      '      args: [--glob, "*.ts", a?b]',
      '  b: { uses: transform, with: { value: "${{ 1 + 2 }}" } }',
      '',
    ].join('\n');
    assert.ok(fastYamlMap(text));
    assertSame(text);
  });

  it('a melody read quickly still has exact positions for its warnings and errors', () => {
    const text = 'name: m\non-failure: { compensate: undo }\nnodes:\n  a: { uses: transform, with: { value: "${{ nodes.zz.output }}" } }\n  undo:\n    uses: transform\n    needs: [a]\n';
    assert.ok(fastYamlMap(text));
    assertSame(text);
    const ds = diagnosticsOf(loadMelody(text, FILE)).map((d) => `${d.range.start.line}:${d.range.start.column} ${d.severity} ${d.code}`);
    assert.deepEqual(ds, ['4:45 error unknown-node-ref', '5:3 error schema', '7:5 warning compensate']);
  });
});
