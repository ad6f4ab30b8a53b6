import { parse } from '@marcbachmann/cel-js';

/**
 * `${{ … }}` expressions embedded in strings. The text between the braces is CEL (Common
 * Expression Language), parsed by a CEL library — never JavaScript `eval`.
 */

/** One `${{ … }}` found in a string; offsets are into that string. */
export interface TemplatePart {
  /** The CEL source between the braces, trimmed. */
  readonly expression: string;
  /** Offset of `${{`. */
  readonly start: number;
  /** Offset just after `}}` (or the end of the string when unterminated). */
  readonly end: number;
  /** Offset of the first character of `expression`. */
  readonly expressionStart: number;
  readonly terminated: boolean;
}

const OPEN = '${{';
const CLOSE = '}}';

export function findTemplateParts(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let from = 0;
  for (;;) {
    const start = text.indexOf(OPEN, from);
    if (start < 0) return parts;
    const close = text.indexOf(CLOSE, start + OPEN.length);
    const inner = text.slice(start + OPEN.length, close < 0 ? text.length : close);
    const lead = inner.length - inner.trimStart().length;
    parts.push({
      expression: inner.trim(),
      start,
      end: close < 0 ? text.length : close + CLOSE.length,
      expressionStart: start + OPEN.length + lead,
      terminated: close >= 0,
    });
    if (close < 0) return parts;
    from = close + CLOSE.length;
  }
}

/** A `${{ … }}` wrapping the whole string (so the value keeps its type, not text). */
export function wholeExpression(text: string): string | undefined {
  const parts = findTemplateParts(text);
  const only = parts[0];
  if (parts.length === 1 && only && only.terminated && text.slice(0, only.start).trim() === '' && text.slice(only.end).trim() === '') {
    return only.expression;
  }
  return undefined;
}

/**
 * A condition as written in `if:` or `loop.until`: either wrapped in `${{ }}` or bare CEL
 * (as GitHub Actions allows for `if:`).
 */
export function conditionSource(text: string): string {
  return wholeExpression(text) ?? text.trim();
}

export interface CelSyntaxError {
  readonly message: string;
  /** Offset into the expression where the parser stopped. */
  readonly offset: number;
}

/** Parses CEL; returns the syntax error, if any, without throwing. */
export function celSyntaxError(expression: string): CelSyntaxError | undefined {
  if (expression.trim() === '') return { message: 'empty expression', offset: 0 };
  try {
    parse(expression);
    return undefined;
  } catch (e) {
    const error = e as { message?: string; node?: { pos?: number } };
    const first = String(error.message ?? e).split('\n')[0] ?? 'syntax error';
    return { message: first, offset: typeof error.node?.pos === 'number' ? error.node.pos : 0 };
  }
}

const NODE_REF = /\bnodes\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*(?:'([^']*)'|"([^"]*)")\s*\])/g;
const INPUT_REF = /\binputs\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*(?:'([^']*)'|"([^"]*)")\s*\])/g;

function refs(pattern: RegExp, expression: string): { name: string; offset: number }[] {
  const out: { name: string; offset: number }[] = [];
  const stripped = blankStringLiterals(expression);
  for (const m of stripped.matchAll(pattern)) {
    const name = m[1] ?? m[2] ?? m[3];
    if (name !== undefined) out.push({ name, offset: m.index ?? 0 });
  }
  return out;
}

/**
 * Blanks out string literals so `'nodes.x'` inside quotes is not taken for a reference —
 * except a literal used as a subscript right after `nodes`/`inputs` (`nodes['my-node']`).
 */
function blankStringLiterals(expression: string): string {
  return expression.replace(/(\[\s*)?('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")/g, (whole, subscript: string | undefined, lit: string) =>
    subscript ? whole : ' '.repeat(lit.length),
  );
}

/** Node ids referenced as `nodes.<id>` or `nodes['<id>']`, with their offsets. */
export function referencedNodes(expression: string): { name: string; offset: number }[] {
  return refs(NODE_REF, expression);
}

/** Input names referenced as `inputs.<name>` or `inputs['<name>']`, with their offsets. */
export function referencedInputs(expression: string): { name: string; offset: number }[] {
  return refs(INPUT_REF, expression);
}
