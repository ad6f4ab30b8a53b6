import { closeSync, constants, mkdirSync, openSync, promises as fsp } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { canonicalJson, canonicalValue, isIndex, quoteKey, sha256, sortKeys } from '../engine/hash';
import type { AuditHead } from '../model/run';
import { datasync, isErrno, readLastLine, writeAllSync } from './files';
import { GroupCommit } from './groupCommit';
import { withFileLock, type LockOptions } from './lock';
import { FileRunStorage, runIds } from './runs';
import type { AuditEntry, AuditLog } from './types';

/** `.symphony/audit.jsonl`. */
export function auditPath(workspaceRoot: string): string {
  return join(workspaceRoot, '.symphony', 'audit.jsonl');
}

/** The `prev` of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * One line of the audit log: the entry plus its place in the chain. `hash` is the sha256 of
 * the canonical JSON of the line without `hash` — `prev` included — so changing, removing,
 * adding or moving any line breaks the chain at that point.
 */
export interface AuditRecord extends AuditEntry {
  /** 1 for the first line, then +1 per line: gaps and moves show without any hashing. */
  readonly seq: number;
  /** ISO-8601 time of the append. */
  readonly at: string;
  /** The previous line's `hash`, or GENESIS_HASH. */
  readonly prev: string;
  readonly hash: string;
}

const CHAIN_FIELDS = ['seq', 'at', 'prev', 'hash'] as const;

/** The hash a line must carry: over everything in it except `hash` itself. */
function chainHash(line: Readonly<Record<string, unknown>>): string {
  const { hash: _hash, ...body } = line;
  return sha256(canonicalJson(body));
}

/** The chain's members of the hashed text, by key, in the order `Object.keys(...).sort()` puts them. */
const CHAIN_KEYS = ['at', 'prev', 'seq'] as const;

/**
 * A record's two texts in one pass over the entry's sorted keys (no index key, no `toJSON`,
 * no chain field among them), each value written once: `hashed` is
 * `canonicalJson({ ...entry, seq, at, prev })` — the chain's members merged in where their
 * keys sort — and `members` the entry's members alone, each after a comma, as the line
 * holds them after its chain fields.
 */
function recordTexts(entry: Readonly<Record<string, unknown>>, keys: string[], chain: readonly [string, string, string]): { hashed: string; members: string } {
  sortKeys(keys);
  let hashed = '{';
  let members = '';
  let c = 0;
  for (const k of keys) {
    const v = canonicalValue(entry[k], k);
    if (v === undefined) continue;
    while (c < 3 && CHAIN_KEYS[c]! < k) hashed += `${hashed.length > 1 ? ',' : ''}${chain[c++]}`;
    const member = `${quoteKey(k)}:${v}`;
    hashed += `${hashed.length > 1 ? ',' : ''}${member}`;
    members += `,${member}`;
  }
  while (c < 3) hashed += `${hashed.length > 1 ? ',' : ''}${chain[c++]}`;
  return { hashed: `${hashed}}`, members };
}

/** The chain fields of a stored line, or undefined when it does not have them all. */
function chainFields(value: unknown): Pick<AuditRecord, 'seq' | 'at' | 'prev' | 'hash'> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  return Number.isInteger(v.seq) && typeof v.at === 'string' && typeof v.prev === 'string' && typeof v.hash === 'string'
    ? { seq: v.seq as number, at: v.at, prev: v.prev, hash: v.hash }
    : undefined;
}

/**
 * The audit log's last line is not a whole record — an append was interrupted, or the file
 * was cut or edited. Nothing is chained onto it: dropping the line would lose a record
 * silently, chaining after it would launder the damage. Auditing stops until someone looks.
 */
export class AuditDamagedError extends Error {
  constructor(
    /** The log, relative to the workspace root. */
    readonly file: string,
    /** The 1-based line that is damaged. */
    readonly line: number,
    what: string,
  ) {
    super(`the audit log ${file} is damaged: its last line (${line}) ${what}; nothing more is audited until it is repaired — run \`symphony audit verify\` to see where`);
    this.name = 'AuditDamagedError';
  }
}

/**
 * The hash-chained audit log. Appends are serialized in this process and, through a lock
 * file, across processes: the last line is read under the lock, so two `symphony`
 * processes can never both chain onto the same record.
 */
export class FileAuditLog implements AuditLog {
  private readonly path: string;
  /** The log as messages name it: relative to the workspace root. */
  private readonly shown: string;
  // A flush takes a lock, reads the chain's head and syncs: records gather for a whole
  // event-loop turn, so a run's last node ends and its run-finished usually share one.
  private readonly entries = new GroupCommit<AuditEntry, AuditHead>(
    (batch) => withFileLock(`${this.path}.lock`, () => this.appendLocked(batch), this.options.lock),
    'turn',
  );

