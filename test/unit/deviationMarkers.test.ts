import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { couldHoldMarker, isBinary, markerDiagnostic, scanEveryLine, scanText, type Marker } from '../../src/core/deviations/markers';
import type { Range } from '../../src/core/model/diagnostic';

/** `line:col severity "text"` per marker — exact and readable in a deep-equal. */
const brief = (ms: readonly Marker[]) => ms.map((m) => `${m.line}:${m.column} ${m.severity} ${JSON.stringify(m.text)}`);
const scan = (...lines: string[]) => brief(scanText(lines.join('\n')));

/** Deletes a removal range from text, the way the editor applies the quick fix. */
function remove(text: string, r: Range): string {
  const lines = text.match(/[^\r\n]*(?:\r\n|\r|\n|$)/g) ?? [];
  const offset = (line: number, column: number) => lines.slice(0, line - 1).reduce((n, l) => n + l.length, 0) + column - 1;
  return text.slice(0, offset(r.start.line, r.start.column)) + text.slice(offset(r.end.line, r.end.column));
}

/** Texts made of the fragments that matter to the scanner: quotes, openers, closers, markers. */
const fragment = fc.constantFrom(
  'code();', ' ', '"str"', "'s'", '`t`', '`', '/*', '*/', '<!--', '-->', '//', '#', '--', ';', 'http://x', "it's", 'src/**/*.ts',
  '// DEVIATION_MINOR: a', '# ARCHITECTURAL_MISMATCH: b', '/* FUNDAMENTAL_BREAK: c */', ' * DEVIATION_MINOR: d', '; DEVIATION_MINOR: e',
);
const line = fc.array(fragment, { maxLength: 5 }).map((parts) => parts.join(' '));
const text = fc.tuple(fc.array(line, { maxLength: 8 }), fc.constantFrom('\n', '\r\n')).map(([lines, eol]) => lines.join(eol));

