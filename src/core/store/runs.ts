import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, promises as fsp, type Dirent } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Semaphore } from '../engine/semaphore';
import { GroupCommit } from './groupCommit';
import { nameRecord } from '../model/names';
import { replayEvents, type RunEvent, type RunEventType, type RunRecord } from '../model/run';
import { completeLinesEnd, isErrno, OPEN_SYNC_READ, readLastLine, readSmallFileSync, syncDir, writeAll, writeFileAtomic, writeFileAtomicSync } from './files';
import { withFileLock } from './lock';
import { processState, thisProcess, type ProcessRecord, type ProcessState } from './processes';
import type { RunJournal, RunStorage } from './types';

/** `.symphony/runs`: one folder per run. */
export function runsDir(workspaceRoot: string): string {
  return join(workspaceRoot, '.symphony', 'runs');
}

/** Run ids become folder names, so anything that could climb out of `runs/` is refused. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The files of one run. Throws on a run id that is not a plain folder name. */
export function runPaths(workspaceRoot: string, runId: string): { readonly dir: string; readonly journal: string; readonly record: string; readonly owner: string } {
  if (!RUN_ID.test(runId)) throw new Error(`invalid run id ${JSON.stringify(runId)}`);
  const dir = join(runsDir(workspaceRoot), runId);
  return { dir, journal: join(dir, 'journal.jsonl'), record: join(dir, 'run.json'), owner: join(dir, 'owner.json') };
}

/**
 * `owner.json`: who has a run's journal open — the process that created it (`run`) or
 * picked it up again (`resume`) — by pid, host and start time, so a recycled pid is never
 * taken for the owner. Written when a process creates or reopens the run, removed on close.
 */
export interface RunClaim extends ProcessRecord {
  readonly action: 'run' | 'resume';
  /** ISO-8601 time the claim was made. */
  readonly since: string;
  /** Tells this claim from a later one of the same process. */
  readonly nonce: string;
}

/** The run is open in another process (or one this host cannot check); says which. */
export class RunBusyError extends Error {
  constructor(
    readonly runId: string,
    readonly claim: RunClaim,
    state: ProcessState,
    ownerFile: string,
  ) {
    const doing = claim.action === 'resume' ? 'being resumed' : 'being run';
    const what = `run ${runId} is ${doing} by pid ${claim.pid} (host ${claim.host}) since ${claim.since}`;
    super(
      state === 'unknown'
        ? `${what}, which this machine cannot check; if that process is gone, delete ${ownerFile}`
        : `${what}; wait for it to end, or cancel it there`,
    );
    this.name = 'RunBusyError';
  }
}

/**
 * The claim in `owner.json`, if it holds one. Read synchronously and without blocking (a
 * FIFO planted in its place reads as nothing): a small file, read as a run closes.
 */
function readClaim(path: string): RunClaim | undefined {
  try {
    const bytes = readSmallFileSync(path);
    if (!bytes) return undefined;
    const claim = JSON.parse(bytes.toString('utf8')) as Partial<RunClaim>;
    if (typeof claim.pid !== 'number' || typeof claim.host !== 'string') return undefined;
    // Claims of older versions had neither: they count as run by that pid, from some time.
    return { action: 'run', since: 'an earlier time', nonce: '', ...claim } as RunClaim;
  } catch {
    return undefined;
  }
}

/** A claim of this process, made now. */
async function newClaim(action: RunClaim['action']): Promise<RunClaim> {
  return { ...(await thisProcess()), action, since: new Date().toISOString(), nonce: randomBytes(8).toString('hex') };
}

/**
 * Claims a run for this process. Checking the current claim and writing ours happen under
 * a lock (an exclusive hard-linked create, see lock.ts), so of two processes resuming one
 * run at once exactly one gets it; the other learns who holds it. A claim whose process
 * died — the case `resume` exists for — is replaced.
 */
async function claim(path: string, runId: string, action: RunClaim['action']): Promise<RunClaim> {
  const mine = await newClaim(action);
  return withFileLock(
    `${path}.lock`,
    async () => {
      const held = readClaim(path);
      if (held) {
        // Alive, or on another host (which cannot be checked). A claim without a start time
        // (an older Symphony's) is trusted by its pid: the run may really go on in that version.
        const { state } = await processState(held);
        if (state !== 'dead') throw new RunBusyError(runId, held, state, path);
      }
      await writeFileAtomic(path, JSON.stringify(mine), { durable: false });
      return mine;
    },
    // Held for a read and a rename: a live holder is waited for a few seconds at most.
    { timeoutMs: 10_000 },
  );
}

