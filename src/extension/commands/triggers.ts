import { COMMANDS } from '../commandIds';
import type { SymphonyContext } from '../context';
import { registerTriggers, showTriggers, type TriggersApi } from '../triggers/register';
import { register } from './register';

/** Starts the trigger dispatcher and registers Show Triggers; returns the triggers' API. */
export function registerTriggerCommands(ctx: SymphonyContext): TriggersApi {
  const api = registerTriggers(ctx);
  register(ctx, COMMANDS.showTriggers, () => showTriggers(ctx, api));
  return api;
}