describe('deviation markers', () => {
  describe('comment syntaxes', () => {
    it('recognises each of the six openers, with the text after the colon as the message', () => {
      assert.deepEqual(scan('// DEVIATION_MINOR: slash'), ['1:4 minor "slash"']);
      assert.deepEqual(scan('# ARCHITECTURAL_MISMATCH: hash'), ['1:3 major "hash"']);
      assert.deepEqual(scan('/* FUNDAMENTAL_BREAK: block */'), ['1:4 fundamental "block"']);
      assert.deepEqual(scan('<!-- DEVIATION_MINOR: html -->'), ['1:6 minor "html"']);
      assert.deepEqual(scan('-- ARCHITECTURAL_MISMATCH: sql'), ['1:4 major "sql"']);
      assert.deepEqual(scan('; FUNDAMENTAL_BREAK: lisp'), ['1:3 fundamental "lisp"']);
    });

    it('accepts runs of the opener and no space before the marker', () => {
      assert.deepEqual(scan('/// DEVIATION_MINOR: a', '//! DEVIATION_MINOR: b', '## DEVIATION_MINOR: c', ';;; DEVIATION_MINOR: d', '/** DEVIATION_MINOR: e */', '--- DEVIATION_MINOR: f', '<!--- DEVIATION_MINOR: g -->', '//DEVIATION_MINOR: h', '#!DEVIATION_MINOR: i'), [
        '1:5 minor "a"',
        '2:5 minor "b"',
        '3:4 minor "c"',
        '4:5 minor "d"',
        '5:5 minor "e"',
        '6:5 minor "f"',
        '7:7 minor "g"',
        '8:3 minor "h"',
        '9:3 minor "i"',
      ]);
    });

    it('finds markers mid-line, after code, with the column of the marker word', () => {
      assert.deepEqual(scan('const x = f(1); // ARCHITECTURAL_MISMATCH: f should take a list'), ['1:20 major "f should take a list"']);
      assert.deepEqual(scan('x = 1  # DEVIATION_MINOR: py'), ['1:10 minor "py"']);
      assert.deepEqual(scan('SELECT 1; -- FUNDAMENTAL_BREAK: no index'), ['1:14 fundamental "no index"']);
      assert.deepEqual(scan('<p>It\'s here</p> <!-- DEVIATION_MINOR: apostrophe before -->'), ['1:23 minor "apostrophe before"']);
    });

    it('ends a block comment message at its closer and keeps reading after it', () => {
      assert.deepEqual(scan('f(/* DEVIATION_MINOR: arg */ 1); // FUNDAMENTAL_BREAK: after'), ['1:6 minor "arg"', '1:37 fundamental "after"']);
      assert.deepEqual(scan('<!--DEVIATION_MINOR:tight-->text'), ['1:5 minor "tight"']);
      assert.deepEqual(scan('x = 1 /**/; // DEVIATION_MINOR: after an empty block', 'FUNDAMENTAL_BREAK: not in a block'), ['1:16 minor "after an empty block"']);
    });

    it('follows block comments across lines: the opener line and continuation lines', () => {
      assert.deepEqual(scan('/**', ' * Some docs.', ' * FUNDAMENTAL_BREAK: the API is sync', ' */', 'code(); // DEVIATION_MINOR: after'), [
        '3:4 fundamental "the API is sync"',
        '5:12 minor "after"',
      ]);
      assert.deepEqual(scan('<!--', '  DEVIATION_MINOR: in html', '-->', 'DEVIATION_MINOR: not in a comment'), ['2:3 minor "in html"']);
      assert.deepEqual(scan('/* ARCHITECTURAL_MISMATCH: spans', '   lines */ x = 1;'), ['1:4 major "spans"']);
      assert.deepEqual(scan('/*', ' * text DEVIATION_MINOR: mentioned mid-sentence', ' * DEVIATION_MINOR: closes here */'), ['3:4 minor "closes here"']);
      assert.deepEqual(scan('/*', '  # FUNDAMENTAL_BREAK: a hash inside a block', '*/'), ['2:5 fundamental "a hash inside a block"']);
    });
  });

  describe('what is not a marker', () => {
    it('ignores markers inside string literals, with escapes', () => {
      assert.deepEqual(scan('s = "// DEVIATION_MINOR: in a string"'), []);
      assert.deepEqual(scan("s = '# DEVIATION_MINOR: single'"), []);
      assert.deepEqual(scan('s = "a \\" // DEVIATION_MINOR: escaped quote"'), []);
      assert.deepEqual(scan('s = "/* not a block"; // DEVIATION_MINOR: real'), ['1:26 minor "real"']);
      assert.deepEqual(scan('s = `', '// DEVIATION_MINOR: in a template literal', '`; // DEVIATION_MINOR: after it'), ['3:7 minor "after it"']);
    });

    it('does not take URLs for comments, in code or in the message', () => {
      assert.deepEqual(scan('const u = "http://x"; // DEVIATION_MINOR: see http://x/y#z'), ['1:26 minor "see http://x/y#z"']);
      assert.deepEqual(scan('url: http://x # ARCHITECTURAL_MISMATCH: unquoted url before'), ['1:17 major "unquoted url before"']);
      assert.deepEqual(scan('see http://DEVIATION_MINOR:x and https://host/#DEVIATION_MINOR: y'), []);
    });

    it('needs the marker right after the opener, the colon, the exact word', () => {
      assert.deepEqual(scan('// write DEVIATION_MINOR: to flag a small deviation'), []);
      assert.deepEqual(scan('DEVIATION_MINOR: a bare line'), []);
      assert.deepEqual(scan('// DEVIATION_MINOR no colon', '// deviation_minor: lower case', '// DEVIATION_MINORS: longer word', '// XDEVIATION_MINOR: prefixed'), []);
      assert.deepEqual(scan('a#DEVIATION_MINOR: x', 'i--DEVIATION_MINOR: y'), []);
    });

    it('does not open a block comment at a glob or a path', () => {
      assert.deepEqual(scan('paths: [src/**/*.ts] # DEVIATION_MINOR: glob before', 'FUNDAMENTAL_BREAK: not in a block', 'rm -rf build/* # DEVIATION_MINOR: path'), [
        '1:24 minor "glob before"',
        '3:18 minor "path"',
      ]);
    });

    it('ignores Markdown code fences and spans', () => {
      assert.deepEqual(scan('Use `<!-- DEVIATION_MINOR: x -->` like this:', '```html', '<!-- DEVIATION_MINOR: an example -->', '```', '<!-- DEVIATION_MINOR: a real one -->'), ['5:6 minor "a real one"']);
    });
  });

  describe('line endings and file shapes', () => {
    it('handles CRLF and lone CR without a CR in the message or an off column', () => {
      assert.deepEqual(brief(scanText('a\r\n// DEVIATION_MINOR: crlf\r\nb // FUNDAMENTAL_BREAK: two\r\n')), ['2:4 minor "crlf"', '3:6 fundamental "two"']);
      assert.deepEqual(brief(scanText('a\r# DEVIATION_MINOR: cr\r')), ['2:3 minor "cr"']);
      // Far below many CRLF lines, mixed with lone CRs and LFs, the marker's line is still found.
      const breaks = ['\r\n', '\r', '\n'];
      const mixed = Array.from({ length: 90 }, (_, i) => `x${i}${breaks[i % 3 === 0 ? 0 : i % 2 ? 1 : 2]}`).join('');
      assert.deepEqual(brief(scanText(`${'\r\n'.repeat(40)}# DEVIATION_MINOR: after forty\r\n${mixed}// ARCHITECTURAL_MISMATCH: last\r\n`)), [
        '41:3 minor "after forty"',
        '132:4 major "last"',
      ]);
    });

    it('finds a marker on a last line without a trailing newline', () => {
      assert.deepEqual(brief(scanText('x\n// ARCHITECTURAL_MISMATCH: last')), ['2:4 major "last"']);
    });

    it('gives an empty message for a marker with nothing after the colon', () => {
      const [m] = scanText('// DEVIATION_MINOR:   ');
      assert.equal(m?.text, '');
      assert.equal(m?.endColumn, 20);
      assert.equal(markerDiagnostic('a.ts', m!).message, 'DEVIATION_MINOR: (no description)');
    });

    it('skips binary content', () => {
      assert.equal(isBinary(Buffer.from('// DEVIATION_MINOR: x\0')), true);
      assert.equal(isBinary(Buffer.from('// DEVIATION_MINOR: x')), false);
    });
  });

  describe('diagnostics', () => {
    it('maps minor → info, major → warning, fundamental → error over the marker and its message', () => {
      const ds = scanText('// DEVIATION_MINOR: a\n# ARCHITECTURAL_MISMATCH: b\n/* FUNDAMENTAL_BREAK: c */').map((m) => markerDiagnostic('f', m));
      assert.deepEqual(
        ds.map((d) => [d.severity, d.code, d.message, `${d.range.start.line}:${d.range.start.column}-${d.range.end.column}`]),
        [
          ['info', 'deviation-marker', 'DEVIATION_MINOR: a', '1:4-22'],
          ['warning', 'deviation-marker', 'ARCHITECTURAL_MISMATCH: b', '2:3-28'],
          ['error', 'deviation-marker', 'FUNDAMENTAL_BREAK: c', '3:4-24'],
        ],
      );
    });
  });

  describe('reading only the files that can hold one', () => {
    it('says a line could hold a marker whenever a file finds one on it (property)', () => {
      fc.assert(
        fc.property(text, (t) => {
          const lines = t.split(/\r\n|\n/);
          for (const m of scanText(t)) assert.ok(couldHoldMarker(lines[m.line - 1]!), `line ${m.line} of ${JSON.stringify(t)}`);
        }),
        { numRuns: 1000 },
      );
    });

    it('passes over lines without a marker word yet finds what reading every line finds (property)', () => {
      const anyEol = fc.tuple(fc.array(line, { maxLength: 12 }), fc.constantFrom('\n', '\r\n', '\r')).map(([lines, eol]) => lines.join(eol));
      fc.assert(
        fc.property(anyEol, (t) => assert.deepEqual(scanText(t), scanEveryLine(t), JSON.stringify(t))),
        { numRuns: 3000 },
      );
      // Line breaks of all three kinds in one text: scanText finds its lines by their offsets.
      const mixedEol = fc
        .tuple(fc.array(fc.tuple(line, fc.constantFrom('\n', '\r\n', '\r')), { maxLength: 12 }), line)
        .map(([ended, lastLine]) => ended.map(([l, eol]) => l + eol).join('') + lastLine);
      fc.assert(
        fc.property(mixedEol, (t) => assert.deepEqual(scanText(t), scanEveryLine(t), JSON.stringify(t))),
        { numRuns: 3000 },
      );
    });

    it('rules out mentions that no context makes a marker', () => {
      assert.equal(couldHoldMarker('const s = "DEVIATION_MINOR: in a string";'), false);
      // Inside a block comment the quote opens nothing, and `//` may introduce a marker.
      assert.equal(couldHoldMarker('const s = "// DEVIATION_MINOR: in a string";'), true);
      assert.equal(couldHoldMarker('Write DEVIATION_MINOR: in a comment'), false);
      assert.equal(couldHoldMarker('  * FUNDAMENTAL_BREAK: maybe in a block'), true);
      assert.equal(couldHoldMarker('x // DEVIATION_MINOR: y'), true);
    });
  });

  describe('removal', () => {
    const removeFirst = (text: string) => remove(text, scanText(text)[0]!.removal);

    it('deletes the whole line when the comment is all there is on it', () => {
      assert.equal(removeFirst('a\n  // DEVIATION_MINOR: x\nb\n'), 'a\nb\n');
      assert.equal(removeFirst('a\r\n# DEVIATION_MINOR: x\r\nb'), 'a\r\nb');
      assert.equal(removeFirst('a\n// DEVIATION_MINOR: last line'), 'a');
      assert.equal(removeFirst('// DEVIATION_MINOR: only line'), '');
      assert.equal(removeFirst('a\n<!-- DEVIATION_MINOR: x -->\nb'), 'a\nb');
    });

    it('deletes only the comment after code, and keeps code after a block comment', () => {
      assert.equal(removeFirst('f(); // DEVIATION_MINOR: x\n'), 'f();\n');
      assert.equal(removeFirst('f(/* DEVIATION_MINOR: x */ 1);'), 'f( 1);');
      assert.equal(removeFirst('SELECT 1; -- DEVIATION_MINOR: x'), 'SELECT 1;');
    });

    it('keeps a block comment that goes on: its opener, its closer, its other lines', () => {
      assert.equal(removeFirst('/**\n * Docs.\n * FUNDAMENTAL_BREAK: x\n */\n'), '/**\n * Docs.\n */\n');
      assert.equal(removeFirst('/* DEVIATION_MINOR: x\n   more */'), '/* \n   more */');
      assert.equal(removeFirst('/*\n * DEVIATION_MINOR: x */'), '/*\n */');
    });

    it('removes exactly one marker, whatever the text around it (property)', () => {
      fc.assert(
        fc.property(text, (t) => {
          const markers = scanText(t);
          for (const m of markers) {
            assert.ok(!/[\r\n]/.test(m.text));
            const after = scanText(remove(t, m.removal));
            assert.equal(after.length, markers.length - 1, `removing ${JSON.stringify(m)} from ${JSON.stringify(t)}`);
          }
        }),
        { numRuns: 1000 },
      );
    });
  });
});