/** Removes the claim if it is still ours. */
async function release(path: string, nonce: string): Promise<void> {
  if (readClaim(path)?.nonce === nonce) await fsp.unlink(path).catch(() => undefined);
}

/**
 * Every run folder, newest first. Run ids start with a UTC timestamp (`newRunId`), so
 * sorting the names sorts by start time; no file is read.
 */
export async function runIds(workspaceRoot: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await fsp.readdir(runsDir(workspaceRoot), { withFileTypes: true });
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return [];
    throw e;
  }
  return entries
    .filter((d) => d.isDirectory() && RUN_ID.test(d.name))
    .map((d) => d.name)
    .sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
}

/** A journal line that is not a valid event: names the file and the 1-based line. */
export class JournalCorruptError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'JournalCorruptError';
  }
}

/** Every event type; `satisfies` makes adding an event to the union without listing it here a type error. */
const EVENT_TYPES = new Set(
  Object.keys({
    'run-started': true,
    'run-resumed': true,
    'node-started': true,
    'node-process': true,
    'node-log': true,
    'node-retried': true,
    'node-fallback': true,
    'approval-requested': true,
    'node-usage': true,
    'node-tool': true,
    'node-finished': true,
    'run-finished': true,
  } satisfies Record<RunEventType, true>),
);

/**
 * Parses one journal line. Only the envelope is checked (type, run, time): the engine wrote
 * the rest, and `applyEvent` must never be fed something that is not an event at all.
 */
function parseEvent(text: string, file: string, line: number, runId: string): RunEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new JournalCorruptError(file, line, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JournalCorruptError(file, line, 'not a JSON object');
  const { type, runId: id, at } = value as Record<string, unknown>;
  if (typeof type !== 'string' || !EVENT_TYPES.has(type)) throw new JournalCorruptError(file, line, `unknown event type ${JSON.stringify(type)}`);
  if (id !== runId) throw new JournalCorruptError(file, line, `event of run ${JSON.stringify(id)} in the journal of ${runId}`);
  if (typeof at !== 'string') throw new JournalCorruptError(file, line, 'event without a time');
  return value as RunEvent;
}

/**
 * A journal's events and where its complete lines end. Bytes after the last "\n" are a line
 * torn by a crash: never acknowledged to the engine, so dropped. A bad line anywhere before
 * that is damage, not a crash, and is reported rather than skipped.
 */
function parseJournal(data: Buffer, file: string, runId: string): { events: RunEvent[]; end: number } {
  const end = completeLinesEnd(data);
  const lines = data.subarray(0, end).toString('utf8').split('\n');
  lines.pop(); // the empty string after the final newline
  return { events: lines.map((text, i) => parseEvent(text, file, i + 1, runId)), end };
}

/**
 * An open journal. Appends go through one queue, so lines land in call order even when the
 * caller does not await (log lines). Whatever is queued while a write is in flight goes out
 * together in the next write and fdatasync (group commit): one disk flush per batch instead
 * of per event. `append` resolves once its line is flushed.
 */
class FileRunJournal implements RunJournal {
  private readonly lines = new GroupCommit<string>((batch) => this.write(batch));
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    readonly runId: string,
    private readonly path: string,
    private readonly fd: FileHandle,
    /** Bytes known to be complete lines on disk; a failed write is cut back to this. */
    private size: number,
    /** This process's claim on the run, released on close. */
    private readonly ownerPath: string,
    private readonly claimNonce: string,
    /** A new journal's folder being synced (best effort, never rejects): the first flush waits for it. */
    private named?: Promise<void>,
  ) {}

  append(event: RunEvent): Promise<void> {
    if (this.closing) return Promise.reject(new Error(`the journal of ${this.runId} is closed`));
    if (this.failure) return Promise.reject(this.failure);
    let line: string;
    try {
      // Serialized now, so a caller mutating the event afterwards cannot change what is written.
      line = `${JSON.stringify(event)}\n`;
    } catch (e) {
      return Promise.reject(e);
    }
    // Lines of one batch share one promise: they reach the disk, or fail, together.
    return this.lines.add(line);
  }

  private async write(batch: readonly string[]): Promise<void> {
    try {
      if (this.failure) throw this.failure;
      // One buffer per batch, not per line.
      const data = Buffer.from(batch.length === 1 ? batch[0]! : batch.join(''), 'utf8');
      await writeAll(this.fd, data);
      await Promise.all([this.fd.datasync(), this.named]);
      this.named = undefined;
      this.size += data.length;
    } catch (e) {
      await this.fail(e as Error);
      throw this.failure;
    }
  }

  /**
   * After a failed write or flush nothing more is appended: a later line must never sit
   * after a hole. The file is cut back to its last complete line, so a resume sees exactly
   * the events that were acknowledged.
   */
  private async fail(e: Error): Promise<void> {
    if (this.failure) return;
    this.failure = new Error(`cannot write the journal ${this.path}: ${e.message}`, { cause: e });
    await this.fd.truncate(this.size).catch(() => undefined);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      // Lines queued before close are still written.
      await this.lines.idle();
      await this.named;
      // Nothing more is written: the file is closed while the claim is given up.
      await Promise.all([this.fd.close(), release(this.ownerPath, this.claimNonce)]);
    })();
    return this.closing;
  }
}

