import { maskPii, type PiiKind } from './privacy';
import { nameRecord } from '../model/names';

/**
 * Removes secret values — and, when a melody asks, personal data — from everything
 * Symphony writes or shows: logs, journal events, run records, artifacts, the audit log,
 * handoff entries, notifications and the prompts sent to models.
 *
 * A secret is matched in every form in which it leaks through tools: as it is, upper- and
 * lower-cased, JSON-escaped, URL-encoded (encodeURIComponent and encodeURI), hex (either
 * case), and base64 (standard and URL-safe) — at any byte offset inside a longer encoded
 * text, not only when it starts on a 3-byte boundary: for each offset the base64 characters
 * that depend on the secret's bytes alone are matched.
 */
export const REDACTED = '***';

/** Secrets shorter than this are not redacted: they would blank out ordinary text. */
const MIN_SECRET_LENGTH = 4;
/** Encoded forms shorter than this are not matched (a few base64 characters occur by chance). */
const MIN_FORM_LENGTH = 6;

/** The base64 characters that encode `bytes` alone when they start `offset` bytes into a longer input. */
function base64Inner(bytes: Buffer, offset: number, url: boolean): string {
  const padded = Buffer.concat([Buffer.alloc(offset), bytes]).toString(url ? 'base64url' : 'base64');
  const start = Math.ceil((8 * offset) / 6);
  const end = Math.floor((8 * (offset + bytes.length)) / 6);
  return padded.slice(start, end);
}

/** Every form of a secret that is matched. */
export function secretForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = [
    secret,
    secret.toUpperCase(),
    secret.toLowerCase(),
    JSON.stringify(secret).slice(1, -1),
    encodeURIComponent(secret),
    encodeURI(secret),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
    // The whole encoding of the secret alone (with its last partial character and padding)…
    bytes.toString('base64'),
    bytes.toString('base64').replace(/=+$/, ''),
    bytes.toString('base64url'),
  ];
  // …and, for a secret inside a longer encoded text, the characters that encode only its bytes.
  for (const offset of [0, 1, 2]) forms.push(base64Inner(bytes, offset, false), base64Inner(bytes, offset, true));
  return [...new Set(forms)].filter((f, i) => (i === 0 ? f.length >= MIN_SECRET_LENGTH : f.length >= MIN_FORM_LENGTH));
}

const escape = (p: string) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Longest a partial line of a stream is held back while personal data is masked. */
const PII_LINE_WINDOW = 4096;

export class Redactor {
  private patterns: string[] = [];
  private regex: RegExp | undefined;
  private readonly pii = new Set<PiiKind>();

  constructor(secrets: Iterable<string> = []) {
    for (const s of secrets) this.add(s);
  }

  /** Adds a secret value; its encoded forms are added with it. */
  add(secret: string): void {
    if (secret.length < MIN_SECRET_LENGTH) return;
    let grew = false;
    for (const f of secretForms(secret)) {
      if (this.patterns.includes(f)) continue;
      this.patterns.push(f);
      grew = true;
    }
    if (!grew) return;
    // Longest first, so a secret's encoded form wins over a shorter secret inside it.
    this.patterns.sort((a, b) => b.length - a.length);
    this.regex = new RegExp(this.patterns.map(escape).join('|'), 'g');
  }

  /** Masks these kinds of personal data too (`privacy.mask`). */
  maskPii(kinds: Iterable<PiiKind>): void {
    for (const k of kinds) this.pii.add(k);
  }

  get size(): number {
    return this.patterns.length;
  }

  /** The longest form matched, in characters: how much of a stream must be held back. */
  get window(): number {
    return this.patterns[0]?.length ?? 0;
  }

  get masksPii(): boolean {
    return this.pii.size > 0;
  }

  redactText(text: string): string {
    if (!text) return text;
    const out = this.regex ? text.replace(this.regex, REDACTED) : text;
    return this.pii.size ? maskPii(out, this.pii) : out;
  }

  /** Redacts every string inside a value (keys too), returning a copy; non-strings pass. */
  redact<T>(value: T): T {
    if (!this.regex && !this.pii.size) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.redactText(v);
      if (Array.isArray(v)) return v.map(walk);
      // fromEntries keeps every key an own key, `__proto__` included; a record without a
      // prototype (a run's nodes) stays without one.
      if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
        const entries = Object.entries(v).map(([k, x]) => [this.redactText(k), walk(x)] as const);
        return Object.getPrototypeOf(v) === null ? nameRecord(entries) : Object.fromEntries(entries);
      }
      return v;
    };
    return walk(value) as T;
  }

  /** A redactor for one stream of text that arrives in pieces (a program's stdout). */
  stream(): StreamRedactor {
    return new StreamRedactor(this);
  }

  /** Where a secret match that begins before `cut` ends, if one spans it (else `cut`). */
  spanEnd(text: string, cut: number): number {
    if (!this.regex) return cut;
    for (const m of text.matchAll(this.regex)) {
      if (m.index >= cut) break;
      if (m.index + m[0].length > cut) return m.index + m[0].length;
    }
    return cut;
  }
}

/**
 * Redacts a stream whose pieces may split a secret (or an email) in two: it holds back
 * the last `window - 1` characters — a secret that begins there may end in the next piece
 * — and, when personal data is masked, the unfinished last line. What it returns is safe
 * to write; `flush()` returns the rest when the stream ends.
 */
export class StreamRedactor {
  private carry = '';

  constructor(private readonly redactor: Redactor) {}

  write(text: string): string {
    const all = this.carry + text;
    let cut = Math.max(0, all.length - Math.max(0, this.redactor.window - 1));
    if (this.redactor.masksPii) {
      const lineEnd = all.lastIndexOf('\n', cut - 1) + 1;
      if (cut - lineEnd < PII_LINE_WINDOW) cut = lineEnd;
    }
    cut = this.redactor.spanEnd(all, cut);
    this.carry = all.slice(cut);
    return this.redactor.redactText(all.slice(0, cut));
  }

  flush(): string {
    const rest = this.carry;
    this.carry = '';
    return this.redactor.redactText(rest);
  }
}
