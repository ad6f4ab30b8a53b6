import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { boardCatalog, paletteEntries, paletteNode } from '../../src/core/board/catalog';
import { addNode } from '../../src/core/board/operations';
import { describeTemplate, instantiateTemplate } from '../../src/core/board/templates';
import { applyEdits } from '../../src/core/board/textEdit';
import { exportMelody, formatOf, importMelody } from '../../src/core/board/transfer';
import { loadMelody } from '../../src/core/load/melody';
import { NODE_KIND_NAMES } from '../../src/core/model/nodeKinds';
import type { FormField } from '../../src/protocol/boardModel';
import { REPO, tempDir } from './helpers';

const INSTRUMENTS = [
  { ref: 'core/reviewer', nickname: 'Cello', kind: 'model', role: 'Reviews changes.' },
  { ref: 'core/tester', nickname: 'Timpani', kind: 'script' },
];
const context = { instruments: new Set(INSTRUMENTS.map((i) => i.ref)) };
const TEMPLATES = join(REPO, 'templates', 'melodies');

const find = (fields: readonly FormField[], key: string) => fields.find((f) => f.key === key);

describe('board catalog', () => {
  it('offers the workspace’s instruments, every kind and control, in the four categories', () => {
    const palette = paletteEntries(INSTRUMENTS);
    assert.deepEqual([...new Set(palette.map((e) => e.category))], ['Instruments', 'Operators', 'Control', 'Addons']);
    assert.deepEqual(palette.filter((e) => e.category === 'Instruments').map((e) => e.label), ['Cello', 'Timpani']);
    const kinds = new Set(palette.map((e) => e.kind));
    for (const k of NODE_KIND_NAMES) assert.ok(kinds.has(k), k);
    assert.ok(palette.some((e) => e.key === 'control:loop'));
  });

  it('adds a valid node for every palette entry', () => {
    let text = 'name: all\npermissions: { commands: [echo, npm, git] }\nnodes:\n  first: { uses: notify, with: { message: hi } }\n';
    for (const entry of paletteEntries(INSTRUMENTS)) {
      const node = paletteNode(entry.key, INSTRUMENTS);
      assert.ok(node, entry.key);
      const r = addNode(text, { ...node, position: [0, 0] });
      assert.ok(r.ok, r.ok ? '' : r.error);
      text = applyEdits(text, r.value.edits);
    }
    const loaded = loadMelody(text, 'all.melody.yaml', context);
    assert.ok(loaded.ok, loaded.ok ? '' : `${loaded.error.map((d) => d.message).join('\n')}\n${text}`);
    assert.match(text, /\n {2}loop:\n {4}uses: shell\n {4}with: \{ command: npm, args: \[test\] \}\n {4}loop: \{ until: "\$\{\{ nodes\.loop\.output\.exitCode == 0 \}\}", max: 3 \}\n/);
  });

  it('knows no entry it does not offer', () => {
    for (const key of ['kind:instrument', 'kind:nope', 'instrument:core/ghost', 'other']) assert.equal(paletteNode(key, INSTRUMENTS), undefined, key);
  });

  it('generates the inspector’s forms from the schemas', () => {
    const catalog = boardCatalog(INSTRUMENTS, ['build']);
    const shell = catalog.kinds.shell!;
    assert.deepEqual(
      shell.fields.map((f) => `${f.key}:${f.type}${f.required ? '!' : ''}`),
      ['command:text!', 'args:list', 'cwd:text', 'env:yaml', 'stdin:text'],
    );
    const retry = find(catalog.nodeFields, 'retry');
    assert.ok(retry?.type === 'group');
    assert.deepEqual(
      retry.fields.map((f) => [f.key, f.type, f.default]),
      [
        ['max', 'number', undefined],
        ['backoff', 'choice', 'fixed'],
        ['delay', 'text', '1s'],
        ['jitter', 'boolean', true],
      ],
    );
    const instrument = find(catalog.nodeFields, 'instrument');
    assert.ok(instrument?.type === 'text' && instrument.suggest === 'instrument');
    const triggers = find(catalog.melodyFields, 'triggers');
    assert.ok(triggers?.type === 'variants');
    assert.deepEqual(triggers.variants.map((v) => v.value), ['save', 'commit', 'schedule', 'webhook', 'melody', 'manual']);
    assert.deepEqual(catalog.melodyFields.map((f) => f.key), ['name', 'description', 'triggers', 'concurrency', 'inputs', 'budget', 'permissions', 'privacy', 'cache', 'on-failure']);
    assert.equal(find(catalog.melodyFields, 'inputs')?.type, 'entries');
    const prompt = find(catalog.kinds.instrument!.fields, 'prompt');
    assert.ok(prompt?.type === 'text' && prompt.multiline);
    assert.ok(catalog.kinds.summarize!.instrument && !catalog.kinds.shell!.instrument);
  });
});

