import type { NodeImplementation } from './types';

/** Tells the user something through the host. Output: `{ notified: true, message }`. */
export const notifyNode: NodeImplementation<'notify'> = {
  kind: 'notify',
  run(input, ctx) {
    ctx.host.notify({ level: input.level ?? 'info', message: input.message, runId: ctx.runId });
    return Promise.resolve({ output: { notified: true, message: input.message } });
  },
};
