import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { hostname } from 'node:os';
import { processAlive } from './files';

/**
 * Which process is which on this host. A pid alone says little: pids are recycled, and a
 * claim or a lock naming pid 4711 says nothing once 4711 is some other program. So every
 * record of a process (the owner claim of a run, a lock file, a program a node started)
 * also keeps the process's start time, and a process counts as the recorded one only when
 * both match.
 */

/** A process as the files of `.symphony/` record it. */
export interface ProcessRecord {
  readonly pid: number;
  readonly host: string;
  /** `processStartTime(pid)` when it was recorded; absent where the platform cannot tell. */
  readonly startTime?: string;
}

/** Whether a recorded process is still the one it was: `unknown` when this host cannot check it. */
export type ProcessState = 'alive' | 'dead' | 'unknown';

let bootId: Promise<string> | undefined;

/** Start times in /proc count from boot; the boot id keeps them apart across reboots. */
function linuxBootId(): Promise<string> {
  bootId ??= fsp.readFile('/proc/sys/kernel/random/boot_id', 'utf8').then(
    (t) => t.trim(),
    () => 'boot',
  );
  return bootId;
}

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
async function procStat(pid: number): Promise<string[] | undefined> {
  const stat = await fsp.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat === undefined ? undefined : stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Indexes into `procStat`'s fields (field n of proc(5) is index n - 3). */
const STAT = { state: 0, pgrp: 2, starttime: 19 } as const;

/**
 * When a process started, as an opaque string that differs between two processes that
 * had the same pid: on Linux the boot id and the start time in clock ticks from
 * /proc/<pid>/stat; on macOS and the BSDs what `ps -o lstart=` says. Undefined when the
 * process does not exist, or on Windows.
 */
export async function processStartTime(pid: number): Promise<string | undefined> {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (process.platform === 'linux') {
    const fields = await procStat(pid);
    const ticks = fields?.[STAT.starttime];
    return ticks ? `${await linuxBootId()}:${ticks}` : undefined;
  }
  if (process.platform === 'win32') return undefined;
  return new Promise((resolve) => {
    execFile('ps', ['-o', 'lstart=', '-p', String(pid)], { timeout: 2000 }, (error, stdout) => resolve(error ? undefined : stdout.trim() || undefined));
  });
}

/** Whether this platform can tell processes with the same pid apart (everywhere but Windows). */
export const START_TIMES_KNOWN = process.platform !== 'win32';

let self: Promise<ProcessRecord> | undefined;

/** This process, as claims and locks record it. */
export function thisProcess(): Promise<ProcessRecord> {
  self ??= processStartTime(process.pid).then((startTime) => ({ pid: process.pid, host: hostname(), ...(startTime ? { startTime } : {}) }));
  return self;
}

/**
 * Whether the recorded process still runs. `unknown` for another host, whose processes
 * this one cannot see. A record without a start time, on a platform that has them, was
 * written by an older Symphony (or not by Symphony): judged by its pid alone, and the
 * caller decides how far to trust that (`legacy`).
 */
export async function processState(recorded: ProcessRecord): Promise<{ state: ProcessState; legacy: boolean }> {
  if (recorded.host !== hostname()) return { state: 'unknown', legacy: false };
  if (!processAlive(recorded.pid)) return { state: 'dead', legacy: false };
  if (!START_TIMES_KNOWN) return { state: 'alive', legacy: false };
  const now = await processStartTime(recorded.pid);
  // Gone between the two checks.
  if (now === undefined) return { state: processAlive(recorded.pid) ? 'unknown' : 'dead', legacy: false };
  if (recorded.startTime === undefined) return { state: 'alive', legacy: true };
  return { state: now === recorded.startTime ? 'alive' : 'dead', legacy: false };
}
