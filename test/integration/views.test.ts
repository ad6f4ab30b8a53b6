import * as assert from 'assert';
import * as vscode from 'vscode';
import { EnsemblesTree, type EnsembleNode } from '../../src/extension/views/ensemblesTree';
import { MelodiesTree } from '../../src/extension/views/melodiesTree';
import { WorkspaceIndex } from '../../src/extension/workspaceIndex';
import { api, cleanUpAfterEach, scratch, waitFor, workspaceRoot, writeFile } from './util';

/** The rendered rows of a tree: `label — description`, depth-first, two levels. */
async function rows<T>(tree: vscode.TreeDataProvider<T>): Promise<string[]> {
  const out: string[] = [];
  for (const parent of (await tree.getChildren()) ?? []) {
    const item = await tree.getTreeItem(parent);
    out.push(`${String(item.label)} — ${String(item.description)}`);
    for (const child of (await tree.getChildren(parent)) ?? []) {
      const c = await tree.getTreeItem(child);
      out.push(`  ${String(c.label)} — ${String(c.description)}`);
    }
  }
  return out;
}

describe('Ensembles view', () => {
  cleanUpAfterEach();

  it('shows ensembles with their instruments: nickname, kind and model', async () => {
    const { views } = await api();
    assert.deepStrictEqual(await rows(views.ensembles), [
      'Backend — backend · 2 instruments',
      '  Tuba — model · openai-compatible/llama3.1',
      '  Cello — model · vscode-lm/gpt-4o',
      'Quality — qa · 1 instrument',
      '  Timpani — script · node --test test/',
      'Research — research · 2 instruments',
      '  Oboe — model · anthropic/claude-sonnet-4-5',
      '  Celesta — model · local/model',
    ]);
  });

  it('opens an instrument definition when its row is clicked', async () => {
    const { views } = await api();
    const backend = (await views.ensembles.getChildren())![0]!;
    const tuba = (await views.ensembles.getChildren(backend))!.find((n: EnsembleNode) => n.kind === 'instrument' && n.instrument.nickname === 'Tuba')!;
    const item = views.ensembles.getTreeItem(tuba);
    assert.ok(item.command);
    await vscode.commands.executeCommand(item.command.command, ...(item.command.arguments ?? []));
    const editor = await waitFor('the definition to open', () => vscode.window.activeTextEditor);
    assert.ok(editor.document.uri.path.endsWith('/ensembles/backend/database.yaml'), editor.document.uri.path);
    assert.match(editor.document.getText(), /nickname: Tuba/);
  });

  it('refreshes when an instrument file is added, changed or deleted', async () => {
    const { views } = await api();
    const file = scratch('ensembles', 'qa', 'linter.yaml');
    await writeFile(file, 'nickname: Triangle\nkind: script\nscript: { command: node, args: [--check, src/greet.js] }\n');
    await waitFor('Triangle in the tree', async () => (await rows(views.ensembles)).includes('  Triangle — script · node --check src/greet.js'));
    await writeFile(file, 'nickname: Piccolo\nkind: script\nscript: { command: node }\n');
    await waitFor('the rename to Piccolo', async () => (await rows(views.ensembles)).includes('  Piccolo — script · node'));
    await vscode.workspace.fs.delete(file);
    await waitFor('Piccolo to go', async () => !(await rows(views.ensembles)).some((r) => r.includes('Piccolo')));
  });
});

describe('Melodies view', () => {
  // Earlier suites run melodies; the last run's mark (e.g. "· ✓ 2m ago") is checked on its own.
  const withoutLastRun = (r: string) => r.replace(/ · [✓✗⊘…] .*$/, '');

  it('lists the melody files with their triggers', async () => {
    const { views } = await api();
    const listed = async () => (await rows(views.melodies)).map(withoutLastRun);
    const expected = [
      'build — commit · manual',
      '  on commit — main',
      '  on manual — ',
      'code-review — needs a model · save · schedule',
      '  on save — src/**/*.js',
      '  on schedule — 0 9 * * 1-5',
      'hello — manual',
      '  on manual — ',
      'release-notes — needs a model · melody',
      '  on melody — after build (success)',
    ];
    // The melodies of the tests before are gone once the index has seen their files deleted.
    await waitFor('the Melodies view to list the demo’s melodies', async () => JSON.stringify(await listed()) === JSON.stringify(expected)).catch(() => undefined);
    assert.deepStrictEqual(await listed(), expected);
  });

  it('shows a melody’s name, file, nodes, triggers and missing models when its row is hovered', async () => {
    const { views } = await api();
    const node = (await views.melodies.getChildren()).find((n) => n.melody.name === 'code-review')!;
    const item = views.melodies.resolveTreeItem(views.melodies.getTreeItem(node), node);
    const tooltip = item.tooltip as vscode.MarkdownString;
    assert.match(tooltip.value, /^\*\*code-review\*\* — `melodies\/code-review\.melody\.yaml`/);
    assert.match(tooltip.value, /\d+ nodes · triggers: save · schedule/);
    assert.match(tooltip.value, /\$\(warning\) node \\`review\\` needs a model/, 'the warning, its Markdown escaped');
    assert.ok(tooltip.supportThemeIcons);
  });

  it('shows each melody’s last run', async () => {
    const { views } = await api();
    const hello = vscode.Uri.joinPath(workspaceRoot(), 'melodies', 'hello.melody.yaml');
    const result = await vscode.commands.executeCommand<{ state: string }>('symphony.runMelody', hello, { inputs: {} });
    assert.strictEqual(result.state, 'success');
    await waitFor('hello’s last run in the view', async () => (await rows(views.melodies)).includes('hello — manual · ✓ just now'));
  });
});

describe('views before the first workspace load', () => {
  // activate() returns before the workspace is read; until then the views must wait for it
  // (VS Code shows their progress bar), not answer with an empty tree (the welcome text).
  it('wait for the load and then show its rows', async () => {
    const { context } = await api();
    const log = vscode.window.createOutputChannel('Symphony views test', { log: true });
    const index = new WorkspaceIndex(context.options, log);
    try {
      const melodies = new MelodiesTree(index).getChildren();
      const ensembles = new EnsemblesTree(index).getChildren();
      assert.ok(melodies instanceof Promise && ensembles instanceof Promise, 'the trees wait for the load');
      void index.refresh();
      assert.deepStrictEqual(
        (await melodies).map((n) => n.melody.name),
        ['build', 'code-review', 'hello', 'release-notes'],
      );
      assert.strictEqual((await ensembles).length, 3);
      assert.ok(Array.isArray(new MelodiesTree(index).getChildren()), 'once loaded, the rows come at once');
    } finally {
      index.dispose();
      log.dispose();
    }
  });
});
