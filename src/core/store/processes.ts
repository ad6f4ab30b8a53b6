import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { isErrno, processAlive } from './files';

/**
 * Which process is which on this host. A pid alone says little: pids are recycled, and a
 * claim or a lock naming pid 4711 says nothing once 4711 is some other program. So every
 * record of a process (the owner claim of a run, a lock file, a program a node started)
 * also keeps the process's start time, and a process counts as the recorded one only when
 * both match. Also here: ending what a killed run left running, by process group and by
 * the marker its programs inherit in their environment.
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

// ── Process groups ─────────────────────────────────────────────────────────────

/** Signals a whole process group; false when it is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (e) {
    return isErrno(e, 'EPERM');
  }
}

/**
 * Whether any process of the group still runs. A process whose parent died is reparented
 * to PID 1, and in many containers PID 1 never reaps it: it lingers as a zombie that still
 * answers `kill(-pgid, 0)`. On Linux such zombies are told apart through /proc, so a stopped
 * tree is not waited on (and SIGKILLed) for nothing.
 */
export async function groupAlive(pgid: number): Promise<boolean> {
  if (!signalGroup(pgid, 0)) return false;
  if (process.platform !== 'linux') return true;
  for (const pid of await procPids()) {
    const fields = await procStat(pid);
    if (fields && Number(fields[STAT.pgrp]) === pgid && fields[STAT.state] !== 'Z') return true;
  }
  return false;
}

/** Waits up to `ms` for `gone()` to hold; true when it did. */
async function waitFor(gone: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    await sleep(25);
    if (await gone()) return true;
  }
  return false;
}

/** How long a stopped program may take to exit on SIGTERM before the rest gets SIGKILL. */
export const KILL_GRACE_MS = 2000;

/** SIGTERM to the groups and processes; SIGKILL to what is left after the grace period. */
export async function endProcesses(groups: readonly number[], pids: readonly number[], graceMs = KILL_GRACE_MS): Promise<void> {
  const signal = (s: NodeJS.Signals) => {
    for (const g of groups) signalGroup(g, s);
    for (const p of pids) {
      try {
        process.kill(p, s);
      } catch {
        // Already gone.
      }
    }
  };
  const allGone = async () => {
    for (const g of groups) if (await groupAlive(g)) return false;
    for (const p of pids) if (processAlive(p) && (await procStat(p))?.[STAT.state] !== 'Z') return false;
    return true;
  };
  if (await allGone()) return;
  signal('SIGTERM');
  if (await waitFor(allGone, graceMs)) return;
  signal('SIGKILL');
  // SIGKILL cannot be caught, but the kernel takes a moment to tear processes down.
  await waitFor(allGone, 1000);
}

// ── Programs left running ──────────────────────────────────────────────────────

/**
 * The environment variable every program a node starts carries, with a value unique to
 * that program: its descendants inherit it, so those that left its process group (a
 * daemon that called setsid) are still found — on Linux, through /proc/<pid>/environ.
 */
export const PROGRAM_MARKER = 'SYMPHONY_PROGRAM_ID';

/** A program a node started, as the journal records it (`node-process`). */
export interface RecordedProgram {
  /** The program's pid, which is also its process group: every program leads its own group. */
  readonly pgid: number;
  readonly startTime?: string;
  /** The value of PROGRAM_MARKER in its environment. */
  readonly token: string;
}

async function procPids(): Promise<number[]> {
  const names = await fsp.readdir('/proc').catch(() => [] as string[]);
  return names.filter((n) => /^\d+$/.test(n)).map(Number);
}

/** Processes of this user whose environment holds one of the markers, with the marker (Linux; none elsewhere). */
async function markedProcesses(tokens: ReadonlySet<string>): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  if (process.platform !== 'linux' || tokens.size === 0) return found;
  for (const pid of await procPids()) {
    if (pid === process.pid) continue;
    // Other users' processes cannot be read (EACCES), and could not be ours anyway.
    const environ = await fsp.readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '');
    const entry = environ.split('\0').find((e) => e.startsWith(`${PROGRAM_MARKER}=`));
    const token = entry?.slice(PROGRAM_MARKER.length + 1);
    if (token !== undefined && tokens.has(token)) found.set(pid, token);
  }
  return found;
}

/**
 * Whether a recorded program's process group is still that program's. A group id cannot
 * be reused while the group exists, so an existing group is the recorded one unless its
 * leader's pid now belongs to a younger process (the group ended, and the pid went to
 * another program that made itself a group leader).
 */
async function ownGroup(program: RecordedProgram): Promise<boolean> {
  if (process.platform === 'win32' || !(await groupAlive(program.pgid))) return false;
  if (!processAlive(program.pgid)) return true;
  const now = await processStartTime(program.pgid);
  return program.startTime === undefined || now === undefined || now === program.startTime;
}

/**
 * Ends what recorded programs left running: their process groups, and (Linux) every
 * process that carries one of their markers — SIGTERM, then SIGKILL after a grace period.
 * Resolves with the tokens of the programs that had something left to end.
 */
export async function endPrograms(programs: readonly RecordedProgram[]): Promise<Set<string>> {
  const found = new Set<string>();
  const groups: number[] = [];
  for (const p of programs) {
    if (await ownGroup(p)) {
      groups.push(p.pgid);
      found.add(p.token);
    }
  }
  const marked = await markedProcesses(new Set(programs.map((p) => p.token)));
  for (const token of marked.values()) found.add(token);
  await endProcesses(groups, [...marked.keys()]);
  return found;
}
