import * as assert from 'node:assert/strict';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseHandoff } from '../../src/core/conductor/handoff';
import { PermissionError } from '../../src/core/engine/permissions';
import { NODE_KIND_NAMES } from '../../src/core/model/nodeKinds';
import { approvalNode } from '../../src/core/nodes/approval';
import { handoffNode } from '../../src/core/nodes/handoff';
import { builtinNodes } from '../../src/core/nodes/index';
import { melodyNode } from '../../src/core/nodes/melody';
import { notifyNode } from '../../src/core/nodes/notify';
import { transformNode } from '../../src/core/nodes/transform';
import { NodeError, type ChildRun } from '../../src/core/nodes/types';
import { jsonSafe, vscodeCommandNode } from '../../src/core/nodes/vscodeCommand';
import { nodeRig, rejection, scratchDir, testInstrument } from './nodeContext';

describe('builtinNodes', () => {
  it('implements every node kind under its own name', () => {
    assert.deepEqual(Object.keys(builtinNodes).sort(), [...NODE_KIND_NAMES].sort());
    for (const [kind, impl] of Object.entries(builtinNodes)) assert.equal(impl.kind, kind);
  });
});

describe('transform node', () => {
  it('outputs its value', async () => {
    const value = { list: [1, 'two'], nested: { ok: true } };
    assert.equal((await transformNode.run({ value }, nodeRig().ctx)).output, value);
  });
});

describe('approval node', () => {
  it('asks the host with the run, node and message', async () => {
    const rig = nodeRig({ approve: true });
    assert.deepEqual((await approvalNode.run({ message: 'Deploy to staging?' }, rig.ctx)).output, { approved: true });
    assert.deepEqual(rig.approvals, [{ runId: rig.ctx.runId, nodeId: 'node', message: 'Deploy to staging?' }]);
  });

  it('fails for good when declined', async () => {
    const e = await rejection(approvalNode.run({ message: 'Deploy to staging?' }, nodeRig({ approve: false }).ctx));
    assert.ok(e instanceof NodeError);
    assert.equal(e.retryable, false);
    assert.equal(e.message, 'Deploy to staging?: declined');
  });
});

describe('notify node', () => {
  it('notifies through the host, at info level unless told otherwise', async () => {
    const rig = nodeRig();
    assert.deepEqual((await notifyNode.run({ message: 'Build done' }, rig.ctx)).output, { notified: true, message: 'Build done' });
    await notifyNode.run({ message: 'Disk almost full', level: 'warning' }, rig.ctx);
    assert.deepEqual(rig.notices, [
      { level: 'info', message: 'Build done', runId: rig.ctx.runId },
      { level: 'warning', message: 'Disk almost full', runId: rig.ctx.runId },
    ]);
  });
});

describe('melody node', () => {
  it('runs the sub-melody with its inputs and outputs the child’s outputs', async () => {
    const calls: unknown[] = [];
    const child: ChildRun = { runId: 'child-1', status: 'success', outputs: { build: { exitCode: 0 } } };
    const rig = nodeRig({ runMelody: (file, inputs) => (calls.push({ file, inputs }), Promise.resolve(child)) });
    assert.deepEqual((await melodyNode.run({ melody: 'melodies/build.melody.yaml', inputs: { target: 'web' } }, rig.ctx)).output, { build: { exitCode: 0 } });
    await melodyNode.run({ melody: 'melodies/build.melody.yaml' }, rig.ctx);
    assert.deepEqual(calls, [
      { file: 'melodies/build.melody.yaml', inputs: { target: 'web' } },
      { file: 'melodies/build.melody.yaml', inputs: {} },
    ]);
  });

  it('fails for good when the child does not succeed, naming its run', async () => {
    const rig = nodeRig({ runMelody: () => Promise.resolve({ runId: 'child-2', status: 'failure', outputs: {} }) });
    const e = await rejection(melodyNode.run({ melody: 'melodies/fix.melody.yaml' }, rig.ctx));
    assert.ok(e instanceof NodeError);
    assert.equal(e.retryable, false);
    assert.equal(e.message, 'sub-melody melodies/fix.melody.yaml ended failure (run child-2)');
  });
});

