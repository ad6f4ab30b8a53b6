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

/**
 * A view with nothing to show yet, so VS Code renders its `viewsWelcome` empty state
 * (an unregistered view would say "no data provider" instead).
 */
class EmptyTree implements vscode.TreeDataProvider<never> {
  getChildren(): never[] {
    return [];
  }
  getTreeItem(node: never): vscode.TreeItem {
    return node;
  }
}

/** Registers the views. Deviations shows its empty state until its issue lands. */
export function registerViews(ctx: SymphonyContext): Views {
  const ensembles = new EnsemblesTree(ctx.index);
  const melodies = new MelodiesTree(ctx.index);
  const runs = registerRunsView(ctx);
  ctx.extension.subscriptions.push(
    vscode.window.createTreeView(VIEWS.ensembles, { treeDataProvider: ensembles, showCollapseAll: true }),
    vscode.window.createTreeView(VIEWS.melodies, { treeDataProvider: melodies, showCollapseAll: true }),
    vscode.window.registerTreeDataProvider(VIEWS.deviations, new EmptyTree()),
  );
  return { ensembles, melodies, runs };
}
