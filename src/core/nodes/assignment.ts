import { runAssignment } from '../conductor/assignment';
import type { NodeImplementation } from './types';

/** One task of sheetMusic.md carried out as the Conductor does (see conductor/assignment.ts). */
export const assignmentNode: NodeImplementation<'assignment'> = {
  kind: 'assignment',
  run: (input, ctx) => runAssignment(input, ctx),
};
