import type { NodeImplementation } from './types';

/**
 * Outputs `with.value`. The engine has already evaluated the `${{ }}` expressions in it,
 * so this kind is how a melody computes a value from inputs and other nodes' outputs.
 */
export const transformNode: NodeImplementation<'transform'> = {
  kind: 'transform',
  run(input) {
    return Promise.resolve({ output: input.value });
  },
};
