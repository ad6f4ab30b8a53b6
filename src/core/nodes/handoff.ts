import { modelLabel } from '../model/instrument';
import { appendHandoff } from '../conductor/handoff';
import { creditedNickname } from './support';
import type { NodeImplementation } from './types';

/** The state log every instrument turn appends to (DESIGN.md §1). */
const HANDOFF_FILE = 'handoff.md';

/**
 * Appends an entry to `handoff.md`: who (the nickname), with which model, what happened
 * and which files. The melody must be allowed to write `handoff.md`; the guard is asked
 * before the conductor's writer touches the file. Output: `{ appended: true }`.
 */
export const handoffNode: NodeImplementation<'handoff'> = {
  kind: 'handoff',
  async run(input, ctx) {
    await ctx.permissions.resolveWrite(HANDOFF_FILE);
    await appendHandoff(ctx.workspaceRoot, {
      nickname: creditedNickname(input.nickname, ctx),
      instrument: ctx.instrument?.ref,
      model: input.model ?? (ctx.instrument?.model ? modelLabel(ctx.instrument.model) : undefined),
      // handoff.md is read by people and by the next model: no secret or masked data in it.
      summary: ctx.redact(input.summary),
      files: input.files?.map((f) => ctx.redact(f)),
    });
    return { output: { appended: true } };
  },
};
