import { z } from 'zod';

/** `.symphony/MISSION_CONTEXT.json`: what the user asked for and what has been learnt since. */
export const missionContextSchema = z.strictObject({
  original_request: z.string().meta({ description: 'The request as the user first made it.' }),
  current_understanding: z.string().meta({ description: 'What the request means now, after the work so far.' }),
  discovered_requirements: z.array(z.string()).meta({ description: 'Requirements found along the way.' }),
});
export type MissionContext = z.output<typeof missionContextSchema>;
