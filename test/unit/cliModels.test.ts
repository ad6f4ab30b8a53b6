import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { cli, tempDir } from './helpers';

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('symphony models', () => {
  it('lists every instrument with its provider and whether it can be reached now, and why not (exit 1)', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'sheetMusic.md'), '# s\n');
    const e = join(root, 'ensembles', 'core');
    mkdirSync(e, { recursive: true });
    const port = await closedPort();
    writeFileSync(join(e, 'ollama.yaml'), `nickname: Tuba\nkind: model\nmodel: { provider: openai-compatible, id: llama3.1, baseUrl: "http://127.0.0.1:${port}/v1" }\n`);
    writeFileSync(join(e, 'claude.yaml'), 'nickname: Harp\nkind: model\nmodel: { provider: anthropic, id: claude-sonnet-4-5 }\n');
    writeFileSync(join(e, 'copilot.yaml'), 'nickname: Viola\nkind: model\nmodel: { provider: vscode-lm, family: gpt-4o }\n');
    writeFileSync(join(e, 'lint.yaml'), 'nickname: Drum\nkind: script\nscript: { command: node, args: [lint.js] }\n');

    const r = await cli(root, ['models', '--json'], { env: { PATH: process.env.PATH } });
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as { ok: boolean; instruments: { instrument: string; provider: string; model: string; reachable: boolean; detail: string }[] };
    assert.equal(out.ok, false);
    const by = Object.fromEntries(out.instruments.map((i) => [i.instrument, i]));
    assert.deepEqual(Object.keys(by).sort(), ['core/claude', 'core/copilot', 'core/lint', 'core/ollama']);
    assert.equal(by['core/claude']!.reachable, false);
    assert.match(by['core/claude']!.detail, /no API key: ANTHROPIC_API_KEY is not set — set the environment variable ANTHROPIC_API_KEY in the shell that runs symphony/);
    assert.match(by['core/copilot']!.detail, /only exist inside VS Code/);
    assert.equal(by['core/ollama']!.reachable, false);
    assert.equal(by['core/ollama']!.model, 'llama3.1');
    assert.deepEqual([by['core/lint']!.reachable, by['core/lint']!.provider], [true, 'script']);

    const text = await cli(root, ['models'], { env: { PATH: process.env.PATH } });
    assert.match(text.stdout, /^✓ core\/lint \(Drum\) — script node: runs \/.*node$/m);
    assert.match(text.stdout, /^✗ core\/claude \(Harp\) — anthropic claude-sonnet-4-5: no API key/m);
    assert.match(text.stderr, /3 instruments of 4 cannot be reached/);
  });
});
