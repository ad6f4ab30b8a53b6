import * as assert from 'node:assert/strict';
import * as fc from 'fast-check';
import { stringify } from 'yaml';
import { loadEnsembleText, loadInstrumentText } from '../../src/core/load/ensembles';
import { diagnosticsOf, loadMelody } from '../../src/core/load/melody';
import { findCycles } from '../../src/core/engine/graph';
import type { Diagnostic } from '../../src/core/model/diagnostic';
import { needsOf } from '../../src/core/model/melody';

/** Every diagnostic is well formed: a position inside the text and a non-empty message. */
function assertWellFormed(ds: readonly Diagnostic[], text: string): void {
  const lines = text.split(/\r\n|\r|\n/).length;
  for (const d of ds) {
    assert.ok(d.message.length > 0, 'empty message');
    assert.ok(d.range.start.line >= 1 && d.range.start.line <= lines + 1, `line ${d.range.start.line} outside 1..${lines + 1}`);
    assert.ok(d.range.start.column >= 1, `column ${d.range.start.column}`);
  }
}

const melodyLike = fc.record(
  {
    name: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
    triggers: fc.array(fc.record({ on: fc.constantFrom('save', 'schedule', 'melody', 'x'), cron: fc.string(), melody: fc.string() }, { requiredKeys: ['on'] })),
    inputs: fc.dictionary(fc.string(), fc.record({ type: fc.constantFrom('string', 'number', 'bogus') })),
    nodes: fc.dictionary(
      fc.oneof(fc.constantFrom('a', 'b', 'c', 'd'), fc.string()),
      fc.record(
        {
          uses: fc.oneof(fc.constantFrom('shell', 'transform', 'notify', 'instrument', 'melody'), fc.string()),
          needs: fc.oneof(fc.constantFrom('a', 'b', 'c', 'd'), fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'zz'))),
          if: fc.oneof(fc.string(), fc.constantFrom('${{ nodes.a.status == "success" }}', 'nodes.b.output', '${{ 1 + }}')),
          with: fc.oneof(fc.dictionary(fc.string(), fc.anything()), fc.record({ command: fc.string(), message: fc.string(), value: fc.string() })),
          instrument: fc.string(),
          retry: fc.anything(),
        },
        { requiredKeys: ['uses'] },
      ),
    ),
    'on-failure': fc.record({ compensate: fc.constantFrom('a', 'b', 'nope') }),
  },
  { requiredKeys: [] },
);

