/**
 * What the panels ask for, in one place: each sends an intent, reports the outcome in
 * the status bar and applies the selection the extension suggests.
 */
import type { BoardIntent } from '../../src/protocol/board';
import { request, type IntentResult } from './host';
import { setStatus, update } from './store';

/** Sends an intent; the answer lands in the status bar (refusals as errors). */
export async function perform(intent: BoardIntent): Promise<IntentResult> {
  const result = await request(intent);
  setStatus(result.message, result.ok ? 'info' : 'error');
  if (result.ok && result.select) update({ selection: result.select });
  return result;
}
