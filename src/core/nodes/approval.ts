import { permanentError } from './support';
import type { NodeImplementation } from './types';

/**
 * A human gate: asks the host (a VS Code dialog, the CLI's prompt or `--yes`) to approve
 * `with.message`. A decline fails the node for good — asking again is the person's call,
 * by running the melody again. Output: `{ approved: true }`.
 */
export const approvalNode: NodeImplementation<'approval'> = {
  kind: 'approval',
  async run(input, ctx) {
    const approved = await ctx.host.approve({ runId: ctx.runId, nodeId: ctx.nodeId, message: input.message }, ctx.signal);
    if (!approved) throw permanentError(`${input.message}: declined`);
    return { output: { approved: true } };
  },
};
