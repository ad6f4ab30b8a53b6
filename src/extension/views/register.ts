import * as vscode from 'vscode';
import { VIEWS } from '../commandIds';
import type { SymphonyContext } from '../context';
import { EnsemblesTree } from './ensemblesTree';
import { MelodiesTree } from './melodiesTree';
import { registerRunsView, type RunsTree } from '../runs/tree';

/** The trees behind the Symphony views, exposed to integration tests through the API. */
export interface Views {
  readonly ensembles: EnsemblesTree;
  readonly melodies: MelodiesTree;
  readonly runs: RunsTree;
}

/** Registers the views. The Deviations view is registered with the rest of deviations (deviations/register.ts). */
export function registerViews(ctx: SymphonyContext): Views {
  const ensembles = new EnsemblesTree(ctx.index);
  const melodies = new MelodiesTree(ctx.index, () => ctx.runs.model.snapshot.runs, ctx.runs.model.onDidChange);
  const runs = registerRunsView(ctx);
  ctx.extension.subscriptions.push(
    vscode.window.createTreeView(VIEWS.ensembles, { treeDataProvider: ensembles, showCollapseAll: true }),
    vscode.window.createTreeView(VIEWS.melodies, { treeDataProvider: melodies, showCollapseAll: true }),
  );
  return { ensembles, melodies, runs };
}
