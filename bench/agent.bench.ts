// The agent's tool loop against the bare HTTP round trip: what Symphony adds per model step
// (the AI SDK's request building and SSE parsing, the budget check with a real tokenizer,
// the tool call through the permission guard, journaling, the artifact of what was read).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWorkspaceEngine } from '../src/core/engine/workspaceEngine';
import { loadMelody } from '../src/core/load/melody';
import { createModelProvider } from '../src/core/providers/registry';
import { startOpenAiServer } from '../test/unit/support/openAiServer';
import type { Bench, Figure } from './index';

const STEPS = 30;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export const bench: Bench = {
  title: 'Agent tool loop: overhead per step over the bare HTTP round trip',
  async run(): Promise<Figure[]> {
    const server = await startOpenAiServer({ models: ['bench-model'] });
    const root = mkdtempSync(join(tmpdir(), 'symphony-bench-agent-'));
    try {
      // The bare round trip: the same streamed answer, fetched and read whole.
      const bare: number[] = [];
      for (let i = 0; i < STEPS; i++) {
        server.reply({ toolCalls: [{ name: 'read_file', arguments: { path: 'src/a.ts' } }] });
        const started = performance.now();
        const res = await fetch(`${server.url}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'bench-model', stream: true, messages: [{ role: 'user', content: 'Read src/a.ts' }] }),
        });
        await res.text();
        bare.push(performance.now() - started);
      }

      mkdirSync(join(root, 'src'));
      mkdirSync(join(root, 'ensembles', 'core'), { recursive: true });
      writeFileSync(join(root, 'sheetMusic.md'), '# bench\n');
      writeFileSync(join(root, 'src', 'a.ts'), 'export const a = 1;\n'.repeat(50));
      writeFileSync(join(root, 'ensembles', 'core', 'coder.yaml'), `nickname: Viola\nkind: model\nmodel: { provider: openai-compatible, id: bench-model, baseUrl: "${server.url}" }\n`);
      const text = `name: agent\nnodes:\n  work: { uses: instrument, instrument: core/coder, with: { prompt: "Read src/a.ts again and again.", tools: [read], maxSteps: ${STEPS + 1} } }\n`;
      const file = join(root, 'agent.melody.yaml');
      writeFileSync(file, text);
      const loaded = loadMelody(text, file, { instruments: new Set(['core/coder']) });
      if (!loaded.ok) throw new Error(loaded.error.map((d) => d.message).join('\n'));
      const engine = createWorkspaceEngine(root, {
        host: { name: 'test', approve: async () => true, notify: () => undefined },
        models: createModelProvider({ apiKey: async () => undefined, howToSetKey: () => '' }),
      });
      for (let i = 0; i < STEPS; i++) server.reply({ toolCalls: [{ name: 'read_file', arguments: { path: 'src/a.ts' } }] });
      server.reply({ text: 'done' });
      const before = server.calls().length;
      const started = performance.now();
      const result = await engine.run({ melody: loaded.value.melody, file, text });
      const total = performance.now() - started;
      if (result.state !== 'success') throw new Error(`the bench run ended ${result.state}: ${result.nodes.work?.error}`);
      const steps = server.calls().length - before;
      const perStep = total / steps;
      const bareMs = median(bare);
      return [
        { name: 'bare HTTP round trip (streamed answer, median)', value: bareMs, unit: 'ms' },
        { name: `agent step, whole run / ${steps} steps (incl. engine start and end)`, value: perStep, unit: 'ms' },
        { name: 'Symphony overhead per step', value: perStep - bareMs, unit: 'ms', note: 'SDK, tokenizer budget check, guard, journal, artifacts' },
        { name: 'step / bare round trip', value: perStep / bareMs, unit: '×' },
      ];
    } finally {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    }
  },
};
