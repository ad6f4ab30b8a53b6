import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PermissionError } from '../../src/core/engine/permissions';
import { writeFileWith } from '../../src/core/model/nodeKinds';
import { readFileNode } from '../../src/core/nodes/readFile';
import { templateNode } from '../../src/core/nodes/template';
import { NodeError } from '../../src/core/nodes/types';
import { validateNode } from '../../src/core/nodes/validate';
import { writeFileNode } from '../../src/core/nodes/writeFile';
import { nodeRig, rejection, scratchDir } from './nodeContext';

/** A workspace inside a scratch folder, with a secret file next to it (outside). */
function workspaceWithOutside() {
  const parent = scratchDir();
  const root = join(parent, 'ws');
  mkdirSync(root);
  const outside = join(parent, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), 'top secret');
  return { root, outside };
}

async function refused(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  const e = await rejection(promise);
  assert.ok(e instanceof PermissionError, `expected a PermissionError, got ${e.name}: ${e.message}`);
  assert.match(e.message, pattern);
}

describe('read-file node', () => {
  it('reads text as it is, and parses JSON and YAML', async () => {
    const rig = nodeRig();
    writeFileSync(join(rig.root, 'notes.txt'), 'line 1\nline 2\n');
    writeFileSync(join(rig.root, 'data.json'), '\uFEFF{ "a": [1, 2], "b": null }');
    writeFileSync(join(rig.root, 'data.yaml'), 'name: demo\nitems:\n  - one\n  - two\n');
    assert.equal((await readFileNode.run({ path: 'notes.txt' }, rig.ctx)).output, 'line 1\nline 2\n');
    assert.deepEqual((await readFileNode.run({ path: 'data.json', parse: 'json' }, rig.ctx)).output, { a: [1, 2], b: null });
    assert.deepEqual((await readFileNode.run({ path: './data.yaml', parse: 'yaml' }, rig.ctx)).output, { name: 'demo', items: ['one', 'two'] });
  });

  it('reports JSON and YAML syntax errors as file:line:col, without retrying', async () => {
    const rig = nodeRig();
    mkdirSync(join(rig.root, 'conf'));
    writeFileSync(join(rig.root, 'conf', 'bad.json'), '{\n  "a": 1,\n  "b": tru\n}\n');
    writeFileSync(join(rig.root, 'conf', 'bad.yaml'), 'ok: 1\nkey: [1, 2\nnext: 3\n');
    const json = await rejection(readFileNode.run({ path: 'conf/bad.json', parse: 'json' }, rig.ctx));
    assert.ok(json instanceof NodeError);
    assert.equal(json.retryable, false);
    assert.match(json.message, /^conf\/bad\.json:3:8: invalid JSON: /);
    const yaml = await rejection(readFileNode.run({ path: 'conf/bad.yaml', parse: 'yaml' }, rig.ctx));
    assert.match(yaml.message, /^conf\/bad\.yaml:\d+:\d+: invalid YAML: [^\n]+$/);
    assert.doesNotMatch(yaml.message, /at line/);
  });

  it('refuses .. escapes, symlink escapes and paths outside fs.read', async () => {
    const { root, outside } = workspaceWithOutside();
    symlinkSync(join(outside, 'secret.txt'), join(root, 'innocent.txt'));
    symlinkSync(outside, join(root, 'linked'));
    writeFileSync(join(root, 'private.txt'), 'not for melodies');
    const rig = nodeRig({ root });
    await refused(readFileNode.run({ path: '../outside/secret.txt' }, rig.ctx), /outside the workspace/);
    await refused(readFileNode.run({ path: join(outside, 'secret.txt') }, rig.ctx), /outside the workspace/);
    await refused(readFileNode.run({ path: 'innocent.txt' }, rig.ctx), /outside the workspace/);
    await refused(readFileNode.run({ path: 'linked/secret.txt' }, rig.ctx), /outside the workspace/);
    const narrow = nodeRig({ root, permissions: { fs: { read: ['docs/**'] } } });
    await refused(readFileNode.run({ path: 'private.txt' }, narrow.ctx), /permissions\.fs\.read does not allow reading private\.txt/);
  });

  it('says a missing file is missing', async () => {
    await refused(readFileNode.run({ path: 'nope.txt' }, nodeRig().ctx), /cannot read nope\.txt: no such file/);
  });
});

