// The Conductor's overhead per assignment — planning, the plan melody, the engine, context
// packing, the gate, the handoff entry, summary.txt, the commit, the tick — against a bare
// model round trip, over a scripted OpenAI-compatible server that answers at once.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { conduct } from '../src/core/conductor/conduct';
import { createWorkspaceEngine, processEnv } from '../src/core/engine/workspaceEngine';
import { nodeFileSystem } from '../src/core/load/fs';
import { loadWorkspaceModel } from '../src/core/load/workspace';
import { createModelProvider } from '../src/core/providers/registry';
import { startOpenAiServer } from '../test/unit/support/openAiServer';
import type { Bench, Figure } from './index';

const TASKS = 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export const bench: Bench = {
  title: 'Conductor: overhead per assignment over a bare model round trip',
  async run(): Promise<Figure[]> {
    const server = await startOpenAiServer({ models: ['m'] });
    const root = mkdtempSync(join(tmpdir(), 'symphony-bench-conduct-'));
    try {
      const bare: number[] = [];
      for (let i = 0; i < 20; i++) {
        server.reply({ text: 'Done: wrote the file.' });
        const started = performance.now();
        const res = await fetch(`${server.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'Do task 1' }] }) });
        await res.text();
        bare.push(performance.now() - started);
      }

      const write = (path: string, text: string) => {
        mkdirSync(join(root, path, '..'), { recursive: true });
        writeFileSync(join(root, path), text);
      };
      write('sheetMusic.md', `## Tasks\n\n${Array.from({ length: TASKS }, (_, i) => `- [ ] Write \`src/f${i}.js\` @core/coder`).join('\n')}\n`);
      write('handoff.md', '# Handoff Log\n\n---\n');
      write('ensembles/core/coder.yaml', `nickname: Viola\nkind: model\nhandles: ["src/**"]\nmodel: { provider: openai-compatible, id: m, baseUrl: "${server.url}" }\n`);
      execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: root });
      execFileSync('git', ['-c', 'user.name=B', '-c', 'user.email=b@example.com', 'commit', '-q', '--allow-empty', '-m', 'start'], { cwd: root });
      execFileSync('git', ['config', 'user.name', 'B'], { cwd: root });
      execFileSync('git', ['config', 'user.email', 'b@example.com'], { cwd: root });
      // Each assignment writes its file in one step, then answers.
      for (let i = 0; i < TASKS; i++) server.reply({ toolCalls: [{ name: 'write_file', arguments: { path: `src/f${i}.js`, content: `exports.f${i} = ${i};\n` } }] }, { text: `Wrote src/f${i}.js.` });
      const models = createModelProvider({ apiKey: async () => undefined, howToSetKey: () => '' });
      const engine = createWorkspaceEngine(root, { host: { name: 'test', approve: async () => true, notify: () => undefined }, models, env: processEnv() });
      const workspace = await loadWorkspaceModel(nodeFileSystem, root);
      const calls = server.calls().length;
      const started = performance.now();
      const report = await conduct(root, { engine, models, workspace, signal: new AbortController().signal });
      const total = performance.now() - started;
      const passed = Object.values(report.assignments).filter((a) => a.status === 'passed').length;
      if (passed !== TASKS) throw new Error(`only ${passed} of ${TASKS} assignments passed: ${JSON.stringify(report.assignments)}`);
      const modelCalls = server.calls().length - calls;
      const perAssignment = total / TASKS;
      const modelTime = (median(bare) * modelCalls) / TASKS;
      return [
        { name: 'bare model round trip (streamed, median)', value: median(bare), unit: 'ms' },
        { name: `conduct of ${TASKS} tasks, whole run (incl. planning and the concerto)`, value: total, unit: 'ms' },
        { name: 'per assignment', value: perAssignment, unit: 'ms', note: `${modelCalls / TASKS} model calls each` },
        { name: 'Conductor overhead per assignment (all but the model)', value: perAssignment - modelTime, unit: 'ms', note: 'guard, sandbox, journal, gate, handoff, summary.txt, commit, tick' },
      ];
    } finally {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    }
  },
};