  constructor(
    workspaceRoot: string,
    private readonly options: { readonly now?: () => Date; readonly lock?: LockOptions } = {},
  ) {
    this.path = auditPath(workspaceRoot);
    this.shown = relative(workspaceRoot, this.path).split(sep).join('/');
  }

  /**
   * Appends an entry. Entries queued while a write is in flight go out together under one
   * lock, one read of the chain's head, one write and one flush (group commit) — a run
   * with many nodes does not pay a lock and a disk flush per node.
   */
  append(entry: AuditEntry): Promise<AuditHead> {
    return this.entries.push(entry);
  }

  record(entry: AuditEntry): Promise<void> {
    return this.entries.add(entry);
  }

  private isoAt = Number.NaN;
  private isoText = '';

  /** Now as ISO-8601: records of the same millisecond share one string. */
  private iso(): string {
    const now = this.options.now ? this.options.now().getTime() : Date.now();
    if (now !== this.isoAt) {
      this.isoText = new Date(now).toISOString();
      this.isoAt = now;
    }
    return this.isoText;
  }

  private async appendLocked(entries: readonly AuditEntry[]): Promise<AuditHead[]> {
    // Opened, read at its tail and written synchronously — microseconds each, where a trip
    // through the thread pool apiece made up most of a batch's time; only the flush waits
    // for the disk. O_NONBLOCK: something other than a file planted here fails at once
    // instead of holding the event loop. The lock beside the log made its folder; it is
    // made here only if it went missing since.
    const flags = constants.O_RDWR | constants.O_CREAT | constants.O_APPEND | (constants.O_NONBLOCK ?? 0);
    let fd: number;
    try {
      fd = openSync(this.path, flags, 0o666);
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
      mkdirSync(dirname(this.path), { recursive: true });
      fd = openSync(this.path, flags, 0o666);
    }
    try {
      const tail = readLastLine(fd);
      // Bytes after the last newline: a record cut short. It may have been acknowledged to
      // a run before the file was cut, so it is not dropped; auditing stops, loudly.
      if (tail.end < tail.size) throw await this.damaged(tail.end, 1, 'is cut off (an append was interrupted, or the file was cut)');
      let seq = 1;
      let prev = GENESIS_HASH;
      if (tail.line !== undefined) {
        let last: ReturnType<typeof chainFields>;
        try {
          last = chainFields(JSON.parse(tail.line));
        } catch {
          last = undefined;
        }
        // Chaining onto a damaged record would launder it; refuse until someone looks.
        if (!last) throw await this.damaged(tail.end, 0, 'is not a record');
        seq = last.seq + 1;
        prev = last.hash;
      }
      const heads: AuditHead[] = [];
      const lines: string[] = [];
      // `prev` as JSON: read from the file for the first record, then a hash of ours (hex).
      let prevText = JSON.stringify(prev);
      for (const entry of entries) {
        const at = this.iso();
        // Copied, and the copy's chain fields deleted, only when there: an entry never has them but to forge them.
        let fields = entry as unknown as Record<string, unknown>;
        if (CHAIN_FIELDS.some((f) => Object.hasOwn(entry, f))) {
          fields = { ...entry };
          for (const f of CHAIN_FIELDS) delete fields[f];
        }
        // The hash covers the canonical JSON of the line without `hash`; the line holds the
        // chain fields, then the entry's canonical JSON — which is what JSON.stringify writes
        // for it once parsed (no undefined, no bigint, no class instances left). A top-level
        // index key would be written first by JSON.stringify: such an entry takes the long way.
        const keys = Object.keys(fields);
        let hash: string;
        if (keys.some(isIndex) || Object.hasOwn(fields, 'toJSON')) {
          hash = sha256(canonicalJson({ ...fields, seq, at, prev }));
          lines.push(JSON.stringify({ seq, at, prev, hash, ...(JSON.parse(canonicalJson(fields)) as object) }));
        } else {
          // An ISO time and a hex hash: nothing in them JSON escapes.
          const { hashed, members } = recordTexts(fields, keys, [`"at":"${at}"`, `"prev":${prevText}`, `"seq":${seq}`]);
          hash = sha256(hashed);
          lines.push(`{"seq":${seq},"at":"${at}","prev":${prevText},"hash":"${hash}"${members}}`);
        }
        heads.push({ seq, hash });
        seq += 1;
        prev = hash;
        prevText = `"${hash}"`;
      }
      // The final newline joined in: one flat string to encode, not a join and a copy of it.
      lines.push('');
      writeAllSync(fd, Buffer.from(lines.join('\n'), 'utf8'));
      await datasync(fd);
      return heads;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The error for a damaged last line. Its number costs a read of the whole log, paid only
   * here: `extra` is 1 for a line after the last newline, 0 for the last complete line.
   */
  private async damaged(completeEnd: number, extra: 0 | 1, what: string): Promise<AuditDamagedError> {
    const data = await fsp.readFile(this.path).catch(() => Buffer.alloc(0));
    let newlines = 0;
    for (let i = data.indexOf(0x0a); i >= 0 && i < completeEnd; i = data.indexOf(0x0a, i + 1)) newlines++;
    return new AuditDamagedError(this.shown, newlines + extra, what);
  }
}

/** The outcome of `verifyAudit`. */
export type AuditVerification =
  | {
      readonly ok: true;
      readonly records: number;
      /**
       * The last hash. Runs anchor the chain in their run.json, so records cut off the end
       * are detected while the run that wrote them is kept; publish the head elsewhere (a
       * commit, a CI log) to detect it for the newest records, or after `gc`.
       */
      readonly head: string;
      /** How many runs' anchors were checked. */
      readonly anchored: number;
    }
  | { readonly ok: false; readonly line: number; readonly reason: string };

/** A run's anchor in the chain (`auditHead` of its run.json). */
export interface RunAnchor extends AuditHead {
  readonly runId: string;
}

/** The anchors of every run in the workspace that has one. */
export async function runAnchors(workspaceRoot: string): Promise<RunAnchor[]> {
  const storage = new FileRunStorage(workspaceRoot);
  const anchors: RunAnchor[] = [];
  for (const runId of await runIds(workspaceRoot)) {
    // A damaged run is `events`' to report; it anchors nothing here.
    const head = (await storage.record(runId).catch(() => undefined))?.auditHead;
    if (head && Number.isInteger(head.seq) && typeof head.hash === 'string') anchors.push({ runId, seq: head.seq, hash: head.hash });
  }
  return anchors;
}

/**
 * `symphony audit verify`: checks every line in order and names the first one that does not
 * fit — edited (hash), deleted, inserted or moved (seq, prev), unreadable, or cut short —
 * and then that the record each run anchored at its end (`anchors`: by default every run of
 * the workspace) is still in the chain, so whole records cut off the end are detected too.
 * A missing log is a valid, empty one, unless a run anchored a record in it.
 */
export async function verifyAudit(workspaceRoot: string, options: { readonly anchors?: readonly RunAnchor[] } = {}): Promise<AuditVerification> {
  const anchors = options.anchors ?? (await runAnchors(workspaceRoot));
  let text: string;
  try {
    text = await fsp.readFile(auditPath(workspaceRoot), 'utf8');
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e;
    text = '';
  }
  const anchoredAt = new Map<number, RunAnchor[]>();
  for (const a of anchors) anchoredAt.set(a.seq, [...(anchoredAt.get(a.seq) ?? []), a]);
  const lines = text.split('\n');
  const torn = lines.pop() ?? '';
  let prev = GENESIS_HASH;
  for (const [i, raw] of lines.entries()) {
    const line = i + 1;
    const bad = (reason: string) => ({ ok: false as const, line, reason });
    if (raw.trim() === '') return bad('empty line');
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      return bad('not valid JSON');
    }
    const fields = chainFields(value);
    if (!fields) return bad('missing seq, at, prev or hash');
    if (fields.seq !== line) return bad(`seq is ${fields.seq}, expected ${line}: a record was deleted, inserted or moved`);
    if (fields.prev !== prev) return bad(line === 1 ? 'prev is not the genesis hash' : `prev does not match the hash of line ${line - 1}: a record before it was changed or removed`);
    if (chainHash(value as Record<string, unknown>) !== fields.hash) return bad('hash does not match the record: it was edited');
    const rewritten = anchoredAt.get(line)?.find((a) => a.hash !== fields.hash);
    if (rewritten) return bad(`this is not the record run ${rewritten.runId} anchored here (hash ${rewritten.hash.slice(0, 12)}…): the log was rewritten after that run ended`);
    prev = fields.hash;
  }
  if (torn !== '') return { ok: false, line: lines.length + 1, reason: 'incomplete last line: the file was cut or an append was interrupted' };
  const beyond = anchors.filter((a) => a.seq > lines.length).sort((a, b) => a.seq - b.seq)[0];
  if (beyond) {
    return {
      ok: false,
      line: lines.length + 1,
      reason: `audit.jsonl ends at record ${lines.length}, before record ${beyond.seq} that run ${beyond.runId} anchored (hash ${beyond.hash.slice(0, 12)}…): records were cut off its end`,
    };
  }
  return { ok: true, records: lines.length, head: prev, anchored: anchors.length };
}