describe('write-file node', () => {
  it('writes text as it is and other values as pretty JSON, creating folders', async () => {
    const rig = nodeRig();
    const text = await writeFileNode.run({ path: 'reports/deep/summary.md', content: '# Summary\nAll good — ✓\n' }, rig.ctx);
    assert.deepEqual(text.output, { path: 'reports/deep/summary.md', bytes: Buffer.byteLength('# Summary\nAll good — ✓\n') });
    assert.equal(readFileSync(join(rig.root, 'reports', 'deep', 'summary.md'), 'utf8'), '# Summary\nAll good — ✓\n');
    await writeFileNode.run({ path: 'reports/result.json', content: { ok: true, items: [1] } }, rig.ctx);
    assert.equal(readFileSync(join(rig.root, 'reports', 'result.json'), 'utf8'), '{\n  "ok": true,\n  "items": [\n    1\n  ]\n}\n');
  });

  it('appends instead of replacing when asked', async () => {
    const rig = nodeRig();
    await writeFileNode.run({ path: 'log.txt', content: 'one\n' }, rig.ctx);
    const second = await writeFileNode.run({ path: 'log.txt', content: 'two\n', append: true }, rig.ctx);
    assert.deepEqual(second.output, { path: 'log.txt', bytes: 4 });
    assert.equal(readFileSync(join(rig.root, 'log.txt'), 'utf8'), 'one\ntwo\n');
    await writeFileNode.run({ path: 'log.txt', content: 'three\n' }, rig.ctx);
    assert.equal(readFileSync(join(rig.root, 'log.txt'), 'utf8'), 'three\n');
  });

  it('refuses .. escapes, symlinked folders and dangling links that lead outside', async () => {
    const { root, outside } = workspaceWithOutside();
    symlinkSync(outside, join(root, 'linked'));
    symlinkSync(join(outside, 'planted.txt'), join(root, 'dangling.txt'));
    const rig = nodeRig({ root });
    await refused(writeFileNode.run({ path: '../outside/evil.txt', content: 'x' }, rig.ctx), /outside the workspace/);
    await refused(writeFileNode.run({ path: 'linked/evil.txt', content: 'x' }, rig.ctx), /outside the workspace/);
    await refused(writeFileNode.run({ path: 'linked/new/evil.txt', content: 'x' }, rig.ctx), /outside the workspace/);
    // A dangling link is judged by where it points; the write must not follow it outside.
    await refused(writeFileNode.run({ path: 'dangling.txt', content: 'x' }, rig.ctx), /outside the workspace/);
    assert.equal(existsSync(join(outside, 'planted.txt')), false);
    assert.equal(existsSync(join(outside, 'evil.txt')), false);
    assert.equal(existsSync(join(outside, 'new')), false);
  });

  it('never writes into .git or Symphony’s own records, and respects fs.write', async () => {
    const rig = nodeRig();
    mkdirSync(join(rig.root, '.git', 'hooks'), { recursive: true });
    await refused(writeFileNode.run({ path: '.git/hooks/pre-commit', content: '#!/bin/sh\n' }, rig.ctx), /writing \.git\/hooks\/pre-commit is never allowed/);
    await refused(writeFileNode.run({ path: '.symphony/audit.jsonl', content: '' }, rig.ctx), /never allowed/);
    assert.equal(existsSync(join(rig.root, '.git', 'hooks', 'pre-commit')), false);
    const narrow = nodeRig({ permissions: { fs: { write: ['reports/**'] } } });
    await refused(writeFileNode.run({ path: 'src/index.ts', content: '' }, narrow.ctx), /permissions\.fs\.write does not allow writing src\/index\.ts \(allowed: reports\/\*\*\)/);
    assert.deepEqual((await writeFileNode.run({ path: 'reports/a.txt', content: 'a' }, narrow.ctx)).output, { path: 'reports/a.txt', bytes: 1 });
  });

  it('asks for content rather than writing "undefined"', async () => {
    // The schema requires the key but z.unknown() lets its value be undefined.
    const e = await rejection(writeFileNode.run(writeFileWith.parse({ path: 'a.txt', content: undefined }), nodeRig().ctx));
    assert.ok(e instanceof NodeError);
    assert.match(e.message, /needs `content`/);
  });
});

describe('template node', () => {
  it('outputs an inline template as the engine rendered it', async () => {
    assert.equal((await templateNode.run({ template: 'Hello, Ada' }, nodeRig().ctx)).output, 'Hello, Ada');
  });

  it('renders a template file with the node’s expression context', async () => {
    const rig = nodeRig({ expressions: { inputs: { who: 'Ada', n: 3 }, nodes: { lint: { status: 'success', output: { warnings: 2 } } } } });
    mkdirSync(join(rig.root, 'templates'));
    writeFileSync(join(rig.root, 'templates', 'report.md'), '# Report for ${{ inputs.who }}\nLint: ${{ nodes.lint.status }}, ${{ nodes.lint.output.warnings + inputs.n }} points\n');
    writeFileSync(join(rig.root, 'templates', 'whole.txt'), '${{ inputs.n * 2 }}');
    assert.equal((await templateNode.run({ file: 'templates/report.md' }, rig.ctx)).output, '# Report for Ada\nLint: success, 5 points\n');
    assert.equal((await templateNode.run({ file: 'templates/whole.txt' }, rig.ctx)).output, '6');
  });

  it('reads the template file through the permission guard', async () => {
    const { root } = workspaceWithOutside();
    await refused(templateNode.run({ file: '../outside/secret.txt' }, nodeRig({ root }).ctx), /outside the workspace/);
  });
});

describe('validate node', () => {
  const schema = { type: 'object', required: ['verdict'], properties: { verdict: { enum: ['ok', 'fix'] }, score: { type: 'number' } } };

  it('outputs the value when it matches', async () => {
    const value = { verdict: 'ok', score: 0.9 };
    assert.deepEqual((await validateNode.run({ value, schema }, nodeRig().ctx)).output, { valid: true, value });
  });

  it('fails for good with every problem listed', async () => {
    const e = await rejection(validateNode.run({ value: { verdict: 'maybe', score: 'high' }, schema }, nodeRig().ctx));
    assert.ok(e instanceof NodeError);
    assert.equal(e.retryable, false);
    assert.match(e.message, /^the value does not match the schema \(2 problems\):\n- /);
    assert.match(e.message, /\/verdict must be equal to one of the allowed values/);
    assert.match(e.message, /\/score must be number/);
  });
});
