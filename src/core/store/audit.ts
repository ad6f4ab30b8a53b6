import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { canonicalJson, sha256 } from '../engine/hash';
import { isErrno, readLastLine, writeAll } from './files';
import { GroupCommit } from './groupCommit';
import { withFileLock, type LockOptions } from './lock';
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

/** The chain fields of a stored line, or undefined when it does not have them all. */
function chainFields(value: unknown): Pick<AuditRecord, 'seq' | 'at' | 'prev' | 'hash'> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  return Number.isInteger(v.seq) && typeof v.at === 'string' && typeof v.prev === 'string' && typeof v.hash === 'string'
    ? { seq: v.seq as number, at: v.at, prev: v.prev, hash: v.hash }
    : undefined;
}

/**
 * The hash-chained audit log. Appends are serialized in this process and, through a lock
 * file, across processes: the last line is read under the lock, so two `symphony`
 * processes can never both chain onto the same record.
 */
export class FileAuditLog implements AuditLog {
  private readonly path: string;
  private readonly entries = new GroupCommit<AuditEntry>((batch) =>
    withFileLock(`${this.path}.lock`, () => this.appendLocked(batch), this.options.lock),
  );

  constructor(
    workspaceRoot: string,
    private readonly options: { readonly now?: () => Date; readonly lock?: LockOptions } = {},
  ) {
    this.path = auditPath(workspaceRoot);
  }

  /**
   * Appends an entry. Entries queued while a write is in flight go out together under one
   * lock, one read of the chain's head, one write and one flush (group commit) — a run
   * with many nodes does not pay a lock and a disk flush per node.
   */
  append(entry: AuditEntry): Promise<void> {
    return this.entries.push(entry);
  }

  private async appendLocked(entries: readonly AuditEntry[]): Promise<void> {
    await fsp.mkdir(dirname(this.path), { recursive: true });
    const fd = await fsp.open(this.path, 'a+');
    try {
      const tail = await readLastLine(fd);
      // A line torn by a crash was never acknowledged; drop it rather than chain after garbage.
      if (tail.end < tail.size) await fd.truncate(tail.end);
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
        if (!last) throw new Error(`the last record of ${this.path} is unreadable; run \`symphony audit verify\``);
        seq = last.seq + 1;
        prev = last.hash;
      }
      const lines: string[] = [];
      for (const entry of entries) {
        // Through canonical JSON first, so the hash covers exactly what the line will hold
        // (no undefined, no bigint, no class instances that would serialize differently).
        const plain = JSON.parse(canonicalJson(entry)) as Record<string, unknown>;
        for (const f of CHAIN_FIELDS) delete plain[f];
        const body = { seq, at: (this.options.now?.() ?? new Date()).toISOString(), prev, ...plain };
        const hash = chainHash(body);
        lines.push(JSON.stringify({ seq, at: body.at, prev, hash, ...plain }));
        seq += 1;
        prev = hash;
      }
      await writeAll(fd, Buffer.from(`${lines.join('\n')}\n`, 'utf8'));
      await fd.datasync();
    } finally {
      await fd.close();
    }
  }
}

/** The outcome of `verifyAudit`. */
export type AuditVerification =
  | {
      readonly ok: true;
      readonly records: number;
      /** The last hash: publish it elsewhere (a commit, a CI log) to also detect cutting lines off the end. */
      readonly head: string;
    }
  | { readonly ok: false; readonly line: number; readonly reason: string };

/**
 * `symphony audit verify`: checks every line in order and names the first one that does not
 * fit — edited (hash), deleted, inserted or moved (seq, prev), unreadable, or cut short.
 * A missing log is a valid, empty one. Lines removed from the very end cannot be detected
 * from the file alone; compare `head` with a copy kept elsewhere for that.
 */
export async function verifyAudit(workspaceRoot: string): Promise<AuditVerification> {
  let text: string;
  try {
    text = await fsp.readFile(auditPath(workspaceRoot), 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return { ok: true, records: 0, head: GENESIS_HASH };
    throw e;
  }
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
    prev = fields.hash;
  }
  if (torn !== '') return { ok: false, line: lines.length + 1, reason: 'incomplete last line: the file was cut or an append was interrupted' };
  return { ok: true, records: lines.length, head: prev };
}
