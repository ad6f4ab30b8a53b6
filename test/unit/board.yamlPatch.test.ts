import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { parse } from 'yaml';
import { applyEdits, normalizeEdits } from '../../src/core/board/textEdit';
import { blockPaths, deepEqual, parseForEdit, patchYaml } from '../../src/core/board/yamlPatch';
import { documentText, DEFAULT_STYLE } from '../../src/core/board/yamlText';
import { yaml } from './helpers';

/**
 * The writer under every board edit: it must turn a file into one that holds exactly the
 * data asked for, whatever that data is, while touching nothing it does not have to.
 */

const BASE = yaml`
  # A file in every style the writer meets.
  name: mixed   # trailing comment
  list:
    - a
    - b  # about b
  flow: [1, "two", 'three']
  map:
    inner: { x: 1, y: [2, 3] }   # flow map in a block map

    # a comment between entries
    block:
      deep: |
        line one
        line two
      other: value
  items:
    - on: save
      paths: ["src/**"]
    - on: manual
  empty: {}
  nothing:
  last: end
`;

type Data = Record<string, unknown>;

/**
 * `data` with `value` at `path` (removed when undefined), as an edit leaves it: a container
 * made on the way past an array's end is appended to it, so no array gets a hole (which no
 * YAML or JSON text can hold: the writer would rightly write it as null).
 */
function setIn(data: Data, path: readonly (string | number)[], value: unknown): Data {
  const copy = structuredClone(data);
  let at: Record<string | number, unknown> = copy;
  for (let i = 0; i < path.length - 1; i++) {
    let key = path[i]!;
    const next = at[key];
    if (typeof next !== 'object' || next === null) {
      if (Array.isArray(at) && typeof key === 'number' && key > at.length) key = at.length;
      at[key] = typeof path[i + 1] === 'number' ? [] : {};
    }
    at = at[key] as Record<string | number, unknown>;
  }
  const last = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(at) && typeof last === 'number') at.splice(last, 1);
    else delete at[last];
  } else if (Array.isArray(at) && typeof last === 'number' && last > at.length) {
    at.push(value);
  } else {
    at[last] = value;
  }
  return copy;
}

/** Strings that need care: quotes, indicators, expressions, newlines, unicode. */
const tricky = fc.constantFrom(
  'true', 'null', '1.5', '0x1F', ': x', '#no', 'a, b', '[x]', '{y}', "it's", '"q"', 'multi\nline', 'trailing\n', 'two\n\n',
  '  lead\nx', '-', ' ', '', '${{ nodes.a.output }}', 'é ü ✓', 'tab\there', 'back\\slash', '\n', 'cr\r\nlf', '- item', '? q', '@at', '`tick`',
);
const scalar = fc.oneof(tricky, fc.string({ maxLength: 12 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
const key = fc.constantFrom('a', 'b', 'name', 'key with space', 'x:y', '#h', '1', 'true', 'on', 'needs');
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(key, tie('value'), { maxKeys: 3 })),
}));
const PATHS: (string | number)[][] = [
  ['name'], ['list'], ['list', 0], ['list', 1], ['list', 2], ['flow'], ['flow', 1], ['flow', 3], ['map'], ['map', 'inner'], ['map', 'inner', 'y'],
  ['map', 'inner', 'z'], ['map', 'block'], ['map', 'block', 'deep'], ['map', 'block', 'new'], ['items', 0], ['items', 0, 'on'], ['items', 0, 'paths'],
  ['items', 1, 'extra'], ['items', 2], ['empty'], ['empty', 'k'], ['nothing'], ['last'], ['added'], ['added', 'deeper'],
];
const edit = fc.tuple(fc.constantFrom(...PATHS), fc.option(value, { nil: undefined }));

describe('board YAML writer', () => {
  const parsed = parseForEdit(BASE);
  assert.ok(parsed.ok);
  const data = parsed.value.data as Data;

  it('writes exactly the data asked for, for any change', function () {
    this.timeout(180_000); // hundreds of generated edits: seconds, more on a loaded machine
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), fc.boolean(), (edits, block) => {
        let next = data;
        for (const [path, v] of edits) next = setIn(next, path, v);
        const r = patchYaml(parsed.value, next, { forceBlock: block ? blockPaths([[], ['map'], ['added']]) : undefined });
        assert.ok(r.ok, r.ok ? '' : r.error);
        const out = applyEdits(BASE, r.value);
        let back: unknown;
        try {
          back = parse(out);
        } catch (e) {
          assert.fail(`${(e as Error).message}\n${out}`);
        }
        assert.ok(deepEqual(back, next), `wrote\n${out}\nwhich reads as\n${JSON.stringify(back)}\ninstead of\n${JSON.stringify(next)}`);
      }),
      { numRuns: Number(process.env.BOARD_PROPERTY_RUNS ?? 400) },
    );
  });

  it('changes nothing when nothing changes', () => {
    const r = patchYaml(parsed.value, structuredClone(data));
    assert.ok(r.ok);
    assert.deepEqual(r.value, []);
  });

  it('touches only the lines of what changed', () => {
    const r = patchYaml(parsed.value, setIn(data, ['map', 'block', 'other'], 'changed'));
    assert.ok(r.ok);
    assert.equal(applyEdits(BASE, r.value), BASE.replace('other: value', 'other: changed'));
  });

  it('keeps the text of untouched entries when a flow map gains a key', () => {
    const text = 'm: { a: "quoted",  b: 0x10 }\n';
    const p = parseForEdit(text);
    assert.ok(p.ok);
    const r = patchYaml(p.value, { m: { a: 'quoted', b: 16, c: [1] } });
    assert.ok(r.ok);
    assert.equal(applyEdits(text, r.value), 'm: { a: "quoted", b: 0x10, c: [1] }\n');
  });

  it('writes whole documents in block style where asked, and inline where short', () => {
    const text = documentText({ name: 'x', nodes: { a: { uses: 'shell', with: { command: 'ls', args: ['-l'] } } } }, { ...DEFAULT_STYLE, forceBlock: blockPaths([[], ['nodes'], ['nodes', '*']]) });
    assert.equal(text, 'name: x\nnodes:\n  a:\n    uses: shell\n    with: { command: ls, args: [-l] }\n');
  });

  it('merges touching edits and refuses overlapping ones', () => {
    assert.deepEqual(normalizeEdits([{ start: 2, end: 4, text: 'x' }, { start: 2, end: 2, text: 'a' }, { start: 4, end: 4, text: 'b' }]), [{ start: 2, end: 4, text: 'axb' }]);
    assert.throws(() => normalizeEdits([{ start: 0, end: 3, text: '' }, { start: 2, end: 4, text: '' }]), /overlapping/);
  });
});
