import { secretForms } from '../../../src/core/engine/redact';

/** Every way a program may print a secret, as the attacks of issue 9 did. */
export const ENCODINGS: Record<string, (s: string) => string> = {
  raw: (s) => s,
  upper: (s) => s.toUpperCase(),
  json: (s) => JSON.stringify(s).slice(1, -1),
  uriComponent: encodeURIComponent,
  uri: encodeURI,
  hex: (s) => Buffer.from(s).toString('hex'),
  HEX: (s) => Buffer.from(s).toString('hex').toUpperCase(),
  base64: (s) => Buffer.from(s).toString('base64'),
  base64url: (s) => Buffer.from(s).toString('base64url'),
  base64at1: (s) => Buffer.from(`x${s}`).toString('base64'),
  base64at2: (s) => Buffer.from(`xy${s}`).toString('base64'),
  base64at4: (s) => Buffer.from(`wxyz${s}!`).toString('base64'),
};

/** The part of an encoded text that carries the secret: what must not survive redaction. */
export function telltale(encoded: string, secret: string, encoding: string): string {
  if (!encoding.startsWith('base64')) return encoded;
  // Only the characters that depend on the secret's bytes alone identify it.
  return secretForms(secret).filter((f) => encoded.includes(f)).sort((a, b) => b.length - a.length)[0] ?? encoded;
}

