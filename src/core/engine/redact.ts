import { nameRecord } from '../model/names';

/**
 * Removes secret values from everything Symphony writes or shows: logs, journal events,
 * artifacts, messages. Each secret is matched raw, base64-encoded (standard and URL-safe)
 * and URL-encoded, since those are the forms in which secrets leak through tools.
 */
export const REDACTED = '***';

/** Secrets shorter than this are not redacted: they would blank out ordinary text. */
const MIN_SECRET_LENGTH = 4;

export class Redactor {
  private patterns: string[] = [];
  private regex: RegExp | undefined;

  constructor(secrets: Iterable<string> = []) {
    for (const s of secrets) this.add(s);
  }

  /** Adds a secret value; its encoded forms are added with it. */
  add(secret: string): void {
    if (secret.length < MIN_SECRET_LENGTH) return;
    const b64 = Buffer.from(secret, 'utf8').toString('base64');
    const forms = [secret, b64, b64.replace(/=+$/, ''), Buffer.from(secret, 'utf8').toString('base64url'), encodeURIComponent(secret)];
    for (const f of forms) if (f.length >= MIN_SECRET_LENGTH && !this.patterns.includes(f)) this.patterns.push(f);
    // Longest first, so a secret's encoded form wins over a shorter secret inside it.
    this.patterns.sort((a, b) => b.length - a.length);
    this.regex = new RegExp(this.patterns.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  }

  get size(): number {
    return this.patterns.length;
  }

  redactText(text: string): string {
    return this.regex && text ? text.replace(this.regex, REDACTED) : text;
  }

  /** Redacts every string inside a value (keys too), returning a copy; non-strings pass. */
  redact<T>(value: T): T {
    if (!this.regex) return value;
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
}
