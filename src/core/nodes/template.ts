import { interpolate } from '../expr/evaluate';
import { readWorkspaceFile } from './support';
import type { NodeImplementation } from './types';

/**
 * Renders text. An inline `template` arrives already rendered by the engine; a template
 * `file` is read here (through the permission guard) and rendered with the node's
 * expression context. Output: the rendered string.
 */
export const templateNode: NodeImplementation<'template'> = {
  kind: 'template',
  async run(input, ctx) {
    if (input.template !== undefined) return { output: input.template };
    // The schema guarantees exactly one of `template` and `file`.
    const file = await readWorkspaceFile(ctx, input.file!);
    return { output: interpolate(await ctx.render(file.text)) };
  },
};