async function readJournal(journal: string, runId: string): Promise<Buffer> {
  try {
    return await fsp.readFile(journal);
  } catch (e) {
    throw isErrno(e, 'ENOENT') ? new Error(`no run ${runId} (no ${journal})`) : e;
  }
}

function isRunRecord(value: unknown, runId: string): value is RunRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Partial<RunRecord>;
  return r.runId === runId && typeof r.state === 'string' && typeof r.nodes === 'object' && r.nodes !== null;
}

/**
 * The durable records of runs in `.symphony/runs/<runId>/`: `journal.jsonl` (the truth,
 * append-only) and `run.json` (a snapshot derived from it, for quick listing).
 */
export class FileRunStorage implements RunStorage {
  constructor(private readonly workspaceRoot: string) {}

  private paths(runId: string): ReturnType<typeof runPaths> {
    return runPaths(this.workspaceRoot, runId);
  }

  async create(runId: string): Promise<RunJournal> {
    const { dir, journal, owner } = this.paths(runId);
    const parent = runsDir(this.workspaceRoot);
    // Who we are (a process's first claim asks `ps` for its start time) is found out while the folder is made.
    const claim = newClaim('run');
    // Not recursive: the exclusive mkdir is what makes two creators of one id collide. The
    // runs folder is made only the first time, when the run's own mkdir finds it missing.
    // Synchronous, as the claim's write below: microseconds each, where every trip through
    // the thread pool was time before the run's first node could start.
    try {
      try {
        mkdirSync(dir);
      } catch (e) {
        if (!isErrno(e, 'ENOENT')) throw e;
        mkdirSync(parent, { recursive: true });
        mkdirSync(dir);
      }
    } catch (e) {
      if (isErrno(e, 'EEXIST')) throw new Error(`run ${runId} already exists in ${parent}`);
      throw e;
    }
    // The exclusive mkdir made the folder ours: nobody else can hold a claim in it yet. The
    // claim and the journal file are made together; the journal holds no event before both.
    const opened = fsp.open(journal, 'a');
    // Seen below, after the claim; until then its failure must not count as unhandled.
    opened.catch(() => undefined);
    let mine: RunClaim;
    try {
      mine = await claim;
      writeFileAtomicSync(owner, JSON.stringify(mine));
    } catch (e) {
      await opened.then((fd) => fd.close()).catch(() => undefined);
      throw e;
    }
    const fd = await opened;
    // The folder's and the journal's names reach the disk while the run starts: the journal's
    // first flush waits for them, so no event is acknowledged before its file has a name.
    const named = Promise.all([syncDir(dir), syncDir(parent)]).then(() => undefined);
    return new FileRunJournal(runId, journal, fd, 0, owner, mine.nonce, named);
  }

  /** Whether another process has the run open (or one on another host that cannot be checked). */
  async isLive(runId: string): Promise<boolean> {
    const held = readClaim(this.paths(runId).owner);
    return held !== undefined && (held.pid !== process.pid || held.host !== (await thisProcess()).host) && (await processState(held)).state !== 'dead';
  }

