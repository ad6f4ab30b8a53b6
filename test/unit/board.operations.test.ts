import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { parse } from 'yaml';
import { loadMelody } from '../../src/core/load/melody';
import {
  addNode,
  connect,
  deleteNodes,
  disconnect,
  instrumentRefs,
  moveNodes,
  rebindMelody,
  renameNode,
  replaceNodeSource,
  setField,
  setFieldYaml,
  uniqueNodeId,
  type EditResult,
} from '../../src/core/board/operations';
import { applyEdits } from '../../src/core/board/textEdit';
import { yaml } from './helpers';

/**
 * The board's edit operations on a melody written the way people write them: comments
 * above and beside keys, blank lines, flow and block styles, a string `needs`, a block
 * scalar prompt. Each test checks the change and that everything else survives verbatim.
 */

const MELODY = yaml`
  # Review the change on save.
  name: review   # shown in the Melodies view
  triggers:
    - on: save     # whenever a source file is saved
      paths: ["src/**"]
  permissions:
    commands: [npx, npm, git, echo, prettier]
  nodes:
    # Lint first; findings do not stop the run.
    lint:
      uses: shell
      with: { command: npx, args: [eslint, "."] }   # flow style stays flow
      continue-on-error: true

    # Then the tests.
    test:
      uses: shell
      needs: lint          # one need, as a string
      with:
        command: npm
        args:
          - test
      retry: { max: 2 }

    review:
      uses: instrument
      instrument: core/reviewer
      needs:
        - lint    # block list
        - test
      if: \${{ nodes.test.status == 'success' }}
      with:
        prompt: |
          Review the change.
          Lint said: \${{ nodes.lint.output.stdout }}

    undo:
      uses: shell
      with: { command: git, args: [checkout, "--", "."] }
  on-failure: { notify: true, compensate: undo }   # undo runs only on failure
`;

const INSTRUMENTS = { instruments: new Set(['core/reviewer']) };

/** The text after a successful edit. */
function after(result: EditResult, text = MELODY): string {
  assert.ok(result.ok, result.ok ? '' : result.error);
  return applyEdits(text, result.value.edits);
}

/** Every line of `before` except `removed` is still in `after`, in order and unchanged. */
function keepsLines(before: string, afterText: string, removed: readonly string[] = []): void {
  const lines = afterText.split('\n');
  let at = 0;
  for (const line of before.split('\n')) {
    if (removed.includes(line)) continue;
    const found = lines.indexOf(line, at);
    assert.ok(found >= 0, `the line ${JSON.stringify(line)} is gone or changed:\n${afterText}`);
    at = found + 1;
  }
}

/** The edited melody still loads without errors. */
function loads(text: string): void {
  const r = loadMelody(text, 'review.melody.yaml', INSTRUMENTS);
  assert.ok(r.ok, r.ok ? '' : r.error.map((d) => `${d.range.start.line}:${d.range.start.column} ${d.message}`).join('\n') + `\n${text}`);
}