describe('loaders never throw (property tests)', function () {
  // Thousands of generated documents: seconds on a quiet machine, several times that on a
  // loaded CI machine, and the documents (random each run) vary in size.
  this.timeout(180_000);

  it('on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        const ds = diagnosticsOf(loadMelody(text, 'f.melody.yaml', { instruments: new Set(['a/b']) }));
        assertWellFormed(ds, text);
        loadInstrumentText(text, 'i.yaml');
        loadEnsembleText(text, 'e.yaml');
      }),
      { numRuns: 2000 },
    );
  });

  it('on text built from YAML punctuation', () => {
    const token = fc.constantFrom('a', ':', ' ', '\n', '  ', '- ', '{', '}', '[', ']', ',', '"', "'", '#', '&x', '*x', '!!str', '|', '>', '${{', '}}', 'nodes', 'needs', 'uses');
    fc.assert(
      fc.property(fc.array(token, { maxLength: 80 }), (tokens) => {
        const text = tokens.join('');
        assertWellFormed(diagnosticsOf(loadMelody(text, 'f.melody.yaml')), text);
      }),
      { numRuns: 3000 },
    );
  });

  it('on arbitrary YAML values', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const text = stringify(value) ?? '';
        assertWellFormed(diagnosticsOf(loadMelody(text, 'f.melody.yaml')), text);
        loadInstrumentText(text, 'i.yaml');
      }),
      { numRuns: 1000 },
    );
  });

  it('on melody-shaped documents, returning either a melody or at least one error', () => {
    fc.assert(
      fc.property(melodyLike, (doc) => {
        const text = stringify(doc);
        const r = loadMelody(text, 'f.melody.yaml', { instruments: new Set(['x/y']) });
        if (!r.ok) assert.ok(r.error.some((d) => d.severity === 'error'), 'a failed load carries an error');
        assertWellFormed(diagnosticsOf(r), text);
      }),
      { numRuns: 1500 },
    );
  });

  it('finds the same expression problems, at the same places, whether it walks the data or the YAML document', () => {
    // The expression check walks the data when it mirrors the document, and the document
    // otherwise: a key that is not a string (the `1:` appended here, after everything else)
    // makes it walk the document. Both must report the same problems at the same positions.
    const expression = fc.constantFrom('${{ nodes.a.output }}', '${{ nodes.zz.output }}', '${{ inputs.q }}', '${{ 1 + }}', 'x ${{ nodes.b.status', "${{ nodes['c'].output }}", 'plain');
    const expressions = (ds: readonly Diagnostic[]) => ds.filter((d) => ['expression', 'unknown-node-ref', 'unknown-input', 'limit'].includes(d.code));
    fc.assert(
      fc.property(
        melodyLike,
        fc.dictionary(fc.constantFrom('a', 'b', 'c', 'zz'), fc.record({ if: expression, with: fc.record({ value: expression, message: fc.array(expression, { maxLength: 3 }) }) })),
        (doc, extra) => {
          const text = stringify({ ...doc, nodes: { ...(typeof doc.nodes === 'object' ? doc.nodes : {}), ...extra } });
          const data = expressions(diagnosticsOf(loadMelody(text, 'f.melody.yaml')));
          const document = expressions(diagnosticsOf(loadMelody(`${text}1: not a string key\n`, 'f.melody.yaml')));
          assert.deepEqual(data, document);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reports a cycle exactly when the needs graph has one, each at the need that closes it', () => {
    // The loader first asks whether the graph is acyclic in one linear pass and runs Tarjan's
    // algorithm (findCycles) only when it is not: the cycles it reports must be findCycles' own.
    const id = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
    const needs = fc.oneof(id, fc.array(fc.oneof(id, fc.constant('zz')), { maxLength: 4 }));
    fc.assert(
      fc.property(fc.dictionary(id, fc.record({ needs }, { requiredKeys: [] })), fc.option(id, { nil: undefined }), (nodes, compensate) => {
        const doc = { name: 'm', nodes: Object.fromEntries(Object.entries(nodes).map(([k, v]) => [k, { uses: 'transform', ...v }])), ...(compensate ? { 'on-failure': { compensate } } : {}) };
        const graph = new Map(Object.entries(doc.nodes).filter(([k]) => k !== compensate).map(([k, v]) => [k, needsOf(v as { needs?: string | string[] })]));
        const expected = findCycles(graph).flatMap((cycle) => cycle.map((member) => (cycle.length === 1 ? `node \`${member}\` needs itself` : `cycle: ${[...cycle, cycle[0]].join(' → ')}`)));
        const found = diagnosticsOf(loadMelody(stringify(doc), 'f.melody.yaml')).filter((d) => d.code === 'cycle').map((d) => d.message.replace(/;.*| — .*/, ''));
        assert.deepEqual([...found].sort(), [...expected].sort());
      }),
      { numRuns: 2000 },
    );
  });

  it('on alias bombs (billion laughs) without blowing up', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++) bomb.push(`${'abcdefghij'[i]}: &${'abcdefghij'[i]} [${Array(9).fill(`*${'abcdefghij'[i - 1]}`).join(',')}]`);
    const text = bomb.join('\n') + '\nname: x\nnodes: {}\n';
    const r = loadMelody(text, 'bomb.melody.yaml');
    assert.equal(r.ok, false);
  });
});
