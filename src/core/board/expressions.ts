import { findTemplateParts, referencedNodes } from '../expr/template';

/**
 * Rewriting node references inside `${{ }}` expressions, for renames. The references are
 * found by the same scanner the loader checks them with, so a rename changes exactly the
 * references the loader would complain about — never a `nodes.x` inside a string literal.
 */

const SIMPLE_ID = /^[A-Za-z_][A-Za-z0-9_]*$/;
const REF_AT = /nodes\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*(['"])([^'"]*)\2\s*\])/y;

/** A CEL expression with every reference to node `from` pointing at `to`. */
export function renameInCel(expression: string, from: string, to: string): string {
  let out = expression;
  const refs = referencedNodes(expression)
    .filter((r) => r.name === from)
    .sort((a, b) => b.offset - a.offset);
  for (const ref of refs) {
    REF_AT.lastIndex = ref.offset;
    const m = REF_AT.exec(out);
    if (!m) continue;
    // `nodes.my-node` would read as a subtraction: ids with dashes need the index form.
    const quote = m[2] ?? "'";
    const replacement = m[1] !== undefined && SIMPLE_ID.test(to) ? `nodes.${to}` : `nodes[${quote}${to}${quote}]`;
    out = out.slice(0, ref.offset) + replacement + out.slice(ref.offset + m[0].length);
  }
  return out;
}

/**
 * A string with every `${{ }}` part renamed; `bare` also treats a string without `${{` as
 * one expression (how `if:` and `loop.until` may be written).
 */
export function renameInTemplate(value: string, from: string, to: string, bare: boolean): string {
  if (bare && !value.includes('${{')) return renameInCel(value, from, to);
  let out = value;
  for (const part of findTemplateParts(value).reverse()) {
    if (!part.terminated) continue;
    const start = part.expressionStart;
    const end = start + part.expression.length;
    out = out.slice(0, start) + renameInCel(part.expression, from, to) + out.slice(end);
  }
  return out;
}

/** Whether a string mentions node `id` in an expression. */
export function refersTo(value: string, id: string, bare: boolean): boolean {
  if (bare && !value.includes('${{')) return referencedNodes(value).some((r) => r.name === id);
  return findTemplateParts(value).some((p) => p.terminated && referencedNodes(p.expression).some((r) => r.name === id));
}
