import * as vscode from 'vscode';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelSetup, WorkspaceModel } from '../../core/load/workspace';
import { apiKeyName } from '../../core/providers/names';
import type { Melody } from '../../core/model/melody';
import { describeUnserved, unservedNodes, type UnservedNode } from '../../core/providers/readiness';
import { COMMANDS } from '../commandIds';
import type { SymphonyContext } from '../context';
import type { SecretVault } from '../runs/secrets';
import { NO_MODEL_HELP } from './vscodeLm';

/** The walkthrough (package.json `contributes.walkthroughs`) and its step that sets up a model. */
export const WALKTHROUGH = { category: 'symphony-dev.symphony#symphony.welcome', modelStep: 'symphony-dev.symphony#symphony.welcome.model' } as const;

/** How a key is set in VS Code; the registry's messages say the same. */
export const howToSetKey = (name: string): string => `run "Symphony: Set API Key…" and choose ${name}`;

/**
 * Whether a model is set up, as VS Code sees it: keys in secret storage or the editor's
 * environment, and the language models VS Code offers now (asking costs no request).
 */
export function extensionModelSetup(apiKeys: SecretVault): ModelSetup {
  return {
    hasApiKey: async (name) => Boolean((await apiKeys.get(name)) ?? process.env[name]),
    howToSetKey,
    vscodeLm: async (spec) => {
      const selector = { ...(spec.vendor ? { vendor: spec.vendor } : {}), ...(spec.family ? { family: spec.family } : {}), ...(spec.id ? { id: spec.id } : {}) };
      if ((await vscode.lm.selectChatModels(selector)).length) return undefined;
      return (await vscode.lm.selectChatModels({})).length ? `VS Code offers no language model matching ${JSON.stringify(selector)}` : NO_MODEL_HELP;
    },
  };
}

/** Symphony: Set Up a Model — the walkthrough's model step: VS Code's models, Ollama, an API key, a GGUF file. */
export async function openModelSetup(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.openWalkthrough', { category: WALKTHROUGH.category, step: WALKTHROUGH.modelStep }, false);
}

/** The nodes of a melody that no set-up model can serve, from the index's latest load. */
export function unservedIn(ctx: SymphonyContext, melody: Melody): UnservedNode[] {
  const problems = ctx.index.model?.context.modelProblems;
  return problems?.size ? unservedNodes(melody, problems) : [];
}

/** Per window: the "needs a model" notifications shown (one a session is enough) and the runs held back, by melody. */
const state = new WeakMap<SymphonyContext, { notices: number; held: Map<string, number> }>();
const stateOf = (ctx: SymphonyContext) => {
  let s = state.get(ctx);
  if (!s) state.set(ctx, (s = { notices: 0, held: new Map() }));
  return s;
};

/**
 * Why a trigger should not start this melody: a node needs a model and none is set up.
 * The first time in a session it also says so in a notification whose button opens the
 * model setup; after that only the log says it. Undefined when the melody can run.
 */
export function holdForModels(ctx: SymphonyContext, melody: Melody, started: string): string | undefined {
  const unserved = unservedIn(ctx, melody);
  if (!unserved.length) return undefined;
  const reason = `it needs a model, and none is set up here: ${unserved.map(describeUnserved).join('; ')}`;
  const s = stateOf(ctx);
  s.held.set(melody.name, (s.held.get(melody.name) ?? 0) + 1);
  if (s.notices === 0) {
    s.notices++;
    const setUp = 'Set Up a Model';
    const check = 'Check Models';
    void vscode.window
      .showInformationMessage(
        `Symphony: ${melody.name} did not start ${started}: it needs a model, and none is set up here. Melodies that need one start by themselves again once one is.`,
        setUp,
        check,
      )
      .then((choice) => {
        if (choice === setUp) void openModelSetup();
        if (choice === check) void vscode.commands.executeCommand(COMMANDS.checkModels);
      });
  }
  return reason;
}

/**
 * The walkthrough's completion keys: `symphony.workspaceInitialized` once the folder has
 * its sheet music, `symphony.modelReady` once some model is known to be set up — a key
 * stored, a VS Code model offered, a GGUF file present. A keyless server on this machine
 * (Ollama) is not known until it answers: *Check Models* completes that step instead.
 */
async function updateWalkthroughContext(model: WorkspaceModel | undefined): Promise<void> {
  const initialized = model ? await stat(join(model.root, 'sheetMusic.md')).then(() => true, () => false) : false;
  const problems = model?.context.modelProblems;
  const ready = (model?.ensembles.ensembles ?? [])
    .flatMap((e) => e.instruments)
    .some((i) => i.kind === 'model' && i.model && problems !== undefined && !problems.has(i.ref) && (i.model.provider !== 'openai-compatible' || apiKeyName(i.model) !== undefined));
  await vscode.commands.executeCommand('setContext', 'symphony.workspaceInitialized', initialized);
  await vscode.commands.executeCommand('setContext', 'symphony.modelReady', ready);
}

/** What the model set-up shows the integration tests. */
export interface ModelSetupApi {
  /** How often this window said "needs a model" (at most once), and held each melody back. */
  holds(): { readonly notices: number; readonly held: ReadonlyMap<string, number> };
}

/**
 * Keeps the set-up warnings current: VS Code's language models come and go with the
 * extensions that provide them, and a stored key changes what is set up.
 */
export function registerModelSetup(ctx: SymphonyContext): ModelSetupApi {
  ctx.extension.subscriptions.push(
    vscode.lm.onDidChangeChatModels(() => ctx.index.scheduleRefresh()),
    ctx.index.onDidChange((model) => void updateWalkthroughContext(model)),
  );
  void updateWalkthroughContext(ctx.index.model);
  return { holds: () => stateOf(ctx) };
}
