import * as assert from 'assert';
import * as vscode from 'vscode';
import type { RunResult } from '../../src/core/engine/engine';
import type { RunEvent } from '../../src/core/model/run';
import type { InstrumentCheck } from '../../src/core/providers/check';
import { api, readFile, waitFor, workspaceRoot, writeFile } from './util';

const uri = (...path: string[]) => vscode.Uri.joinPath(workspaceRoot(), ...path);

describe('Model providers in the extension host', () => {
  before(async () => {
    // A script instrument as the fallback: it answers without any model, so the test shows
    // the chain moving on from VS Code's (absent) language models.
    await writeFile(uri('ensembles', 'qa', 'echo.yaml'), 'nickname: Echo\nkind: script\nrole: Repeats the prompt.\nscript: { command: node, args: [echo.js] }\n');
    await writeFile(uri('echo.js'), "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log('echo: '+JSON.parse(s).prompt));\n");
    await writeFile(
      uri('melodies', 'ask-copilot.melody.yaml'),
      ['name: ask-copilot', 'permissions: { commands: [node] }', 'nodes:', '  ask:', '    uses: instrument', '    instrument: backend/reviewer', '    fallback: [qa/echo]', '    with: { prompt: "Say hi" }', ''].join('\n'),
    );
    // Wait until the index knows the new instrument, so the melody validates.
    const { context } = await api();
    await waitFor('the echo instrument in the index', () => context.index.model?.ensembles.refs.has('qa/echo'));
  });

  after(async () => {
    for (const file of [uri('ensembles', 'qa', 'echo.yaml'), uri('echo.js'), uri('melodies', 'ask-copilot.melody.yaml')]) await vscode.workspace.fs.delete(file);
    const { context } = await api();
    await waitFor('the echo instrument to leave the index', () => !context.index.model?.ensembles.refs.has('qa/echo'));
  });

  it('ends a vscode-lm call with what to install when VS Code has no model, and the fallback answers', async () => {
    const result = await vscode.commands.executeCommand<RunResult | undefined>('symphony.runMelody', uri('melodies', 'ask-copilot.melody.yaml'));
    assert.ok(result);
    assert.strictEqual(result.state, 'success', JSON.stringify(result.nodes, null, 2));
    assert.strictEqual(result.nodes.ask!.instrument, 'qa/echo');
    assert.strictEqual(result.nodes.ask!.output, 'echo: Say hi');
    const journal = await readFile(uri('.symphony', 'runs', result.runId, 'journal.jsonl'));
    const fallback = journal
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as RunEvent)
      .find((e): e is Extract<RunEvent, { type: 'node-fallback' }> => e.type === 'node-fallback');
    assert.ok(fallback, 'the run moved along the fallback chain');
    assert.strictEqual(fallback.from, 'backend/reviewer');
    assert.match(fallback.error, /asks VS Code for a model with id gpt-4o, and VS Code has no language model for it: install and sign in to an extension that provides one \(GitHub Copilot Chat, for example\)/);
  });

  it('Check Models says which instruments can be reached and why not', async () => {
    const checks = await vscode.commands.executeCommand<InstrumentCheck[]>('symphony.checkModels', { quiet: true });
    assert.ok(checks);
    const by = Object.fromEntries(checks.map((c) => [c.instrument, c]));
    assert.strictEqual(by['backend/reviewer']!.reachable, false);
    assert.match(by['backend/reviewer']!.detail, /no language model in VS Code/);
    assert.strictEqual(by['qa/echo']!.reachable, true);
    assert.strictEqual(by['research/analyst']!.reachable, false);
    assert.match(by['research/analyst']!.detail, /ANTHROPIC_API_KEY is not set — run "Symphony: Set API Key…"/);
  });
});
