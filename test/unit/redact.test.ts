import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { maskPii, PII_KINDS, type PiiKind } from '../../src/core/engine/privacy';
import { Redactor } from '../../src/core/engine/redact';
import { ENCODINGS, telltale } from './support/secrets';

const secretArb = fc.string({ unit: fc.constantFrom(...'abcXYZ019-_/+=."\\ é€'.split('')), minLength: 8, maxLength: 32 }).filter((s) => s.trim().length >= 8);

describe('Redactor', () => {
  it('finds a secret in every encoding, inside longer text, at any base64 offset', () => {
    fc.assert(
      fc.property(secretArb, fc.constantFrom(...Object.keys(ENCODINGS)), fc.string({ maxLength: 10 }), (secret, encoding, around) => {
        const r = new Redactor([secret]);
        const encoded = ENCODINGS[encoding]!(secret);
        const out = r.redactText(`${around}[${encoded}]${around}`);
        assert.ok(!out.includes(telltale(encoded, secret, encoding)), `${encoding} of ${JSON.stringify(secret)} survived: ${out}`);
      }),
      { numRuns: 300 },
    );
  });

  it('catches a secret split across the pieces of a stream, at every offset', () => {
    fc.assert(
      fc.property(secretArb, fc.constantFrom(...Object.keys(ENCODINGS)), fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), (secret, encoding, cuts) => {
        const r = new Redactor([secret]);
        const text = `before ${ENCODINGS[encoding]!(secret)} after\n`;
        const points = [...new Set(cuts.map((c) => c % text.length))].sort((a, b) => a - b);
        const stream = r.stream();
        let out = '';
        let from = 0;
        for (const p of [...points, text.length]) {
          out += stream.write(text.slice(from, p));
          from = p;
        }
        out += stream.flush();
        assert.ok(out.startsWith('before ') && out.endsWith(' after\n'), out);
        assert.ok(!out.includes(telltale(ENCODINGS[encoding]!(secret), secret, encoding)), `${encoding} survived a split: ${out}`);
      }),
      { numRuns: 300 },
    );
  });

  it('passes text with no secret through a stream unchanged and in order', () => {
    const r = new Redactor(['a-long-secret-value']);
    const stream = r.stream();
    const pieces = ['line one\n', 'line', ' two\n', ''];
    assert.equal(pieces.map((p) => stream.write(p)).join('') + stream.flush(), 'line one\nline two\n');
  });

  it('keeps ordinary short words: secrets under four characters are not redacted', () => {
    assert.equal(new Redactor(['abc']).redactText('abc abc'), 'abc abc');
  });
});

describe('personal data masking', () => {
  const all = new Set<PiiKind>(PII_KINDS);
  const cases: [PiiKind, string[], string[]][] = [
    ['email', ['jane.doe+tag@example.co.uk', 'x_y@sub.example.org'], ['not@an', 'user@localhost', 'see @mention and a@b']],
    ['card', ['4111 1111 1111 1111', '5500-0000-0000-0004', '378282246310005'], ['4111 1111 1111 1112', '1234567890123456', 'order 20261130140312']],
    ['ssn', ['078-05-1120', '123 45 6789'], ['000-12-3456', '666-12-3456', '900-12-3456', '123-00-4567']],
    ['phone', ['+1 (415) 555-2671', '+44 20 7946 0958', '415-555-2671', '(030) 1234567'], ['2026-11-30', '12.11.2026', 'v1.2.3', 'build 123456789', '12:30:45']],
    ['ip', ['10.0.0.1', '192.168.1.254', '::1', 'fe80::1ff:fe23:4567:890a'], ['999.1.1.1', '12:30:45', 'a.b.c.d']],
    ['iban', ['DE89 3704 0044 0532 0130 00', 'GB82WEST12345698765432'], ['DE89 3704 0044 0532 0130 01', 'ABCD1234']],
  ];
  for (const [kind, positives, negatives] of cases) {
    it(`masks ${kind}: true positives become [${kind}], look-alikes stay`, () => {
      for (const p of positives) assert.equal(maskPii(`see ${p} here`, new Set([kind])), `see [${kind}] here`, p);
      for (const n of negatives) assert.equal(maskPii(`see ${n} here`, all), `see ${n} here`, n);
    });
  }

  it('masks only the kinds asked for, in streams line by line', () => {
    const r = new Redactor();
    r.maskPii(['email']);
    assert.equal(r.redactText('a@example.com 4111 1111 1111 1111'), '[email] 4111 1111 1111 1111');
    const stream = r.stream();
    assert.equal(stream.write('contact jane.do'), '', 'an unfinished line waits');
    assert.equal(stream.write('e@example.com today\nnext'), 'contact [email] today\n');
    assert.equal(stream.flush(), 'next');
  });
});
