import { permanentError } from './support';
import type { NodeImplementation } from './types';

/**
 * Runs another melody as a child run of this one. The child records its own run; this
 * node succeeds only when the child does, and outputs the child's node outputs by node id.
 * A failed child is not retried as a whole here: its own nodes carry their own `retry:`.
 */
export const melodyNode: NodeImplementation<'melody'> = {
  kind: 'melody',
  async run(input, ctx) {
    const child = await ctx.runMelody(input.melody, input.inputs ?? {});
    if (child.status !== 'success') throw permanentError(`sub-melody ${input.melody} ended ${child.status} (run ${child.runId})`);
    return { output: child.outputs };
  },
};
