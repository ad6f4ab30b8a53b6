import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadWorkspaceModel, loadWorkspaceModelInStages, validatePaths } from '../../src/core/load/workspace';
import { nodeFileSystem } from '../../src/core/load/fs';
import { modelSetupProblem } from '../../src/core/providers/readiness';
import type { Instrument } from '../../src/core/model/instrument';
import { cli, tempDir } from './helpers';

const instrument = (ref: string, model: Instrument['model'], kind: Instrument['kind'] = 'model') => ({ ref, nickname: ref, kind, model, file: `/ws/ensembles/${ref}.yaml` }) as Instrument;

/** A workspace with one model of each sort, and melodies that call them. */
function workspace(): string {
  const root = tempDir('symphony-model-setup-');
  const files: Record<string, string> = {
    'sheetMusic.md': '# s\n',
    'ensembles/core/ensemble.yaml': 'name: Core\n',
    'ensembles/core/claude.yaml': 'nickname: Harp\nkind: model\nmodel: { provider: anthropic, id: claude-sonnet-4-5 }\n',
    'ensembles/core/copilot.yaml': 'nickname: Violin\nkind: model\nmodel: { provider: vscode-lm, family: gpt-4o }\n',
    'ensembles/core/ollama.yaml': 'nickname: Cello\nkind: model\nmodel: { provider: openai-compatible, id: llama3.1, baseUrl: "http://127.0.0.1:11434/v1" }\n',
    'ensembles/core/tester.yaml': 'nickname: Timpani\nkind: script\nscript: { command: node, args: ["-e", "1"] }\n',
    'needs.melody.yaml': [
      'name: needs',
      'nodes:',
      '  review:',
      '    uses: instrument',
      '    instrument: core/copilot',
      '    fallback: [core/claude]',
      '    with: { prompt: hi }',
      '  local:',
      '    uses: instrument',
      '    instrument: core/ollama',
      '    with: { prompt: hi }',
      '  rescued:',
      '    uses: summarize',
      '    instrument: core/claude',
      '    fallback: [core/tester]',
      '    with: { text: hi }',
      '',
    ].join('\n'),
  };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  return root;
}

describe('models that are not set up', () => {
  const probe = { hasApiKey: async (n: string) => n === 'SET_KEY', howToSetKey: (n: string) => `set ${n}`, workspaceRoot: '/nowhere' };

  it('names what is missing, without calling anything', async () => {
    assert.match((await modelSetupProblem(instrument('a/b', { provider: 'anthropic', id: 'x' }), probe))!, /ANTHROPIC_API_KEY is not set — set ANTHROPIC_API_KEY/);
    assert.equal(await modelSetupProblem(instrument('a/b', { provider: 'anthropic', id: 'x', apiKeyEnv: 'SET_KEY' }), probe), undefined);
    assert.match((await modelSetupProblem(instrument('a/b', { provider: 'vscode-lm' }), probe))!, /only inside VS Code/);
    assert.equal(await modelSetupProblem(instrument('a/b', { provider: 'vscode-lm' }), { ...probe, vscodeLm: async () => undefined }), undefined);
    assert.match((await modelSetupProblem(instrument('a/b', { provider: 'local', path: 'models/m.gguf' }), probe))!, /GGUF file models\/m\.gguf is not there/);
    assert.equal(await modelSetupProblem(instrument('a/b', { provider: 'openai-compatible', id: 'llama3.1', baseUrl: 'http://127.0.0.1:11434/v1' }), probe), undefined, 'a server on this machine is told by a call, not here');
    assert.match((await modelSetupProblem(instrument('a/b', { provider: 'openai-compatible', id: 'gpt-4o-mini' }), probe))!, /OPENAI_API_KEY/);
    assert.equal(await modelSetupProblem(instrument('a/b', undefined, 'script'), probe), undefined);
  });

  it('warns at the instrument of a node none of whose models is set up — a warning, not an error', async () => {
    const root = workspace();
    const model = await loadWorkspaceModel(nodeFileSystem, root, 'ensembles', probe);
    const needs = model.melodies.find((m) => m.name === 'needs')!;
    assert.ok(needs.melody, 'the melody still loads and runs');
    const warnings = needs.diagnostics.filter((d) => d.code === 'model-setup');
    assert.deepEqual(warnings.map((d) => [d.severity, d.range.start.line, d.range.start.column]), [['warning', 5, 17]]);
    assert.match(warnings[0]!.message, /^node `review` needs a model, and none of its instruments \(with the fallbacks\) is set up here — core\/copilot: .*only inside VS Code; core\/claude: its API key ANTHROPIC_API_KEY is not set/);
    const without = await loadWorkspaceModel(nodeFileSystem, root);
    assert.equal(without.melodies[0]!.diagnostics.length, 0, 'without a probe, nothing is said');
    const report = await validatePaths(nodeFileSystem, [root], { ...probe, hasApiKey: async () => true, vscodeLm: async () => undefined });
    assert.deepEqual(report.diagnostics, [], 'with a key and a VS Code model, the node is served');
  });

  it('in stages: the workspace before the probes answer, then the same warnings as in one go', async () => {
    const root = workspace();
    // An editor's secret storage that does not answer until the test lets it.
    let answer = () => undefined as void;
    const asked = new Promise<void>((resolve) => (answer = resolve));
    const slow = { ...probe, hasApiKey: async (n: string) => (await asked, probe.hasApiKey(n)) };
    const staged = await loadWorkspaceModelInStages(nodeFileSystem, root, 'ensembles', slow);
    assert.deepEqual(staged.model, await loadWorkspaceModel(nodeFileSystem, root), 'every file checked, no model-setup warning yet');
    answer();
    assert.deepEqual(await staged.withModelSetup, await loadWorkspaceModel(nodeFileSystem, root, 'ensembles', probe));
    const needs = (await staged.withModelSetup)!.melodies.find((m) => m.name === 'needs')!;
    assert.deepEqual(needs.diagnostics.map((d) => d.code), ['model-setup']);
  });

  it('symphony validate prints the warning and exits 0', async () => {
    const root = workspace();
    const r = await cli(root, ['validate', '.'], { env: { PATH: process.env.PATH } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^needs\.melody\.yaml:5:17: warning: node `review` needs a model/m);
    assert.match(r.stderr, /valid \(1 warning\)/);
    const keyed = await cli(root, ['validate', '.'], { env: { PATH: process.env.PATH, ANTHROPIC_API_KEY: 'sk-test' } });
    assert.equal(keyed.stdout, '', 'with the key in the environment, claude serves the node');
  });
});
