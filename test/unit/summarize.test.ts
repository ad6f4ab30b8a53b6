import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { extractiveSummary, splitSentences } from '../../src/core/conductor/summarize';

const NOTES = `## Session notes

Dr. Smith reviewed the payment module on Jan. 5 and found two problems. The retry loop in
the payment worker never backs off, so a failing card is charged again every second. The
payment worker also logs full card numbers, e.g. in the "charge failed" message.

- Fixed the retry loop: the payment worker now waits 1 s, 2 s, 4 s between attempts.
- Masked card numbers in every log line of the payment worker.
- Updated the README.

It rained all afternoon. Next, the team will add tests for the payment worker's retry loop (see tests/payment.test.ts).`;

describe('splitSentences', () => {
  it('splits at sentence ends, blank lines and list items, not at abbreviations or wrapped lines', () => {
    assert.deepEqual(splitSentences(NOTES), [
      'Session notes',
      'Dr. Smith reviewed the payment module on Jan. 5 and found two problems.',
      'The retry loop in the payment worker never backs off, so a failing card is charged again every second.',
      'The payment worker also logs full card numbers, e.g. in the "charge failed" message.',
      'Fixed the retry loop: the payment worker now waits 1 s, 2 s, 4 s between attempts.',
      'Masked card numbers in every log line of the payment worker.',
      'Updated the README.',
      'It rained all afternoon.',
      "Next, the team will add tests for the payment worker's retry loop (see tests/payment.test.ts).",
    ]);
  });

  it('handles quotes, initials, decimals, ellipses and Windows line ends', () => {
    assert.deepEqual(splitSentences('He said "Stop." Then he left.\r\nJ. R. R. Tolkien wrote it. Is it 3.14? Yes! Version 2.0 shipped... Then v3.'), [
      'He said "Stop."',
      'Then he left.',
      'J. R. R. Tolkien wrote it.',
      'Is it 3.14?',
      'Yes!',
      'Version 2.0 shipped...',
      'Then v3.',
    ]);
    assert.deepEqual(splitSentences('1. First step.\n2) Second step.\n* third\n\n```\n\n'), ['First step.', 'Second step.', 'third']);
  });
});

/** Whether `text` is at most `n` of `sentences`, in order, joined by spaces (with backtracking: one sentence may be a prefix of another). */
function madeOf(text: string, sentences: readonly string[], n: number, from = 0): boolean {
  if (text === '') return true;
  if (n === 0) return false;
  for (let i = from; i < sentences.length; i++) {
    const s = sentences[i]!;
    if (text === s || (text.startsWith(`${s} `) && madeOf(text.slice(s.length + 1), sentences, n - 1, i + 1))) return true;
  }
  return false;
}

describe('extractiveSummary', () => {
  it('picks the sentences carrying the most frequent content words, in their original order', () => {
    assert.equal(
      extractiveSummary(NOTES, 3),
      'The retry loop in the payment worker never backs off, so a failing card is charged again every second. ' +
        'Fixed the retry loop: the payment worker now waits 1 s, 2 s, 4 s between attempts. ' +
        "Next, the team will add tests for the payment worker's retry loop (see tests/payment.test.ts).",
    );
    assert.doesNotMatch(extractiveSummary(NOTES, 5), /rained|Session notes/);
  });

  it('returns short texts whole and empty text as empty', () => {
    assert.equal(extractiveSummary('One sentence only.\nWrapped.', 3), 'One sentence only. Wrapped.');
    assert.equal(extractiveSummary('', 3), '');
    assert.equal(extractiveSummary('   \n\n  ', 3), '');
    assert.equal(extractiveSummary(NOTES, 0), '');
  });

  it('prefers full sentences to headings and fragments', () => {
    const text = 'Payment retries\n\nPayment retries now back off exponentially. The weather was fine. Lunch was late.';
    assert.equal(extractiveSummary(text, 1), 'Payment retries now back off exponentially.');
  });

  it('is deterministic and returns at most N of the text’s own sentences, in order', () => {
    const word = fc.constantFrom('payment', 'worker', 'retry', 'the', 'loop', 'Dr.', 'card', 'e.g.', 'tests', 'and', '3.5', 'Mr.', 'log');
    const sentence = fc.array(word, { minLength: 1, maxLength: 12 }).map((ws) => `${ws.join(' ')}.`);
    const text = fc.array(fc.tuple(sentence, fc.constantFrom(' ', '\n', '\n\n', '\n- ')), { maxLength: 15 }).map((parts) => parts.map(([s, sep]) => s + sep).join(''));
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 6 }), (t, n) => {
        const all = splitSentences(t);
        const summary = extractiveSummary(t, n);
        assert.equal(extractiveSummary(t, n), summary);
        assert.ok(madeOf(summary, all, n), `"${summary}" is not made of at most ${n} of the text's sentences in order`);
      }),
      { numRuns: 500 },
    );
  });
});
