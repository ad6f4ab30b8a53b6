import type { ASTNode } from '@marcbachmann/cel-js';
import { celEnvironment, EXPRESSION_LIMITS, NO_FAILURE } from './cel';
import { expressionShape } from './shape';

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
  /** Offset into the expression where the parser stopped (or the limit was passed). */
  readonly offset: number;
  /** Set when the expression is valid CEL but past one of EXPRESSION_LIMITS. */
  readonly limit?: true;
}

// Parse-only: the status functions are never called here.
const checker = celEnvironment(() => NO_FAILURE);

/**
 * `nodes` or `inputs` and up to seven field selections, `nodes.build.output` or
 * `inputs.target`: what most expressions are. Valid CEL with nothing to limit, unless a
 * field is one of the words the CEL lexer reads as a literal or an operator. The parser
 * checks its reserved identifiers only where a name starts an expression, and these two
 * names are not among them (the property test in expressions.test.ts holds this to the
 * parser, with every reserved word in every place).
 */
const PLAIN_PATH = /^(?:nodes|inputs)(?:\.[A-Za-z_][A-Za-z0-9_]*){0,7}$/;
const LEXER_WORDS = new Set(['true', 'false', 'null', 'in']);

/** Whether `expression` is a plain path (PLAIN_PATH) with no field the lexer reads as a word: valid without parsing it. */
function isPlainPath(expression: string): boolean {
  if (!PLAIN_PATH.test(expression)) return false;
  for (const part of expression.split('.')) if (LEXER_WORDS.has(part)) return false;
  return true;
}

/**
 * Parses CEL and checks it against EXPRESSION_LIMITS; returns the first problem, if any,
 * without throwing. A limit's message names the limit.
 */
export function celSyntaxError(expression: string): CelSyntaxError | undefined {
  if (expression.trim() === '') return { message: 'empty expression', offset: 0 };
  const { maxChars, maxComprehensionNesting } = EXPRESSION_LIMITS;
  if (expression.length > maxChars) {
    return { message: `the expression is ${count(expression.length)} characters long; an expression may be at most ${count(maxChars)}`, offset: 0, limit: true };
  }
  // Checking a melody of 10,000 nodes parses 10,000 of these: a plain path needs no parse.
  if (isPlainPath(expression)) return undefined;
  let ast: ASTNode;
  try {
    ast = checker.parse(expression).ast;
  } catch (e) {
    const error = e as { message?: string; node?: { pos?: number }; code?: string };
    const first = String(error.message ?? e).split('\n')[0] ?? 'syntax error';
    const offset = typeof error.node?.pos === 'number' ? error.node.pos : 0;
    const limit = /^Exceeded (\w+) \((\d+)\)/.exec(first);
    if (limit) return { message: limitMessage(limit[1]!), offset, limit: true };
    return { message: first, offset };
  }
  const shape = expressionShape(ast);
  if (shape.tooNestedAt !== undefined) {
    return {
      message: `comprehensions are nested ${shape.comprehensionNesting} deep here; an expression may nest at most ${maxComprehensionNesting} (map, filter, all, exists, exists_one): each level multiplies the work`,
      offset: shape.tooNestedAt,
      limit: true,
    };
  }
  return undefined;
}

/** The CEL library's "Exceeded maxDepth (32)" in words. */
function limitMessage(key: string): string {
  const L = EXPRESSION_LIMITS;
  switch (key) {
    case 'maxDepth':
      return `the expression nests deeper than ${L.maxDepth} levels; an expression may nest at most ${L.maxDepth}`;
    case 'maxAstNodes':
      return `the expression has more than ${count(L.maxAstNodes)} parts; an expression may have at most ${count(L.maxAstNodes)}`;
    case 'maxListElements':
      return `a list in the expression has more than ${count(L.maxListElements)} items; a list literal may have at most ${count(L.maxListElements)}`;
    case 'maxMapEntries':
      return `a map in the expression has more than ${count(L.maxMapEntries)} entries; a map literal may have at most ${count(L.maxMapEntries)}`;
    case 'maxCallArguments':
      return `a call in the expression has more than ${L.maxCallArguments} arguments; a call may have at most ${L.maxCallArguments}`;
    default:
      return `the expression is past the limit ${key}`;
  }
}

const count = (n: number) => n.toLocaleString('en-US');

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
  // Most expressions have no literal: no pass of the regular expression over them.
  if (!expression.includes("'") && !expression.includes('"')) return expression;
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
