import type { NodeKind } from '../model/nodeKinds';
import { approvalNode } from './approval';
import { melodyNode } from './melody';
import { notifyNode } from './notify';
import { readFileNode } from './readFile';
import { shellNode } from './shell';
import { templateNode } from './template';
import { transformNode } from './transform';
import type { NodeImplementation, NodeRegistry } from './types';
import { validateNode } from './validate';
import { vscodeCommandNode } from './vscodeCommand';
import { writeFileNode } from './writeFile';

/**
 * A kind whose code is loaded when a node of it first runs: the model providers, the
 * tokenizer and the agent's tools, git, chambers and the Conductor. A melody of shell and
 * transform nodes — and `symphony run` of it — never evaluates them.
 */
function onFirstRun<K extends NodeKind>(kind: K, load: () => Promise<NodeImplementation<K>>): NodeImplementation<K> {
  let loaded: Promise<NodeImplementation<K>> | undefined;
  return {
    kind,
    run: async (input, ctx) => {
      // A failed load (a broken installation) is not remembered: the next node tries again.
      const impl = await (loaded ??= load().catch((e: unknown) => {
        loaded = undefined;
        throw e;
      }));
      return impl.run(input, ctx);
    },
  };
}

/**
 * Every built-in node kind, for the engine's `nodes:` option. The CLI and the extension
 * pass the same registry; `vscode-command` checks for itself whether its host can run it.
 */
export const builtinNodes: NodeRegistry = {
  shell: shellNode,
  instrument: onFirstRun('instrument', async () => (await import('./instrument')).instrumentNode),
  transform: transformNode,
  template: templateNode,
  validate: validateNode,
  'read-file': readFileNode,
  'write-file': writeFileNode,
  'git-commit': onFirstRun('git-commit', async () => (await import('./gitCommit')).gitCommitNode),
  melody: melodyNode,
  approval: approvalNode,
  summarize: onFirstRun('summarize', async () => (await import('./summarize')).summarizeNode),
  handoff: onFirstRun('handoff', async () => (await import('./handoff')).handoffNode),
  notify: notifyNode,
  'vscode-command': vscodeCommandNode,
  assignment: onFirstRun('assignment', async () => (await import('./assignment')).assignmentNode),
  'merge-chambers': onFirstRun('merge-chambers', async () => (await import('./mergeChambers')).mergeChambersNode),
} satisfies { readonly [K in NodeKind]: NodeImplementation<K> }; // a kind added to NODE_KINDS without an implementation fails here
