import * as assert from 'node:assert/strict';
import * as fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { constraintsText, goalsText, parseProduction } from '../../src/core/context/production';
import { REPO } from './helpers';

describe('production.md', () => {
  it("reads `symphony init`'s template, hints in comments left out", () => {
    const goals = parseProduction(readFileSync(join(REPO, 'templates', 'init', 'production.md'), 'utf8'));
    assert.deepEqual(goals, {
      checklist: [
        { text: 'All tests pass', done: false },
        { text: 'No new lint warnings', done: false },
      ],
      qualityMetrics: ['Test coverage does not drop.'],
      constraints: ['Never commit secrets or credentials.', 'Public APIs stay backwards compatible unless a task says otherwise.'],
      featureFlags: [],
      deliverables: [],
      conductorNotes: [],
      other: {},
    });
    assert.equal(constraintsText(goals), '- Never commit secrets or credentials.\n- Public APIs stay backwards compatible unless a task says otherwise.');
  });

  it('reads what people write: wrapped items, paragraphs, numbered lists, loose headings, flags, code', () => {
    const goals = parseProduction(
      [
        '# Goals',
        '',
        '## Definition of Done',
        '',
        '- [x] Schema migrated',
        '* [ ] All tests pass with',
        '  `npm run test:unit`',
        '',
        '## Constraints ##',
        '',
        '1. No network calls in tests.',
        '2) Keep the API',
        '   backwards compatible.',
        '',
        'Treat the database as read-only in CI.',
        '',
        '## Feature Flags',
        '',
        '- new-billing: on — the Stripe path',
        '- `dark-mode`: off',
        '- not a flag',
        '',
        '## Deliverables',
        '',
        '- docs/migration.md',
        '',
        '## Tests',
        '',
        '```sh',
        '# every suite',
        'npm test',
        '```',
        '',
        '## Risks',
        '',
        '- The vendor API is slow.',
        '<!-- a hint',
        'over two lines -->',
      ].join('\r\n'),
    );
    assert.deepEqual(goals.checklist, [
      { text: 'Schema migrated', done: true },
      { text: 'All tests pass with `npm run test:unit`', done: false },
    ]);
    assert.deepEqual(goals.constraints, ['No network calls in tests.', 'Keep the API backwards compatible.', 'Treat the database as read-only in CI.']);
    assert.deepEqual(goals.featureFlags, [
      { name: 'new-billing', on: true, gates: 'the Stripe path' },
      { name: 'dark-mode', on: false },
    ]);
    assert.deepEqual(goals.deliverables, ['docs/migration.md']);
    assert.equal(goals.testCommand, 'npm test', 'the first command of the code block');
    assert.deepEqual(goals.other, { Risks: ['The vendor API is slow.'] });
  });

  it('finds the test command: a "Test command:" line first, then a Tests section, then a checklist item about tests', () => {
    assert.equal(parseProduction('Test command: `npm run test:unit`\n\n## Tests\n\n`make test`\n').testCommand, 'npm run test:unit');
    assert.equal(parseProduction('- Test command: pytest -q\n').testCommand, 'pytest -q');
    assert.equal(parseProduction('## Testing\n\nRun `make test` before pushing.\n').testCommand, 'make test');
    assert.equal(parseProduction('## Checklist\n\n- [ ] Lint is clean (`npm run lint`)\n- [ ] All tests pass (`npm test`)\n').testCommand, 'npm test');
    assert.equal(parseProduction('## Checklist\n\n- [ ] All tests pass\n').testCommand, undefined);
  });

  it('says the other goals in a few lines, or nothing', () => {
    const goals = parseProduction('## Checklist\n\n- [x] Done already\n- [ ] Ship it (`npm test` passes)\n\n## Quality metrics\n\n- p95 < 200 ms\n\n## Deliverables\n\n- CHANGELOG entry\n');
    assert.equal(goalsText(goals), 'Checklist (open items):\n- [ ] Ship it (`npm test` passes)\n\nQuality metrics:\n- p95 < 200 ms\n\nDeliverables:\n- CHANGELOG entry\n\nTests run with: `npm test`');
    assert.equal(goalsText(parseProduction('')), '');
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.array(fc.constantFrom('## Constraints', '## Checklist', '- [ ] x', '- a: on', '```', '<!--', '-->', '', '  more', '1. y'), { maxLength: 30 }), (noise, lines) => {
        const goals = parseProduction(`${noise}\n${lines.join('\n')}`);
        assert.ok(Array.isArray(goals.constraints) && Array.isArray(goals.checklist));
      }),
      { numRuns: 200, seed: 3 },
    );
  });
});
