import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { boardDocument } from '../../src/core/board/model';
import { REPO, yaml } from './helpers';

/** What the board is sent for a document: nodes, needs, positions, problems at their fields. */
describe('board document', () => {
  const demo = join(REPO, 'examples/demo/melodies/code-review.melody.yaml');
  const context = { instruments: new Set(['backend/reviewer', 'research/analyst']) };

  it('lists the nodes in file order with their needs, conditions and roles', () => {
    const doc = boardDocument(readFileSync(demo, 'utf8'), demo, { fileName: 'code-review.melody.yaml', version: 3, context });
    assert.equal(doc.version, 3);
    assert.deepEqual(doc.diagnostics, []);
    const m = doc.melody!;
    assert.equal(m.name, 'code-review');
    assert.deepEqual(
      m.nodes.map((n) => [n.id, n.uses, n.needs.join(','), n.condition ?? '', n.compensation, n.continueOnError]),
      [
        ['lint', 'shell', '', '', false, true],
        ['test', 'shell', '', '', false, false],
        ['review', 'instrument', 'lint,test', "${{ nodes.test.status == 'success' }}", false, false],
        ['report', 'write-file', 'review', '', false, false],
        ['revert', 'shell', '', '', true, false],
      ],
    );
    const review = m.nodes[2]!;
    assert.equal(review.instrument, 'backend/reviewer');
    assert.equal(review.line, 27);
    assert.match(review.source, /^uses: instrument\ninstrument: backend\/reviewer\n/);
    assert.deepEqual(Object.keys(m.settings), ['name', 'description', 'triggers', 'concurrency', 'inputs', 'budget', 'permissions', 'on-failure']);
  });

  it('points each problem at the path of its field, and counts them per node', () => {
    const text = yaml`
      name: broken
      nodes:
        a:
          uses: shell
          with: { command: 3 }
        b:
          uses: instrument
          instrument: nowhere/nobody
          needs: [a, ghost]
          with: { prompt: hi }
    `;
    const doc = boardDocument(text, 'b.melody.yaml', { fileName: 'b.melody.yaml', version: 1, context });
    const paths = doc.diagnostics.map((d) => `${d.line}:${d.column} ${d.path.join('.')}`);
    assert.deepEqual(paths, ['5:22 nodes.a.with.command', '8:17 nodes.b.instrument', '9:16 nodes.b.needs.1']);
    const [a, b] = doc.melody!.nodes;
    assert.deepEqual([a!.errors, b!.errors], [1, 2]);
  });

  it('reads positions and the viewport the board saved', () => {
    const text = 'name: p\nnodes:\n  a: { uses: notify, with: { message: hi } }\nboard: { positions: { a: [10, -20], gone: [1, 1] }, viewport: [1, 2, 0.5] }\n';
    const m = boardDocument(text, 'p.melody.yaml', { fileName: 'p', version: 1 }).melody!;
    assert.deepEqual(m.nodes[0]!.position, [10, -20]);
    assert.deepEqual(m.viewport, [1, 2, 0.5]);
  });

  it('gives diagnostics and no canvas for YAML it cannot read', () => {
    const doc = boardDocument('name: x\nnodes:\n  a: [\n', 'x.melody.yaml', { fileName: 'x.melody.yaml', version: 1 });
    assert.equal(doc.melody, undefined);
    assert.ok(doc.diagnostics.length > 0);
    assert.equal(doc.diagnostics[0]!.code, 'yaml-syntax');
    assert.equal(doc.diagnostics[0]!.line, 4);
  });

  it('draws what it can of a melody with unknown kinds and odd nodes', () => {
    const doc = boardDocument('name: odd\nnodes:\n  a: 5\n  b:\n    uses: telepathy\n', 'o.melody.yaml', { fileName: 'o', version: 1 });
    assert.deepEqual(
      doc.melody!.nodes.map((n) => [n.id, n.uses, n.errors > 0]),
      [
        ['a', '?', true],
        ['b', 'telepathy', true],
      ],
    );
  });

  it('changes a node’s rev when what is shown of it changes, and only then', () => {
    const text = 'name: r\nnodes:\n  a: { uses: notify, with: { message: hi } }\n  b: { uses: notify, with: { message: yo } }\n';
    const one = boardDocument(text, 'r', { fileName: 'r', version: 1 }).melody!.nodes;
    const two = boardDocument(text.replace('yo', 'hey'), 'r', { fileName: 'r', version: 2 }).melody!.nodes;
    assert.equal(one[0]!.rev, two[0]!.rev);
    assert.notEqual(one[1]!.rev, two[1]!.rev);
  });
});
