import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { instrumentNode } from '../../src/core/nodes/instrument';
import { NodeError } from '../../src/core/nodes/types';
import { LAST_STEP_NOTE } from '../../src/core/providers/agent';
import type { ChatMessage, ToolResult } from '../../src/core/providers/types';
import { nodeRig, rejection, testInstrument, type RigOptions } from './nodeContext';

function write(root: string, path: string, text: string): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
}

/** The tool results the model was sent in request n (its last message). */
function resultsSent(messages: readonly ChatMessage[]): readonly ToolResult[] {
  const last = messages[messages.length - 1];
  assert.ok(last && last.role === 'tool', `the last message is a tool message, not ${last?.role}`);
  return last.results;
}

const call = (id: string, name: string, input: unknown) => ({ id, name, input });

function agentRig(options: RigOptions = {}) {
  const rig = nodeRig({ instrument: testInstrument(), ...options });
  write(rig.root, 'src/greet.js', "exports.greet = (name) => 'Hello ' + name;\n");
  write(rig.root, 'test/greet.test.js', "const { greet } = require('../src/greet');\nif (greet('Ada') !== 'Hello, Ada!') { console.error('greet is wrong: ' + greet('Ada')); process.exit(1); }\nconsole.log('ok');\n");
  return rig;
}

