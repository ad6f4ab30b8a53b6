/**
 * How big a file Symphony agrees to read. Each limit is checked before the work it guards —
 * the size before parsing, the nesting while parsing, the node count before validating — so
 * a file built to exhaust the loader costs milliseconds and gets a sentence that names the
 * limit, never a frozen editor or "Maximum call stack size exceeded".
 *
 * The limits sit far above any melody written by hand or by a tool we know of: the largest
 * real ones have hundreds of nodes and a few levels of nesting.
 */

/** Bytes of one YAML file (a melody, an instrument, an ensemble). */
export const MAX_YAML_BYTES = 5 * 1024 * 1024;

/** Levels of nesting (maps, lists, flow collections) in one YAML file. */
export const MAX_YAML_DEPTH = 64;

/** Nodes of one melody. Loading is linear in them; running 20,000 takes minutes already. */
export const MAX_MELODY_NODES = 20_000;

/** `5.0 MB` — sizes as people say them (MB = 1024 × 1024 bytes, as the limit is written). */
export function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** `20,000` */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * The first character YAML does not allow in a file (YAML 1.2 §5.1: only tab, line feed,
 * carriage return and printable characters), with its offset; undefined when there is none.
 * NUL is the usual one: a binary file, or text pasted from one.
 */
export function firstForbiddenCharacter(text: string): { offset: number; code: number } | undefined {
  const m = FORBIDDEN.exec(text);
  return m ? { offset: m.index, code: m[0].charCodeAt(0) } : undefined;
}

// C0 controls but tab, LF and CR; DEL; C1 controls but NEL; the two noncharacters of the BMP.
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u0084\u0086-\u009F\uFFFE\uFFFF]/;

/** `U+0000` and, for NUL, its name. */
export function describeCharacter(code: number): string {
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return code === 0 ? `a NUL character (${hex})` : `a control character (${hex})`;
}

/**
 * The offset of the first byte that makes `bytes` invalid UTF-8, or undefined when they are
 * valid. Only called after the strict decoder refused them, to say where.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number | undefined {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    // Lead byte: length of the sequence and the range its second byte must fall in
    // (which rules out overlong forms, surrogates and code points above U+10FFFF).
    let length: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += length;
  }
  return undefined;
}
