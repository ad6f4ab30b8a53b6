import { FAILSAFE_SCHEMA, load, Type, type LoadOptions, type State } from 'js-yaml';
import { isScalar, Schema } from 'yaml';
import { MAX_YAML_DEPTH } from './limits';

/**
 * A quick parse of YAML to plain data with js-yaml, several times faster than the `yaml`
 * package, for the common file: one document of maps, lists and scalars. It answers only when
 * its data is what the `yaml` package would give and that package would report nothing — no
 * error, no warning — so a caller may skip building the `yaml` Document until it needs a
 * position. Otherwise (undefined) the caller parses with the `yaml` package, as it always did,
 * and gets that package's messages at its positions.
 *
 * What makes it say "undefined", cheaply and conservatively (a false alarm costs only speed):
 * - before parsing: an `&`, `*`, `!` or `?` where a node may start, a `%` at the start of a
 *   line, or any `<<` or `__proto__` (anchors, aliases, tags, explicit keys, directives, merge
 *   keys, prototype keys); a document marker (`---`, `...`) but one opening the file; a tab
 *   in a line's indentation; a list in a list on one line (`- - a`); an empty list item (`-`
 *   alone on its line); a `#` right after a
 *   closing bracket or quote; a carriage return not followed by a line feed; a byte order
 *   mark; a line of 1,000 characters or more (the `yaml` package refuses implicit keys past
 *   1,024);
 * - while parsing: anything js-yaml refuses (syntax, duplicate keys, nesting past the limit);
 *   a flow collection (`[…]`, `{…}`) spread over lines (the `yaml` package may warn about its
 *   indentation);
 * - after: a key that is not a plain string (a number, a boolean, null, a collection) or is
 *   `<<`, nesting deeper than MAX_YAML_DEPTH, or a top level that is not a map.
 *
 * Scalars resolve by the `yaml` package's own YAML 1.2 core schema tags (`~`, `True`, `0x1F`,
 * `0o17`, `.inf`, `1e3`; `0b101` and `1_000` stay strings), so the values are the same.
 */