describe('instrument node with tools (the agent loop)', () => {
  it('reads a file, edits it, runs the allowed test, and finishes with what it wrote', async () => {
    const rig = agentRig({ permissions: { fs: { write: ['src/**'] }, commands: ['node'] } });
    rig.models
      .reply({ toolCalls: [call('c1', 'read_file', { path: 'src/greet.js' })] })
      .reply({ text: 'Fixing the greeting.', toolCalls: [call('c2', 'edit_file', { path: 'src/greet.js', old: "'Hello ' + name", new: "'Hello, ' + name + '!'" })] })
      .reply({ toolCalls: [call('c3', 'run', { command: 'node', args: ['test/greet.test.js'] })] })
      .reply('The greeting now has a comma and an exclamation mark; the test passes.');

    const { output } = await instrumentNode.run({ prompt: 'Make test/greet.test.js pass.', tools: ['read', 'edit', 'run'] }, rig.ctx);

    assert.equal(readFileSync(join(rig.root, 'src/greet.js'), 'utf8'), "exports.greet = (name) => 'Hello, ' + name + '!';\n");
    const out = output as { text: string; files: string[]; artifacts: Record<string, string>; steps: number; toolCalls: number };
    assert.equal(out.text, 'The greeting now has a comma and an exclamation mark; the test passes.');
    assert.deepEqual(out.files, ['src/greet.js']);
    assert.equal(out.steps, 4);
    assert.equal(out.toolCalls, 3);
    assert.equal(rig.artifacts.get(out.artifacts['src/greet.js']!), "exports.greet = (name) => 'Hello, ' + name + '!';\n");

    // What the model was sent back after each step.
    const [, second, third, fourth] = rig.models.requests.map((r) => r.request);
    assert.deepEqual(resultsSent(second!.messages), [{ callId: 'c1', name: 'read_file', output: "exports.greet = (name) => 'Hello ' + name;\n", isError: false }]);
    assert.deepEqual(resultsSent(third!.messages), [{ callId: 'c2', name: 'edit_file', output: 'edited src/greet.js at line 1', isError: false }]);
    assert.match(resultsSent(fourth!.messages)[0]!.output, /^exit code 0\n--- stdout ---\nok\n/);
    assert.deepEqual(
      second!.tools!.map((t) => t.name),
      ['read_file', 'edit_file', 'run'],
    );

    // Every call journaled: tool, step, outcome, what it wrote.
    assert.deepEqual(
      rig.tools.map((t) => [t.step, t.tool, t.ok]),
      [
        [1, 'read_file', true],
        [2, 'edit_file', true],
        [3, 'run', true],
      ],
    );
    assert.deepEqual(rig.tools[1]!.wrote, { 'src/greet.js': out.artifacts['src/greet.js'] });
    assert.equal(rig.usages.length, 4, 'every step is charged');
  });

  it('returns a refused write outside permissions.fs.write to the model as an error, and goes on', async () => {
    const rig = agentRig({ permissions: { fs: { write: ['src/**'] } } });
    rig.models.reply({ toolCalls: [call('w1', 'write_file', { path: 'package.json', content: '{}' }), call('w2', 'write_file', { path: '../outside.txt', content: 'x' })] }).reply('I could not write those.');

    const { output } = await instrumentNode.run({ prompt: 'Write files.', tools: ['write'] }, rig.ctx);

    const results = resultsSent(rig.models.requests[1]!.request.messages);
    assert.equal(results.length, 2);
    assert.ok(results.every((r) => r.isError));
    assert.match(results[0]!.output, /^refused: permissions\.fs\.write does not allow writing package\.json/);
    assert.match(results[1]!.output, /^refused: \.\.\/outside\.txt is outside the workspace/);
    assert.deepEqual((output as { files: string[] }).files, []);
    assert.deepEqual(rig.tools.map((t) => t.ok), [false, false]);
    assert.match(rig.tools[0]!.error!, /permissions\.fs\.write/);
  });

  it('answers unknown tools, tools the node did not allow, bad arguments and unlisted programs with errors', async () => {
    const rig = agentRig({ permissions: { commands: ['git'] } });
    rig.models
      .reply({
        toolCalls: [
          call('a', 'delete_everything', {}),
          call('b', 'write_file', { path: 'x.txt', content: 'x' }),
          call('c', 'read_file', { file: 'src/greet.js' }),
          call('d', 'read_file', '{"path": "src/gre'),
          call('e', 'run', { command: 'sh', args: ['-c', 'echo pwned'] }),
          call('f', 'edit_file', { path: 'src/greet.js', old: 'nowhere to be found', new: 'x' }),
        ],
      })
      .reply('Done.');

    await instrumentNode.run({ prompt: 'Try things.', tools: ['read', 'edit', 'run'] }, rig.ctx);

    const [a, b, c, d, e, f] = resultsSent(rig.models.requests[1]!.request.messages);
    assert.match(a!.output, /^unknown tool "delete_everything"; the tools you can call are: read_file, edit_file, run$/);
    assert.match(b!.output, /^unknown tool "write_file"/, 'a tool the node did not allow is as good as unknown');
    assert.match(c!.output, /^bad arguments for read_file: path: /);
    assert.match(d!.output, /^bad arguments for read_file: \(arguments\): /);
    assert.match(e!.output, /^refused: permissions\.commands does not allow "sh"/);
    assert.equal(f!.output, 'the text to replace does not occur in src/greet.js');
    assert.ok([a, b, c, d, e, f].every((r) => r!.isError));
    assert.equal(readFileSync(join(rig.root, 'src/greet.js'), 'utf8'), "exports.greet = (name) => 'Hello ' + name;\n");
  });

  it('refuses an ambiguous edit and lists, searches and reads only what permissions.fs.read allows', async () => {
    const rig = agentRig({ permissions: { fs: { read: ['src/**'], write: ['src/**'] } } });
    write(rig.root, 'src/twice.txt', 'same\nsame\n');
    write(rig.root, 'secrets/key.txt', 'greet the key\n');
    rig.models
      .reply({
        toolCalls: [
          call('1', 'edit_file', { path: 'src/twice.txt', old: 'same', new: 'other' }),
          call('2', 'list_files', { glob: '**/*' }),
          call('3', 'search', { pattern: 'greet' }),
          call('4', 'read_file', { path: 'secrets/key.txt' }),
        ],
      })
      .reply('ok');

    await instrumentNode.run({ prompt: 'Look around.', tools: ['read', 'list', 'search', 'edit'] }, rig.ctx);

    const [edit, list, search, read] = resultsSent(rig.models.requests[1]!.request.messages);
    assert.match(edit!.output, /occurs more than once in src\/twice\.txt/);
    assert.equal(list!.output, 'src/greet.js\nsrc/twice.txt');
    assert.equal(search!.output, "src/greet.js:1: exports.greet = (name) => 'Hello ' + name;");
    assert.match(read!.output, /^refused: permissions\.fs\.read does not allow reading secrets\/key\.txt/);
  });

  it('makes the last allowed step without tools, asking for the answer', async () => {
    const rig = agentRig();
    rig.models.reply({ toolCalls: [call('1', 'read_file', { path: 'src/greet.js' })] }).reply({ toolCalls: [call('2', 'read_file', { path: 'src/greet.js' })] }).reply('Here is what I found.');

    const { output } = await instrumentNode.run({ prompt: 'Read a lot.', tools: ['read'], maxSteps: 3 }, rig.ctx);

    const last = rig.models.requests[2]!.request;
    assert.equal(last.tools, undefined);
    assert.deepEqual(last.messages[last.messages.length - 1], { role: 'user', text: LAST_STEP_NOTE });
    assert.equal((output as { steps: number }).steps, 3);
  });

  it('fails with what it did when the model still calls tools after its last step', async () => {
    const rig = agentRig();
    rig.models.reply({ toolCalls: [call('1', 'read_file', { path: 'src/greet.js' })] });
    const e = await rejection(instrumentNode.run({ prompt: 'Read.', tools: ['read'], maxSteps: 1 }, rig.ctx));
    assert.ok(e instanceof NodeError);
    assert.equal(e.retryable, false);
    assert.match(e.message, /asked for more tools after its last step \(with\.maxSteps: 1\)/);
    assert.deepEqual(e.output, { text: '', files: [], artifacts: {}, steps: 1, toolCalls: 0 });
  });

  it('refuses a call whose prompt alone would break the budget before sending it', async () => {
    const rig = agentRig({ budget: { tokens: 5 } });
    const e = await rejection(instrumentNode.run({ prompt: 'one two three four five six seven', tools: ['read'] }, rig.ctx));
    assert.ok(e instanceof NodeError);
    assert.equal(e.retryable, false);
    assert.match(e.message, /^budget: this call to backend\/database would send about \d+ tokens and only 5 are left of budget\.tokens; it was not sent$/);
    assert.equal(rig.models.requests.length, 0, 'nothing was sent');
  });

  it('stops a step that would break the budget after earlier steps spent it', async () => {
    const rig = agentRig({ budget: { tokens: 400 } });
    rig.models.reply({ toolCalls: [call('1', 'read_file', { path: 'src/greet.js' })], tokens: { input: 300, output: 90 } });
    const e = await rejection(instrumentNode.run({ prompt: 'Read.', tools: ['read'] }, rig.ctx));
    assert.match(e.message, /only 10 are left of budget\.tokens; it was not sent/);
    assert.equal(rig.models.requests.length, 1);
  });

  it('parses the final answer as JSON with json: true', async () => {
    const rig = agentRig();
    rig.models.reply({ toolCalls: [call('1', 'read_file', { path: 'src/greet.js' })] }).reply('```json\n{"verdict":"fix","line":1}\n```');
    const { output } = await instrumentNode.run({ prompt: 'Verdict?', tools: ['read'], json: true }, rig.ctx);
    assert.deepEqual(output, { verdict: 'fix', line: 1 });
    assert.deepEqual(rig.models.requests[0]!.request.json, {});
  });
});
