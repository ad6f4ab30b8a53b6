import type { ChamberCommands, SetupArgs } from '../deviations/chamberCommands';
import { openDeviationRecordCommand, recordDeviationCommand, resolveDeviationCommand, type RecordServices } from '../deviations/recordCommands';
import type { NewDeviation } from '../../core/deviations/records';
import * as vscode from 'vscode';
import { COMMANDS, VIEWS } from '../commandIds';
import type { SymphonyContext } from '../context';
import { register } from './register';

/** Wires the deviation and chamber commands, with register.ts's error handling. */
export function registerDeviationCommands(ctx: SymphonyContext, s: RecordServices & { readonly chambers: ChamberCommands }): void {
  register(ctx, COMMANDS.recordDeviation, (target, fields) => recordDeviationCommand(s, target, (fields ?? {}) as Partial<NewDeviation>));
  register(ctx, COMMANDS.openDeviationRecord, (target) => openDeviationRecordCommand(s, target));
  register(ctx, COMMANDS.resolveDeviation, (target) => resolveDeviationCommand(s, target));
  register(ctx, COMMANDS.scanDeviations, () => scanDeviations(s));
  register(ctx, COMMANDS.setupChambers, (args) => s.chambers.setup((args ?? {}) as SetupArgs));
  register(ctx, COMMANDS.mergeChambers, () => s.chambers.merge());
  register(ctx, COMMANDS.cleanupTask, (args) => s.chambers.cleanup((args ?? {}) as { archive?: boolean }));
}

/** What Scan for Markers found, also returned to its callers. */
export interface ScanSummary {
  readonly markers: number;
  readonly files: number;
  /** Markers no record in DEVIATIONS.json is linked to. */
  readonly unrecorded: number;
}

/**
 * Symphony: Scan for Markers — rescans the workspace, with progress on the Deviations view,
 * and says what it found with the way to that view.
 */
async function scanDeviations(s: RecordServices): Promise<ScanSummary> {
  await vscode.window.withProgress({ location: { viewId: VIEWS.deviations } }, () => s.index.rescan());
  const all = s.index.all;
  const { recordOf } = s.index.links;
  const summary: ScanSummary = { markers: all.length, files: s.index.files.length, unrecorded: all.filter((m) => !recordOf.has(m.marker)).length };
  const counted = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const show = 'Show Deviations';
  const message = summary.markers
    ? `Symphony: ${counted(summary.markers, 'deviation marker')} in ${counted(summary.files, 'file')}${summary.unrecorded ? `, ${summary.unrecorded} not recorded` : ', all recorded'}.`
    : 'Symphony: no deviation markers in the workspace.';
  void vscode.window.showInformationMessage(message, show).then((choice) => {
    if (choice === show) void vscode.commands.executeCommand(`${VIEWS.deviations}.focus`);
  });
  return summary;
}