describe('board operations', () => {
  it('the fixture itself loads', () => loads(MELODY));

  describe('add', () => {
    it('appends the node after the last one, in the file’s style, with its position under board:', () => {
      const out = after(addNode(MELODY, { idHint: 'notify', body: () => ({ uses: 'notify', with: { message: 'Done' } }), position: [100.4, 219.6] }));
      keepsLines(MELODY, out);
      assert.match(out, /\n {2}undo:\n {4}uses: shell\n {4}with: \{ command: git, args: \[checkout, "--", "."\] \}\n {2}notify:\n {4}uses: notify\n {4}with: \{ message: Done \}\non-failure:/);
      assert.ok(out.endsWith('board:\n  positions:\n    notify: [100, 220]\n'), out);
      loads(out);
    });

    it('picks a free id and places `needs` after `uses`', () => {
      const r = addNode(MELODY, { idHint: 'lint', body: () => ({ uses: 'shell', with: { command: 'echo' } }), needs: ['test'] });
      assert.ok(r.ok);
      assert.deepEqual(r.value.select, ['lint-2']);
      const out = after(r);
      assert.match(out, /\n {2}lint-2:\n {4}uses: shell\n {4}needs: \[test\]\n {4}with: \{ command: echo \}\n/);
      loads(out);
    });

    it('follows a file indented by four spaces, with CRLF line ends', () => {
      const text = 'name: wide\r\nnodes:\r\n    a:\r\n        uses: notify\r\n        with: { message: hi }\r\n';
      const out = after(addNode(text, { idHint: 'b', body: () => ({ uses: 'notify', with: { message: 'yo' } }) }), text);
      assert.equal(out, `${text}    b:\r\n        uses: notify\r\n        with: { message: yo }\r\n`);
    });

    it('adds a first node to a melody whose nodes are an empty flow map', () => {
      const text = 'name: empty\nnodes: {}   # nothing yet\n';
      const out = after(addNode(text, { idHint: 'start', body: () => ({ uses: 'notify', with: { message: 'hi' } }) }), text);
      assert.equal(out, 'name: empty\nnodes:   # nothing yet\n  start:\n    uses: notify\n    with: { message: hi }\n');
      loads(out);
    });
  });

  describe('connect', () => {
    it('adds `needs` to a node without any, after its kind', () => {
      const text = after(addNode(MELODY, { idHint: 'setup', body: () => ({ uses: 'shell', with: { command: 'npm', args: ['ci'] } }) }));
      const out = after(connect(text, 'setup', 'lint'), text);
      keepsLines(text, out);
      assert.match(out, /\n {2}lint:\n {4}uses: shell\n {4}needs: \[setup\]\n {4}with: \{ command: npx/);
      loads(out);
    });

    it('turns a string need into a list, keeping the comment beside it', () => {
      const text = after(addNode(MELODY, { idHint: 'format', body: () => ({ uses: 'shell', with: { command: 'prettier' } }) }));
      const out = after(connect(text, 'format', 'test'), text);
      assert.match(out, /\n {4}needs: \[lint, format\] {10}# one need, as a string\n/);
      keepsLines(text, out, ['    needs: lint          # one need, as a string']);
      loads(out);
    });

    it('adds a line to a block list, aligned with its items', () => {
      const text = after(addNode(MELODY, { idHint: 'docs', body: () => ({ uses: 'shell', with: { command: 'echo' } }) }));
      const out = after(connect(text, 'docs', 'review'), text);
      assert.match(out, /\n {4}needs:\n {6}- lint {4}# block list\n {6}- test\n {6}- docs\n {4}if:/);
      keepsLines(text, out);
    });

    it('refuses a cycle, naming it', () => {
      const r = connect(MELODY, 'review', 'lint');
      assert.ok(!r.ok);
      assert.match(r.error, /^refused: that would make a cycle \(lint → review → test → lint\); nodes on a cycle wait for each other/);
    });

    it('refuses a node needing itself, and edges into or out of the compensation node', () => {
      for (const [from, to, why] of [
        ['lint', 'lint', /cannot need itself/],
        ['lint', 'undo', /compensation node/],
        ['undo', 'lint', /no node can need it/],
      ] as const) {
        const r = connect(MELODY, from, to);
        assert.ok(!r.ok && why.test(r.error), `${from} → ${to}: ${r.ok ? 'accepted' : r.error}`);
      }
    });

    it('says so, and changes nothing, when the edge exists', () => {
      const r = connect(MELODY, 'lint', 'test');
      assert.ok(r.ok);
      assert.deepEqual(r.value.edits, []);
      assert.equal(r.value.message, 'test already needs lint');
    });

    it('refuses unknown nodes', () => {
      const r = connect(MELODY, 'nope', 'test');
      assert.ok(!r.ok && /no node `nope`/.test(r.error));
    });
  });

  describe('disconnect', () => {
    it('removes an item of a block list with its line and comment', () => {
      const out = after(disconnect(MELODY, 'lint', 'review'));
      keepsLines(MELODY, out, ['      - lint    # block list']);
      assert.match(out, /\n {4}needs:\n {6}- test\n {4}if:/);
      loads(out);
    });

    it('removes `needs` when the last need goes', () => {
      const out = after(disconnect(MELODY, 'lint', 'test'));
      keepsLines(MELODY, out, ['    needs: lint          # one need, as a string']);
      assert.match(out, /\n {2}test:\n {4}uses: shell\n {4}with:\n/);
    });

    it('rewrites a flow list without the need', () => {
      const text = 'name: m\nnodes:\n  a: { uses: notify, with: { message: a } }\n  b: { uses: notify, with: { message: b } }\n  c:\n    uses: notify\n    needs: [a, b]   # both\n    with: { message: c }\n';
      assert.equal(after(disconnect(text, 'a', 'c'), text), text.replace('needs: [a, b]', 'needs: [b]'));
    });
  });

  describe('delete', () => {
    it('removes the node, the comment above it, its edges and its position', () => {
      const positioned = after(moveNodes(MELODY, { lint: [0, 0], test: [0, 120] }));
      const r = deleteNodes(positioned, ['lint']);
      const out = after(r, positioned);
      keepsLines(positioned, out, [
        '  # Lint first; findings do not stop the run.',
        '  lint:',
        '    uses: shell',
        '    with: { command: npx, args: [eslint, "."] }   # flow style stays flow',
        '    continue-on-error: true',
        '    needs: lint          # one need, as a string',
        '      - lint    # block list',
        '    lint: [0, 0]',
      ]);
      assert.doesNotMatch(out, /^ {2}lint:/m);
      assert.match(out, /\n {2}# Then the tests\.\n {2}test:\n {4}uses: shell\n {4}with:\n/);
      assert.ok(r.ok && /review still refers to it in an expression/.test(r.value.message), r.ok ? r.value.message : r.error);
    });

    it('deletes edges and nodes of a selection in one edit, and clears on-failure', () => {
      const r = deleteNodes(MELODY, ['undo'], [{ from: 'test', to: 'review' }]);
      const out = after(r);
      assert.doesNotMatch(out, /compensate|^ {2}undo:/m);
      assert.match(out, /^on-failure: \{ notify: true \} {3}# undo runs only on failure$/m);
      assert.match(out, /\n {4}needs:\n {6}- lint {4}# block list\n {4}if:/);
      assert.ok(r.ok);
      assert.equal(r.value.message, 'Deleted undo, test → review');
      loads(out);
    });
  });

  describe('rename', () => {
    it('renames the key in place and every reference: needs, expressions, the compensation, positions', () => {
      const positioned = after(moveNodes(MELODY, { lint: [0, 0], undo: [0, 400] }));
      let out = after(renameNode(positioned, 'lint', 'check'), positioned);
      out = after(renameNode(out, 'undo', 'revert'), out);
      assert.match(out, /\n {2}# Lint first; findings do not stop the run\.\n {2}check:\n/);
      assert.match(out, /needs: check {10}# one need, as a string/);
      assert.match(out, /- check {4}# block list/);
      assert.match(out, /Lint said: \$\{\{ nodes\.check\.output\.stdout \}\}\n/);
      assert.match(out, /prompt: \|\n {8}Review the change\./, 'the block scalar stays a block scalar');
      assert.match(out, /on-failure: \{ notify: true, compensate: revert \} {3}# undo runs only on failure/);
      assert.match(out, /positions:\n {4}check: \[0, 0\]\n {4}revert: \[0, 400\]/);
      assert.doesNotMatch(out, /nodes\.lint|needs: lint|- lint\b|undo:|compensate: undo/);
      loads(out);
    });

    it('writes the index form for an id that is not an identifier', () => {
      const out = after(renameNode(MELODY, 'lint', 'lint-all'));
      assert.match(out, /\$\{\{ nodes\['lint-all'\]\.output\.stdout \}\}/);
      loads(out);
    });

    it('updates a bare `if:` condition', () => {
      const text = MELODY.replace("if: ${{ nodes.test.status == 'success' }}", "if: nodes.test.status == 'success'");
      const out = after(renameNode(text, 'test', 'unit'), text);
      assert.match(out, /if: nodes\.unit\.status == 'success'/);
    });

    it('refuses an invalid id or one that is taken', () => {
      for (const [to, why] of [
        ['2fast', /not a valid node id/],
        ['test', /already a node `test`/],
      ] as const) {
        const r = renameNode(MELODY, 'lint', to);
        assert.ok(!r.ok && why.test(r.error), r.ok ? 'accepted' : r.error);
      }
    });
  });

  describe('move', () => {
    it('updates positions where they are written, flow style included', () => {
      const text = `${MELODY}board: { positions: { lint: [0, 0] } }   # by the board\n`;
      const out = after(moveNodes(text, { lint: [40, 60.2], test: [300, 0] }), text);
      assert.ok(out.endsWith('board: { positions: { lint: [40, 60], test: [300, 0] } }   # by the board\n'), out);
    });

    it('ignores nodes that are not in the melody', () => {
      const r = moveNodes(MELODY, { ghost: [1, 1] });
      assert.ok(!r.ok);
    });
  });

  describe('fields', () => {
    it('sets a scalar where it stands, keeping its quotes', () => {
      const out = after(setField(MELODY, ['triggers', 0, 'paths', 0], 'lib/**'));
      assert.match(out, /paths: \["lib\/\*\*"\]/);
      keepsLines(MELODY, out, ['    paths: ["src/**"]']);
    });

    it('creates a nested setting inline, after the keys that come before it', () => {
      const out = after(setField(MELODY, ['nodes', 'lint', 'timeout'], '5m'));
      assert.match(out, /\n {4}with: \{ command: npx, args: \[eslint, "."\] \} {3}# flow style stays flow\n {4}timeout: 5m\n {4}continue-on-error: true\n/);
      const budget = after(setField(MELODY, ['budget', 'usd'], 0.5));
      assert.match(budget, /\n {4}paths: \["src\/\*\*"\]\nbudget: \{ usd: 0\.5 \}\npermissions:/);
      loads(budget);
    });

    it('changes a multi-line prompt as a block scalar', () => {
      const out = after(setField(MELODY, ['nodes', 'review', 'with', 'prompt'], 'Review it.\nBe brief.\n'));
      assert.match(out, /prompt: \|\n {8}Review it\.\n {8}Be brief\.\n\n {2}undo:/);
    });

    it('removes a field, and a container left empty', () => {
      const out = after(setField(MELODY, ['nodes', 'test', 'retry', 'max'], undefined));
      assert.doesNotMatch(out, /retry/);
      const noTriggers = after(setField(MELODY, ['triggers', 0], undefined));
      assert.doesNotMatch(noTriggers, /triggers|on: save/);
      loads(noTriggers);
    });

    it('sets a field from YAML text, and refuses text that is not YAML', () => {
      const out = after(setFieldYaml(MELODY, ['nodes', 'review', 'outputs'], 'type: object\nrequired: [verdict]'));
      assert.match(out, /\n {4}outputs:\n {6}type: object\n {6}required: \[verdict\]\n\n {2}undo:/);
      const bad = setFieldYaml(MELODY, ['nodes', 'review', 'outputs'], 'a: [');
      assert.ok(!bad.ok && /not valid YAML/.test(bad.error));
    });

    it('refuses a change of needs that would make a cycle', () => {
      const r = setField(MELODY, ['nodes', 'lint', 'needs'], ['review']);
      assert.ok(!r.ok && /cycle/.test(r.error));
    });

    it('edits only melody settings and node fields', () => {
      const r = setField(MELODY, ['board', 'positions'], {});
      assert.ok(!r.ok);
    });
  });

  describe('node source', () => {
    it('replaces a node’s YAML with the user’s, comments included, re-indented', () => {
      const out = after(replaceNodeSource(MELODY, 'lint', 'uses: shell   # still a shell\nwith:\n  command: npx\n  args: [eslint, src]\n'));
      assert.match(out, /\n {2}lint:\n {4}uses: shell {3}# still a shell\n {4}with:\n {6}command: npx\n {6}args: \[eslint, src\]\n\n {2}# Then the tests\./);
      loads(out);
    });

    it('refuses YAML that is not a node', () => {
      for (const source of ['- a', 'a: [', '']) assert.ok(!replaceNodeSource(MELODY, 'lint', source).ok, source);
    });
  });

  describe('templates', () => {
    it('lists the instruments a melody names, and swaps them with a new name', () => {
      assert.deepEqual(instrumentRefs(MELODY), ['core/reviewer']);
      const out = after(rebindMelody(MELODY, { name: 'mine', instruments: { 'core/reviewer': 'backend/reviewer' } }));
      assert.match(out, /^name: mine {3}# shown in the Melodies view$/m);
      assert.match(out, /instrument: backend\/reviewer/);
    });
  });

  it('refuses a file whose YAML is broken, saying where to fix it', () => {
    const r = addNode('name: x\nnodes: [\n', { idHint: 'a', body: () => ({ uses: 'notify' }) });
    assert.ok(!r.ok && /fix them in the text editor/.test(r.error));
  });

  it('makes unique ids from any hint', () => {
    assert.equal(uniqueNodeId('read-file', []), 'read-file');
    assert.equal(uniqueNodeId('read-file', ['read-file', 'read-file-2']), 'read-file-3');
    assert.equal(uniqueNodeId('2 go!', []), 'node-2-go');
    assert.equal(uniqueNodeId('', []), 'node');
  });

  it('leaves YAML that parses to what the edit meant', () => {
    const text = after(addNode(MELODY, { idHint: 'docs', body: () => ({ uses: 'shell', with: { command: 'echo' } }) }));
    const out = after(connect(text, 'docs', 'review'), text);
    assert.deepEqual((parse(out) as { nodes: { review: { needs: string[] } } }).nodes.review.needs, ['lint', 'test', 'docs']);
  });

  it('any sequence of board edits leaves a melody that reads, without cycles, comments intact', function () {
    this.timeout(180_000); // hundreds of generated edit sequences: seconds, more on a loaded machine
    const id = fc.constantFrom('lint', 'test', 'review', 'undo', 'new', 'new-2', 'x');
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), hint: fc.constantFrom('new', 'lint', 'a b') }),
      fc.record({ kind: fc.constant('connect' as const), from: id, to: id }),
      fc.record({ kind: fc.constant('disconnect' as const), from: id, to: id }),
      fc.record({ kind: fc.constant('delete' as const), id }),
      fc.record({ kind: fc.constant('rename' as const), from: id, to: fc.constantFrom('renamed', 'with-dash', 'x') }),
      fc.record({ kind: fc.constant('move' as const), id, x: fc.integer({ min: -2000, max: 2000 }), y: fc.integer({ min: -2000, max: 2000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 8 }), (ops) => {
        let text = MELODY;
        for (const o of ops) {
          const r =
            o.kind === 'add'
              ? addNode(text, { idHint: o.hint, body: () => ({ uses: 'notify', with: { message: 'hi' } }) })
              : o.kind === 'connect'
                ? connect(text, o.from, o.to)
                : o.kind === 'disconnect'
                  ? disconnect(text, o.from, o.to)
                  : o.kind === 'delete'
                    ? deleteNodes(text, [o.id])
                    : o.kind === 'rename'
                      ? renameNode(text, o.from, o.to)
                      : moveNodes(text, { [o.id]: [o.x, o.y] });
          if (!r.ok) continue;
          text = applyEdits(text, r.value.edits);
          const loaded = loadMelody(text, 'm.melody.yaml', INSTRUMENTS);
          const bad = (loaded.ok ? loaded.value.warnings : loaded.error).filter((d) => d.code === 'yaml-syntax' || d.code === 'cycle' || d.code === 'unknown-need');
          assert.deepEqual(bad, [], text);
        }
        for (const comment of ['# Review the change on save.', 'name: review   # shown in the Melodies view', '  - on: save     # whenever a source file is saved']) {
          assert.ok(text.includes(comment), `lost ${comment}:\n${text}`);
        }
      }),
      { numRuns: 200 },
    );
  });
});
