import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
// The four checks only, not the library's index (every validator, 130 kB on a run's path).
import isCreditCard from 'validator/lib/isCreditCard';
import isEmail from 'validator/lib/isEmail';
import isIBAN from 'validator/lib/isIBAN';
import isIP from 'validator/lib/isIP';
import { parse } from 'yaml';
import { z } from 'zod';
import { PII_KINDS, type PiiKind } from '../model/privacy';

/**
 * Personal data masking (`privacy: { mask: [...] }` on a melody, and the workspace default
 * in `.symphony/privacy.yaml`). Each kind is found by a candidate pattern and confirmed by
 * the `validator` library where one of its checks fits — a card number must pass the Luhn
 * check and a known issuer prefix, an address must be a valid email, an IP a valid address
 * — so numbers that merely look alike (order ids, timestamps, build numbers) stay.
 * A match becomes `[email]`, `[card]`… in node outputs, logs, journals, handoff entries and
 * the prompts sent to models.
 */

export { PII_KINDS, type PiiKind };

interface Detector {
  readonly pattern: RegExp;
  /** Whether a candidate is really of this kind. */
  readonly confirm: (match: string) => boolean;
}

const digits = (s: string) => s.replace(/\D/g, '');

const DETECTORS: Readonly<Record<PiiKind, Detector>> = {
  email: {
    pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g,
    confirm: (m) => isEmail(m),
  },
  card: {
    // 13–19 digits, optionally grouped by spaces or dashes.
    pattern: /(?<!\d|\d\.)\d(?:[ -]?\d){12,18}(?!\d|\.\d)/g,
    confirm: (m) => isCreditCard(digits(m)),
  },
  ssn: {
    // US social security numbers, written with separators (bare nine digits are too often other things).
    pattern: /(?<!\d)\d{3}[- ]\d{2}[- ]\d{4}(?!\d)/g,
    confirm: (m) => {
      const [area, group, serial] = [m.slice(0, 3), m.slice(4, 6), m.slice(7)];
      return area !== '000' && area !== '666' && Number(area) < 900 && group !== '00' && serial !== '0000';
    },
  },
  phone: {
    // An international number (+country code), or a national one written with separators
    // or an area code in parentheses; 7–15 digits in all.
    pattern: /(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?\d{3,8}(?:[\s.-]\d{2,4}){0,3}|\d{2,4}(?:[\s.-]\d{2,4}){1,4})(?![\w])|\+\d{7,15}(?!\d)/g,
    confirm: (m) => {
      const n = digits(m).length;
      if (n < 7 || n > 15) return false;
      if (/^\d{4}-\d{2}-\d{2}/.test(m) || /^\d{1,2}[./]\d{1,2}[./]\d{2,4}$/.test(m)) return false; // dates
      if (/^\d+(\.\d+){2,}$/.test(m)) return false; // versions, IPs
      // Without a country code or an area code in parentheses, only ten digits or more look
      // enough like a phone number (nine-digit groupings are as often SSNs and ids).
      return m.startsWith('+') || /[()]/.test(m) || n >= 10;
    },
  },
  ip: {
    pattern: /(?<![\w.:])(?:(?:\d{1,3}\.){3}\d{1,3}|(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4})(?![\w.:])/g,
    confirm: (m) => isIP(m),
  },
  iban: {
    pattern: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b/g,
    confirm: (m) => isIBAN(m.replace(/ /g, '')),
  },
};

/** Masks the personal data of the given kinds in a text. */
export function maskPii(text: string, kinds: ReadonlySet<PiiKind>): string {
  let out = text;
  // Cards before phones and SSNs: a card number holds shorter digit runs that look like them.
  for (const kind of ['email', 'card', 'iban', 'ssn', 'phone', 'ip'] as const) {
    if (!kinds.has(kind)) continue;
    const { pattern, confirm } = DETECTORS[kind];
    out = out.replace(pattern, (m) => (confirm(m) ? `[${kind}]` : m));
  }
  return out;
}

/** Where a workspace sets the personal data every melody masks: `mask: [email, card, …]`. */
export const PRIVACY_FILE = '.symphony/privacy.yaml';

/**
 * The workspace's default masking. A missing file masks nothing; a file that cannot be
 * read as `mask: [kinds]` is an error — silently masking nothing would leak what the user
 * asked to keep.
 */
export async function loadWorkspacePrivacy(root: string): Promise<PiiKind[]> {
  let text: string;
  try {
    text = await readFile(join(root, PRIVACY_FILE), 'utf8');
  } catch {
    return [];
  }
  const parsed = workspacePrivacySchema.safeParse(parse(text) ?? {});
  if (!parsed.success) {
    throw new Error(`${PRIVACY_FILE}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')} — expected mask: [${PII_KINDS.join(', ')}]`);
  }
  return parsed.data.mask;
}

const workspacePrivacySchema = z.strictObject({ mask: z.array(z.enum(PII_KINDS)).default([]) });
