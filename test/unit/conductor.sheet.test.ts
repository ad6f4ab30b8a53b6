import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyTick, parseSheet, tickEdit } from '../../src/core/conductor/sheet';

const SHEET = `# Sheet Music

## Goal

Greet people properly.

## Tasks

<!-- One task per line.
- [ ] not a task: inside a comment -->
- [ ] Fix the greeting in \`src/greet.js\` @backend/coder
  so that it has a comma, as \`test/greet.test.js\` expects
- [x] Set up the repository
* [ ] Write docs for \`docs/api.md\` and v1.2 of the API
1. [X] Done in another style
\`\`\`
- [ ] not a task: inside a code fence
\`\`\`

## Notes for the Conductor

- Keep changes small.
`;

describe('sheetMusic.md', () => {
  it('reads the goal, the tasks with their numbers, mentions, files and details, and the notes', () => {
    const sheet = parseSheet(SHEET);
    assert.equal(sheet.goal, 'Greet people properly.');
    assert.equal(sheet.notes, '- Keep changes small.');
    assert.deepEqual(
      sheet.tasks.map((t) => [t.number, t.line, t.done, t.objective, t.mentions, t.files]),
      [
        [1, 11, false, 'Fix the greeting in `src/greet.js`', ['backend/coder'], ['src/greet.js', 'test/greet.test.js']],
        [2, 13, true, 'Set up the repository', [], []],
        [3, 14, false, 'Write docs for `docs/api.md` and v1.2 of the API', [], ['docs/api.md']],
        [4, 15, true, 'Done in another style', [], []],
      ],
    );
    assert.equal(sheet.tasks[0]!.details, 'so that it has a comma, as `test/greet.test.js` expects');
  });

  it('ticks exactly one task, keeping everything else byte for byte', () => {
    const edit = tickEdit(SHEET, 3)!;
    const ticked = applyTick(SHEET, edit);
    assert.equal(ticked, SHEET.replace('* [ ] Write docs', '* [x] Write docs'));
    assert.equal(parseSheet(ticked).tasks[2]!.done, true);
    assert.equal(tickEdit(ticked, 3), undefined, 'a done task is not ticked again');
    assert.equal(tickEdit(SHEET, 9), undefined);
    const crlf = SHEET.replace(/\n/g, '\r\n');
    assert.equal(applyTick(crlf, tickEdit(crlf, 1)!), crlf.replace('- [ ] Fix', '- [x] Fix'));
  });

  it('never throws, and numbers tasks 1..n in order, whatever the text', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom('- [ ] a task', '- [x] done', '```', '<!--', '-->', '## Goal', '  detail', '', '* [ ] `src/x.ts` @a/b'), fc.string()), { maxLength: 40 }), (lines) => {
        const sheet = parseSheet(lines.join('\n'));
        assert.deepEqual(sheet.tasks.map((t) => t.number), sheet.tasks.map((_, i) => i + 1));
      }),
      { numRuns: 300 },
    );
  });
});
