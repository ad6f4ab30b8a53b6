import { schemaErrors } from '../engine/outputs';
import { permanentError } from './support';
import type { NodeImplementation } from './types';

/**
 * Checks `with.value` against the JSON Schema `with.schema`. A mismatch fails the node with
 * every problem listed; the same value will not match on a second try, so it is not retried.
 * Output: `{ valid: true, value }`.
 */
export const validateNode: NodeImplementation<'validate'> = {
  kind: 'validate',
  run(input) {
    const problems = schemaErrors(input.schema, input.value);
    if (problems.length) {
      const list = problems.map((p) => `- ${p}`).join('\n');
      return Promise.reject(permanentError(`the value does not match the schema (${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}):\n${list}`));
    }
    return Promise.resolve({ output: { valid: true, value: input.value } });
  },
};