  async reopen(runId: string): Promise<{ readonly events: RunEvent[]; readonly journal: RunJournal }> {
    const { journal, owner } = this.paths(runId);
    await fsp.stat(journal).catch((e: unknown) => {
      throw isErrno(e, 'ENOENT') ? new Error(`no run ${runId} (no ${journal})`) : e;
    });
    // Two processes appending to one journal would interleave two runs' worth of events:
    // the run is claimed before its journal is read, and only one process gets the claim.
    const mine = await claim(owner, runId, 'resume');
    try {
      return await this.openClaimed(runId, mine);
    } catch (e) {
      await release(owner, mine.nonce);
      throw e;
    }
  }

  private async openClaimed(runId: string, mine: RunClaim): Promise<{ readonly events: RunEvent[]; readonly journal: RunJournal }> {
    const { journal, owner } = this.paths(runId);
    const data = await readJournal(journal, runId);
    const { events, end } = parseJournal(data, journal, runId);
    // 'a': every write lands at the end of the file, whatever the position.
    const fd = await fsp.open(journal, 'a');
    try {
      if (end < data.length) {
        // Cut the torn line off, or the next append would be glued onto it.
        await fd.truncate(end);
        await fd.datasync();
      }
    } catch (e) {
      await fd.close();
      throw e;
    }
    return { events, journal: new FileRunJournal(runId, journal, fd, end, owner, mine.nonce) };
  }

  async events(runId: string): Promise<RunEvent[]> {
    const { journal } = this.paths(runId);
    return parseJournal(await readJournal(journal, runId), journal, runId).events;
  }

  async writeRecord(record: RunRecord): Promise<void> {
    // Not fsynced: run.json is derived, checked against the journal on read, and rebuilt
    // when it is missing, torn or behind. Not indented: programs read it, and a 1,000-node
    // run's is a third smaller and serialized in about half the time, on the way to its end.
    await writeFileAtomic(this.paths(record.runId).record, `${JSON.stringify(record)}\n`, { durable: false });
  }

  /**
   * `run.json` is used only for a finished run whose journal ends with that same
   * `run-finished` — checking that reads just the journal's tail. A running run, a missing,
   * torn or stale `run.json` is rebuilt from the journal, which is always the truth.
   * Undefined when the run has no journal or an empty one.
   */
  async record(runId: string): Promise<RunRecord | undefined> {
    const { journal, record } = this.paths(runId);
    const stored = await fsp
      .readFile(record, 'utf8')
      .then((t) => JSON.parse(t) as unknown)
      .catch(() => undefined);
    if (isRunRecord(stored, runId) && stored.state !== 'running') {
      const last = await this.lastEvent(journal, runId);
      if (last === undefined) return undefined;
      // Node ids key `nodes`; JSON.parse gave it Object.prototype, which no id may reach.
      if (last && last.type === 'run-finished' && last.status === stored.state && last.at === stored.endedAt) return { ...stored, nodes: nameRecord(Object.entries(stored.nodes)) };
    }
    let data: Buffer;
    try {
      data = await fsp.readFile(journal);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return undefined;
      throw e;
    }
    return replayEvents(parseJournal(data, journal, runId).events);
  }

  /** The journal's last complete event; undefined without a journal, null when it has no complete line. */
  private async lastEvent(journal: string, runId: string): Promise<RunEvent | null | undefined> {
    let fd: number;
    try {
      fd = openSync(journal, OPEN_SYNC_READ);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return undefined;
      throw e;
    }
    try {
      const { line } = readLastLine(fd);
      if (line === undefined) return null;
      try {
        // The line number is unknown here; a bad tail falls through to the full read, which names it.
        return parseEvent(line, journal, 0, runId);
      } catch {
        return null;
      }
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Every run newest first. A folder without a journal (a crash inside `create`) or with an
   * empty one is not a run yet; a run whose journal is damaged is left out here — `events()`
   * on it says which line — so one bad run never hides the others.
   */
  async list(): Promise<RunRecord[]> {
    const ids = await runIds(this.workspaceRoot);
    // Bounded, so thousands of runs do not open thousands of files at once.
    const limit = new Semaphore(16);
    const records = await Promise.all(
      ids.map(async (id) => {
        const release = await limit.acquire();
        try {
          return await this.record(id);
        } catch {
          return undefined;
        } finally {
          release();
        }
      }),
    );
    return records.filter((r): r is RunRecord => r !== undefined);
  }

  async remove(runId: string): Promise<void> {
    await fsp.rm(this.paths(runId).dir, { recursive: true, force: true });
  }
}
