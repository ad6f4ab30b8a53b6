import * as assert from 'assert';
import * as vscode from 'vscode';
import type { RunResult } from '../../src/core/engine/engine';
import { api, closeAllEditors, EXTENSION_ID, gitExtensionCaughtUp, symphonyDiagnostics, waitFor, workspaceRoot } from './util';

const uri = (...path: string[]) => vscode.Uri.joinPath(workspaceRoot(), ...path);
const needsModel = (file: vscode.Uri) => symphonyDiagnostics(file).filter((d) => /needs a model/.test(d.message));

interface Walkthrough {
  id: string;
  steps: { id: string; title: string; description: string; media: { markdown?: string; image?: string }; completionEvents?: string[] }[];
}

/** `[label](command:id?args)` links of a step's description, with their JSON arguments. */
function commandLinks(description: string): { id: string; args: unknown[] }[] {
  return [...description.matchAll(/\]\(command:([\w.]+)(?:\?([^)]*))?\)/g)].map((m) => ({ id: m[1]!, args: m[2] ? (JSON.parse(decodeURIComponent(m[2])) as unknown[]) : [] }));
}

describe('first run: the demo without a model', () => {
  const settings = () => vscode.workspace.getConfiguration('symphony');
  let triggersBefore: boolean | undefined;

  before(async () => {
    const { triggers } = await api();
    // With triggers still off: a commit of an earlier test seen late would start `build`.
    await gitExtensionCaughtUp();
    triggersBefore = settings().inspect<boolean>('triggers.enabled')?.globalValue;
    await settings().update('triggers.enabled', true, vscode.ConfigurationTarget.Global);
    await waitFor('triggers to be on', () => triggers.dispatcher() !== undefined);
  });

  after(async () => {
    await settings().update('triggers.enabled', triggersBefore, vscode.ConfigurationTarget.Global);
    const { context } = await api();
    await context.models.apiKeys.delete('ANTHROPIC_API_KEY');
    await context.index.refresh();
    await closeAllEditors();
  });

  it('warns (not errors) at the nodes whose models are not set up, and clears once a key is stored', async () => {
    const { context } = await api();
    const review = uri('melodies', 'code-review.melody.yaml');
    const notes = uri('melodies', 'release-notes.melody.yaml');
    const [warning] = await waitFor('the warning on code-review', () => needsModel(review).length === 1 && needsModel(review));
    assert.strictEqual(warning!.severity, vscode.DiagnosticSeverity.Warning);
    assert.strictEqual(warning!.range.start.line, 28, 'at the review node’s instrument');
    assert.match(warning!.message, /backend\/reviewer: .*research\/analyst: its API key ANTHROPIC_API_KEY is not set — run "Symphony: Set API Key…"/);
    assert.strictEqual(needsModel(notes).length, 1);

    await context.models.apiKeys.set('ANTHROPIC_API_KEY', 'sk-ant-not-a-real-key');
    await context.index.refresh();
    await waitFor('the warnings to clear with the key stored', () => needsModel(review).length === 0 && needsModel(notes).length === 0);
    await context.models.apiKeys.delete('ANTHROPIC_API_KEY');
    await context.index.refresh();
    await waitFor('the warnings back without it', () => needsModel(notes).length === 1);
  });

  it('does not chain a melody that needs a model after a green build; says so once, and nothing fails', async () => {
    const { context, models } = await api();
    const held = () => models.holds().held.get('release-notes') ?? 0;
    const before = held();
    const notesRuns = () => context.runs.model.snapshot.runs.filter((r) => r.melody === 'release-notes').length;
    const runsBefore = notesRuns();
    const failures: string[] = [];
    const sub = context.runs.onDidAnnounce((a) => a.state === 'failure' && failures.push(a.melody));
    try {
      for (let n = 1; n <= 2; n++) {
        const build = await vscode.commands.executeCommand<RunResult>('symphony.runMelody', 'melodies/build.melody.yaml', { inputs: {} });
        assert.strictEqual(build.state, 'success');
        await waitFor(`release-notes to be held back after build ${n}`, () => held() === before + n);
      }
      assert.strictEqual(models.holds().notices, 1, 'one notification for the session, not one per run');
      assert.strictEqual(notesRuns(), runsBefore, 'release-notes did not start');
      assert.deepStrictEqual(failures, []);
    } finally {
      sub.dispose();
    }
  });
});

describe('the walkthrough', () => {
  const walkthrough = () => (vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { walkthroughs: Walkthrough[] } }).contributes.walkthroughs[0]!;

  afterEach(() => closeAllEditors());

  it('is contributed with its five steps, their media shipped, and every button a registered command', async () => {
    await api();
    const w = walkthrough();
    assert.deepStrictEqual(
      w.steps.map((s) => s.id.replace('symphony.welcome.', '')),
      ['init', 'model', 'hello', 'board', 'conduct'],
    );
    const extensionUri = vscode.extensions.getExtension(EXTENSION_ID)!.extensionUri;
    const commands = new Set(await vscode.commands.getCommands(true));
    for (const step of w.steps) {
      const media = step.media.markdown ?? step.media.image!;
      await vscode.workspace.fs.stat(vscode.Uri.joinPath(extensionUri, media));
      assert.ok(step.completionEvents?.length, `${step.id} completes on an event`);
      for (const link of commandLinks(step.description)) assert.ok(commands.has(link.id), `${step.id}: ${link.id} is registered`);
      for (const e of step.completionEvents ?? []) if (e.startsWith('onCommand:')) assert.ok(commands.has(e.slice('onCommand:'.length)), `${step.id}: ${e}`);
    }
  });

  it('opens at the model step from "Set Up a Model", and the hello step runs hello', async () => {
    await vscode.commands.executeCommand('symphony.openModelSetup');
    await waitFor('the walkthrough editor', () => /Symphony|Welcome|Walkthrough/.test(vscode.window.tabGroups.activeTabGroup.activeTab?.label ?? '') && vscode.window.tabGroups.activeTabGroup.activeTab!.label);

    const hello = walkthrough().steps.find((s) => s.id === 'symphony.welcome.hello')!;
    const [link] = commandLinks(hello.description);
    const result = await vscode.commands.executeCommand<RunResult>(link!.id, ...link!.args, { inputs: {} });
    assert.strictEqual(result.melody, 'hello');
    assert.strictEqual(result.state, 'success');
  });
});
