import type { ChamberCommands, SetupArgs } from '../deviations/chamberCommands';
import { openDeviationRecordCommand, recordDeviationCommand, resolveDeviationCommand, type RecordServices } from '../deviations/recordCommands';
import type { NewDeviation } from '../../core/deviations/records';
import { COMMANDS } from '../commandIds';
import type { SymphonyContext } from '../context';
import { register } from './register';

/** Wires the deviation and chamber commands, with register.ts's error handling. */
export function registerDeviationCommands(ctx: SymphonyContext, s: RecordServices & { readonly chambers: ChamberCommands }): void {
  register(ctx, COMMANDS.recordDeviation, (target, fields) => recordDeviationCommand(s, target, (fields ?? {}) as Partial<NewDeviation>));
  register(ctx, COMMANDS.openDeviationRecord, (target) => openDeviationRecordCommand(s, target));
  register(ctx, COMMANDS.resolveDeviation, (target) => resolveDeviationCommand(s, target));
  register(ctx, COMMANDS.scanDeviations, () => s.index.rescan());
  register(ctx, COMMANDS.setupChambers, (args) => s.chambers.setup((args ?? {}) as SetupArgs));
  register(ctx, COMMANDS.mergeChambers, () => s.chambers.merge());
  register(ctx, COMMANDS.cleanupTask, (args) => s.chambers.cleanup((args ?? {}) as { archive?: boolean }));
}
