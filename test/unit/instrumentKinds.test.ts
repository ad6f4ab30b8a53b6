import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { instrumentNode } from '../../src/core/nodes/instrument';
import { NodeError } from '../../src/core/nodes/types';
import { nodeRig, rejection, testInstrument } from './nodeContext';

/** A script instrument: `node <file>` in the workspace. */
function scriptInstrument(file: string) {
  return testInstrument({ kind: 'script', model: undefined, script: { command: 'node', args: [file] }, ref: 'tools/echo', nickname: 'Echo' });
}

/** Reads the request JSON from stdin and runs `body` with it as `req`. */
const stdinScript = (body: string) => `let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const req=JSON.parse(s);${body}});\n`;

describe('script instruments', () => {
  it('get the request as JSON on stdin and answer on stdout; reported usage is charged', async () => {
    const rig = nodeRig({ instrument: scriptInstrument('echo.js'), permissions: { commands: ['node'] } });
    writeFileSync(join(rig.root, 'echo.js'), stdinScript(`process.stderr.write('thinking\\n');console.log(JSON.stringify({text: req.nickname + ' heard: ' + req.prompt + ' / ' + req.system, usage: {input: 7, output: 3}}))`));
    const { output } = await instrumentNode.run({ prompt: 'hello', system: 'be brief' }, rig.ctx);
    assert.equal(output, 'Echo heard: hello / Handles schema and queries.\n\nbe brief');
    assert.deepEqual(rig.usages, [{ tokens: { input: 7, output: 3 }, costUsd: 0, model: 'node', instrument: 'tools/echo', priced: true }]);
    assert.equal(rig.logged('stderr'), 'thinking\n');
    assert.equal(rig.logged('stdout'), output, 'the answer is in the log');
  });

  it('answer in plain text too (usage is then counted), and can drive the agent loop with tool calls', async () => {
    const rig = nodeRig({ instrument: scriptInstrument('agent.js'), permissions: { commands: ['node'], fs: { write: ['out/**'] } } });
    // First call: ask to write a file; once the tool result is back, answer in plain text.
    writeFileSync(
      join(rig.root, 'agent.js'),
      stdinScript(`const done = req.messages.some(m => m.role === 'tool'); if (!done) console.log(JSON.stringify({toolCalls: [{name: 'write_file', input: {path: 'out/note.txt', content: 'from a script'}}]})); else console.log('wrote it: ' + req.messages[2].results[0].output);`),
    );
    const { output } = await instrumentNode.run({ prompt: 'write a note', tools: ['write'] }, rig.ctx);
    assert.equal(readFileSync(join(rig.root, 'out/note.txt'), 'utf8'), 'from a script');
    assert.deepEqual((output as { text: string; files: string[] }).text, 'wrote it: wrote out/note.txt (13 bytes)');
    assert.deepEqual((output as { files: string[] }).files, ['out/note.txt']);
    assert.equal(rig.usages.length, 2);
    assert.ok(rig.usages[1]!.tokens.output > 0, 'plain text answers are counted');
  });

  it('are refused when permissions.commands does not list the program, and fail retryably when it fails', async () => {
    const refused = nodeRig({ instrument: scriptInstrument('x.js') });
    assert.match((await rejection(instrumentNode.run({ prompt: 'x' }, refused.ctx))).message, /does not allow running programs: add "node" to permissions\.commands/);

    const rig = nodeRig({ instrument: scriptInstrument('fail.js'), permissions: { commands: ['node'] } });
    writeFileSync(join(rig.root, 'fail.js'), "console.error('model file missing'); process.exit(3);\n");
    const e = await rejection(instrumentNode.run({ prompt: 'x' }, rig.ctx));
    assert.ok(e instanceof NodeError);
    assert.equal(e.retryable, true);
    assert.equal(e.message, 'script instrument tools/echo: node exited with code 3:\nmodel file missing');
  });
});

describe('service instruments', () => {
  let server: Server;
  let url: string;
  const replies: { status: number; body: string; type?: string; headers?: Record<string, string> }[] = [];
  const received: { method?: string; body: unknown }[] = [];

  before(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ method: req.method, body: body ? (JSON.parse(body) as unknown) : undefined });
        const next = replies.shift() ?? { status: 500, body: 'no reply scripted' };
        res.writeHead(next.status, { 'content-type': next.type ?? 'application/json', ...next.headers });
        res.end(next.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/review`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    replies.length = 0;
    received.length = 0;
  });

  const serviceRig = (network?: string[]) =>
    nodeRig({
      instrument: testInstrument({ kind: 'service', model: undefined, service: { url, method: 'POST' }, ref: 'remote/reviewer', nickname: 'Oboe' }),
      permissions: network ? { network } : {},
    });

  it('post the request as JSON to a host permissions.network allows and take a JSON or text answer', async () => {
    const rig = serviceRig(['127.0.0.1']);
    replies.push({ status: 200, body: JSON.stringify({ text: 'looks fine', usage: { input: 20, output: 2 } }) }, { status: 200, body: 'plain words', type: 'text/plain' });
    assert.equal((await instrumentNode.run({ prompt: 'review this' }, rig.ctx)).output, 'looks fine');
    assert.equal((await instrumentNode.run({ prompt: 'and this' }, rig.ctx)).output, 'plain words');
    assert.equal(received[0]!.method, 'POST');
    assert.equal((received[0]!.body as { prompt: string; instrument: string }).prompt, 'review this');
    assert.equal((received[0]!.body as { instrument: string }).instrument, 'remote/reviewer');
    assert.deepEqual(rig.usages[0]!.tokens, { input: 20, output: 2 });
  });

  it('are refused without permissions.network, and 5xx is retryable while 4xx is not', async () => {
    const none = serviceRig();
    assert.match((await rejection(instrumentNode.run({ prompt: 'x' }, none.ctx))).message, /does not allow network access: add "127\.0\.0\.1" to permissions\.network/);
    assert.equal(received.length, 0, 'nothing was sent');
    const other = serviceRig(['example.com']);
    assert.match((await rejection(instrumentNode.run({ prompt: 'x' }, other.ctx))).message, /permissions\.network does not allow 127\.0\.0\.1:\d+ \(allowed: example\.com\)/);

    const rig = serviceRig(['127.0.0.1']);
    replies.push({ status: 503, body: 'busy', headers: { 'retry-after': '2' } }, { status: 400, body: '{"error":"bad prompt"}' });
    const busy = await rejection(instrumentNode.run({ prompt: 'x' }, rig.ctx));
    assert.ok(busy instanceof NodeError);
    assert.equal(busy.retryable, true);
    assert.equal(busy.retryAfterMs, 2000);
    assert.match(busy.message, /answered 503 Service Unavailable: busy$/);
    const bad = await rejection(instrumentNode.run({ prompt: 'x' }, rig.ctx));
    assert.ok(bad instanceof NodeError);
    assert.equal(bad.retryable, false);
  });
});