export function fastYamlMap(text: string): Record<string, unknown> | undefined {
  // A `---` that opens the file is read alike both ways; other document markers are not.
  const start = /^---[ \t]*\r?\n/.exec(text)?.[0].length ?? 0;
  if (isSuspect(text) || hasLongLine(text) || hasMarker(start ? text.slice(start) : text)) return undefined;
  counts.constructed = 0;
  let collections = 0;
  let multiLineFlow = false;
  const opened: number[] = [];
  let data: unknown;
  try {
    const options: LoadOptions & { maxDepth: number } = {
      schema: CORE_SCHEMA,
      // js-yaml counts every node, scalars too: past this, the `yaml` path refuses the file.
      maxDepth: MAX_YAML_DEPTH + 2,
      listener(event: 'open' | 'close', state: State) {
        if (event === 'open') {
          opened.push(state.position);
          return;
        }
        const from = opened.pop()!;
        const kind = (state as State & { kind: string | null }).kind;
        if (kind !== 'mapping' && kind !== 'sequence') return;
        collections++;
        if (multiLineFlow) return;
        // Where the collection starts, past blanks and comments: a flow one starts with a bracket.
        const input = state.input;
        let i = from;
        for (let c = input.charCodeAt(i); c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x23; c = input.charCodeAt(++i)) {
          if (c === 0x23) i = input.indexOf('\n', i) < 0 ? input.length : input.indexOf('\n', i);
        }
        const c = input.charCodeAt(i);
        if (c === 0x5b || c === 0x7b) {
          const nl = input.indexOf('\n', i);
          if (nl >= 0 && nl < state.position) multiLineFlow = true;
        }
      },
      onWarning() {
        multiLineFlow = true; // anything js-yaml remarks on goes the slow way
      },
    };
    data = load(text, options);
  } catch {
    return undefined;
  }
  if (multiLineFlow || typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const found = { collections: 0, nonStrings: 0, badKey: false };
  if (!walk(data, 1, found) || found.badKey) return undefined;
  // Each number or boolean was constructed once, and each collection closed once: more of
  // either than the data holds means one became a key (made a string by js-yaml).
  if (found.nonStrings !== counts.constructed || found.collections !== collections) return undefined;
  return data as Record<string, unknown>;
}

// Two gates, each an alternation of regular expressions, tried in parts: an alternation
// matches somewhere when one of its alternatives does, and an alternative that needs a
// character the text lacks (one of `&*!?`; a tab) cannot match — a scan for that character
// is much quicker on a large file than trying the alternative at every position.
// test/unit/loadQuickPath.test.ts compares them with the gates written in one piece.

// Anchors, aliases, tags and explicit keys where a node or an entry may start (at the start
// of a line or after an indicator: `: &a`, `- *a`, `[!t`, `? k`). `a && b`, `x != y` or
// `*.ts` inside a scalar are left alone.
const INDICATED = /(?:^|[:?,[{-])[ \t]*[&*!?]/m;
const INDICATOR = /[&*!?]/;
// Directives, merge keys, prototype keys. And a `#` right after a closing bracket or quote,
// which js-yaml takes for a comment.
const SUSPECT_REST = /^%|<<|__proto__|[\]}"']#/m;
// Tabs in indentation, where the two parsers disagree on what is an error.
const TAB_INDENT = /^ *\t/m;
// Document markers. A list item that opens a list on its line (`- - a`) or is empty (`-`
// alone), after which js-yaml may put the next item in the wrong list; a carriage return on
// its own, a line break to js-yaml only; a byte order mark.
const MARKER_REST = /^(?:---|\.\.\.)|^ *-[ \t]+-(?:[ \t\r]|$)|^ *-[ \t]*(?:#.*)?\r?$|\r(?!\n)|\uFEFF/m;

/** Whether `text` has what the first gate looks for: anchors, aliases, tags, explicit keys, directives, merge or prototype keys. */
export function isSuspect(text: string): boolean {
  return SUSPECT_REST.test(text) || (INDICATOR.test(text) && INDICATED.test(text));
}

/** Whether `text` has what the second gate looks for: document markers, tabs in indentation, lists in lists, lone carriage returns, a byte order mark. */
export function hasMarker(text: string): boolean {
  return MARKER_REST.test(text) || (text.includes('\t') && TAB_INDENT.test(text));
}

/** Whether a line has 1,000 characters or more (a loop: the regular expression is slow). */
function hasLongLine(text: string): boolean {
  let start = 0;
  for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
    if (nl - start >= 1000) return true;
    start = nl + 1;
  }
  return text.length - start >= 1000;
}

/** Counts what the scalar types constructed (numbers and booleans) in the current parse. */
const counts = { constructed: 0 };

/** False when `value` nests deeper than MAX_YAML_DEPTH; counts into `found`. */
function walk(value: unknown, depth: number, found: { collections: number; nonStrings: number; badKey: boolean }): boolean {
  if (typeof value === 'number' || typeof value === 'boolean') {
    found.nonStrings++;
    return true;
  }
  if (typeof value !== 'object' || value === null) return true;
  if (depth > MAX_YAML_DEPTH) return false;
  found.collections++;
  if (Array.isArray(value)) {
    for (const item of value) if (!walk(item, depth + 1, found)) return false;
    return true;
  }
  for (const key in value) {
    // js-yaml writes a null key as "null"; the `yaml` package as "".
    if (key === 'null' || key === '<<') found.badKey = true;
    if (!walk((value as Record<string, unknown>)[key], depth + 1, found)) return false;
  }
  return true;
}

/** The `yaml` package's core-schema scalar tags that resolve plain scalars by a regular expression, in its order. */
const CORE_SCALARS = new Schema({ schema: 'core' }).tags.flatMap((tag) => ('test' in tag && tag.test && !tag.collection ? [{ tag, test: tag.test }] : []));

/**
 * Whether some core-schema type may take a plain scalar — one regular expression made of
 * all of theirs, tested once per scalar (js-yaml asks each type in turn, and nearly every
 * scalar of a melody is a string that none takes). Remembers the last scalar asked about.
 * Only when every expression is a plain one (no flags); otherwise it says yes and each
 * type tests for itself, as before.
 */
const mayResolve = ((): ((s: string) => boolean) => {
  if (CORE_SCALARS.some(({ test }) => test.flags !== '')) return () => true;
  const any = new RegExp(CORE_SCALARS.map(({ test }) => `(?:${test.source})`).join('|'));
  let last: string | undefined;
  let answer = true;
  return (s) => {
    if (s !== last) {
      last = s;
      answer = any.test(s);
    }
    return answer;
  };
})();

/**
 * js-yaml types for the `yaml` package's core-schema scalars, in its order: each tests a plain
 * scalar with that package's regular expression and resolves it with that package's code.
 */
const CORE_SCHEMA = FAILSAFE_SCHEMA.extend({
  implicit: CORE_SCALARS.map(({ tag, test }, i) => {
    const isNull = tag.tag === 'tag:yaml.org,2002:null';
    return (
      // js-yaml keeps one type per tag name: numbered, as the `yaml` package has several per tag.
      new Type(`${tag.tag}#${i}`, {
        kind: 'scalar',
        resolve: (s: string) => mayResolve(s) && test.test(s),
        construct: (s: string) => {
          const v: unknown = tag.resolve(s, () => {}, { intAsBigInt: false } as never);
          const value = isScalar(v) ? v.value : v;
          if (!isNull) counts.constructed++;
          return value;
        },
      })
    );
  }),
});