describe('vscode-command node', () => {
  it('says it needs VS Code when the host cannot run commands', async () => {
    const e = await rejection(vscodeCommandNode.run({ command: 'workbench.action.files.saveAll' }, nodeRig().ctx));
    assert.ok(e instanceof NodeError);
    assert.equal(e.retryable, false);
    assert.equal(e.message, 'vscode-command nodes run only inside VS Code');
  });

  it('runs the command through the host and outputs a JSON-safe result', async () => {
    const calls: unknown[] = [];
    const result: Record<string, unknown> = { uri: { toJSON: () => ({ scheme: 'file', path: '/a.ts' }) }, dispose: () => undefined, count: 2n };
    result.self = result;
    const rig = nodeRig({ executeCommand: (command, args) => (calls.push({ command, args }), Promise.resolve(result)) });
    const { output } = await vscodeCommandNode.run({ command: 'symphony.test', args: ['a', 1] }, rig.ctx);
    assert.deepEqual(output, { uri: { scheme: 'file', path: '/a.ts' }, count: '2' });
    assert.deepEqual(calls, [{ command: 'symphony.test', args: ['a', 1] }]);
  });

  it('jsonSafe keeps shared values, drops cycles and what JSON cannot hold', () => {
    const shared = { n: 1 };
    const list: unknown[] = [shared, shared, () => 1, Number.NaN, undefined];
    list.push(list);
    assert.deepEqual(jsonSafe({ list, when: new Date(0), map: new Map([['k', new Set([1, 2])]]), sym: Symbol('s') }), {
      list: [{ n: 1 }, { n: 1 }, null, null, null, null],
      when: '1970-01-01T00:00:00.000Z',
      map: { k: [1, 2] },
    });
    assert.equal(jsonSafe(undefined), undefined);
  });
});

describe('handoff node', () => {
  it('appends an entry crediting the instrument, with its model and files', async () => {
    const rig = nodeRig({ instrument: testInstrument({ nickname: 'Tuba' }) });
    assert.deepEqual((await handoffNode.run({ summary: 'Added the orders table.', files: ['db/orders.sql'] }, rig.ctx)).output, { appended: true });
    await handoffNode.run({ summary: 'Reviewed it.', nickname: 'Oboe', model: 'gpt-4o-mini' }, rig.ctx);
    const entries = parseHandoff(readFileSync(join(rig.root, 'handoff.md'), 'utf8'));
    assert.deepEqual(
      entries.map(({ at: _at, ...rest }) => rest),
      [
        { nickname: 'Tuba', instrument: 'backend/database', model: 'llama3.1', files: ['db/orders.sql'], summary: 'Added the orders table.' },
        { nickname: 'Oboe', instrument: 'backend/database', model: 'gpt-4o-mini', summary: 'Reviewed it.' },
      ],
    );
  });

  it('credits the melody when there is no instrument', async () => {
    const rig = nodeRig();
    await handoffNode.run({ summary: 'Ran the nightly build.' }, rig.ctx);
    assert.equal(parseHandoff(readFileSync(join(rig.root, 'handoff.md'), 'utf8'))[0]!.nickname, 'test-melody');
  });

  it('needs permission to write handoff.md', async () => {
    const rig = nodeRig({ permissions: { fs: { write: ['reports/**'] } } });
    const e = await rejection(handoffNode.run({ summary: 'x' }, rig.ctx));
    assert.ok(e instanceof PermissionError);
    assert.match(e.message, /does not allow writing handoff\.md/);
  });

  it('refuses a handoff.md that links outside the workspace', async () => {
    const outside = join(scratchDir(), 'elsewhere.md');
    writeFileSync(outside, 'not yours\n');
    const rig = nodeRig();
    symlinkSync(outside, join(rig.root, 'handoff.md'));
    const e = await rejection(handoffNode.run({ summary: 'x' }, rig.ctx));
    assert.ok(e instanceof PermissionError);
    assert.equal(readFileSync(outside, 'utf8'), 'not yours\n');
  });
});