describe('melody templates', () => {
  const files = readdirSync(TEMPLATES).filter((f) => f.endsWith('.melody.yaml'));

  it('ships the featured six', () => {
    assert.deepEqual(
      files.map((f) => describeTemplate(f, readFileSync(join(TEMPLATES, f), 'utf8')).title).sort(),
      ['API Doc Generator', 'Blank', 'Full Stack Review', 'Performance Optimizer', 'Security Hardening', 'Test Suite Creator'],
    );
  });

  for (const file of files) {
    it(`${file} loads with the starter ensemble, and keeps loading once renamed and rebound`, () => {
      const text = readFileSync(join(TEMPLATES, file), 'utf8');
      const info = describeTemplate(file, text);
      assert.ok(info.blurb.length > 0, 'a title comment: "# Title — what it does"');
      const loaded = loadMelody(text, file, context);
      assert.ok(loaded.ok, loaded.ok ? '' : loaded.error.map((d) => `${d.range.start.line}: ${d.message}`).join('\n'));
      assert.deepEqual(loaded.ok ? loaded.value.warnings : [], []);
      const mine = instantiateTemplate(text, 'mine', { 'core/reviewer': 'team/critic' });
      assert.ok(mine.ok);
      assert.match(mine.value, /^name: mine$/m);
      assert.doesNotMatch(mine.value, /instrument: core\/reviewer/);
      assert.ok(loadMelody(mine.value, file, { instruments: new Set(['team/critic']) }).ok);
      assert.ok(mine.value.startsWith(text.split('\n')[0]!), 'comments stay');
    });
  }

  it('pass `symphony validate` in a workspace with the starter ensemble', () => {
    const dir = tempDir();
    cpSync(join(REPO, 'templates', 'init', 'ensembles'), join(dir, 'ensembles'), { recursive: true });
    mkdirSync(join(dir, 'melodies'));
    for (const f of files) cpSync(join(TEMPLATES, f), join(dir, 'melodies', f));
    const run = spawnSync(process.execPath, [join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(REPO, 'src', 'cli', 'bin.ts'), 'validate', dir], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stderr, new RegExp(`${files.length + 6} files valid`)); // the templates, ensemble.yaml and five instruments
  });

  it('refuse a name that cannot be a file name', () => {
    const r = instantiateTemplate(readFileSync(join(TEMPLATES, 'blank.melody.yaml'), 'utf8'), 'no spaces');
    assert.ok(!r.ok);
  });
});

describe('import and export', () => {
  const text = readFileSync(join(REPO, 'examples/demo/melodies/hello.melody.yaml'), 'utf8');

  it('exports YAML as written and JSON as data', () => {
    assert.deepEqual(exportMelody(text, 'yaml'), { ok: true, value: text });
    const json = exportMelody(text, 'json');
    assert.ok(json.ok);
    assert.equal((JSON.parse(json.value) as { name: string }).name, 'hello');
  });

  it('imports JSON as a melody written in block style, which loads', () => {
    const json = exportMelody(text, 'json');
    assert.ok(json.ok);
    const back = importMelody(json.value, formatOf('hello.json'));
    assert.ok(back.ok);
    assert.match(back.value, /^nodes:\n {2}status:\n {4}uses: shell\n/m);
    assert.ok(loadMelody(back.value, 'hello.melody.yaml').ok);
  });

  it('refuses what is not a melody', () => {
    for (const [content, format] of [
      ['[1, 2]', 'json'],
      ['{ "name": "x" }', 'json'],
      ['not: [yaml', 'yaml'],
      ['{', 'json'],
    ] as const) {
      assert.ok(!importMelody(content, format).ok, content);
    }
  });
});
