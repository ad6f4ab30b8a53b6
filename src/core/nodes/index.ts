import type { NodeKind } from '../model/nodeKinds';
import { approvalNode } from './approval';
import { assignmentNode } from './assignment';
import { gitCommitNode } from './gitCommit';
import { handoffNode } from './handoff';
import { instrumentNode } from './instrument';
import { melodyNode } from './melody';
import { mergeChambersNode } from './mergeChambers';
import { notifyNode } from './notify';
import { readFileNode } from './readFile';
import { shellNode } from './shell';
import { summarizeNode } from './summarize';
import { templateNode } from './template';
import { transformNode } from './transform';
import type { NodeImplementation, NodeRegistry } from './types';
import { validateNode } from './validate';
import { vscodeCommandNode } from './vscodeCommand';
import { writeFileNode } from './writeFile';

/**
 * Every built-in node kind, for the engine's `nodes:` option. The CLI and the extension
 * pass the same registry; `vscode-command` checks for itself whether its host can run it.
 */
export const builtinNodes: NodeRegistry = {
  shell: shellNode,
  instrument: instrumentNode,
  transform: transformNode,
  template: templateNode,
  validate: validateNode,
  'read-file': readFileNode,
  'write-file': writeFileNode,
  'git-commit': gitCommitNode,
  melody: melodyNode,
  approval: approvalNode,
  summarize: summarizeNode,
  handoff: handoffNode,
  notify: notifyNode,
  'vscode-command': vscodeCommandNode,
  assignment: assignmentNode,
  'merge-chambers': mergeChambersNode,
} satisfies { readonly [K in NodeKind]: NodeImplementation<K> }; // a kind added to NODE_KINDS without an implementation fails here
