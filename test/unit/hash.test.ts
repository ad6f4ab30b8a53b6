import * as assert from 'node:assert/strict';
import * as fc from 'fast-check';
import { canonicalJson, canonicalObject, sortKeys } from '../../src/core/engine/hash';
import { anyValue } from './arbitraries';

/**
 * canonicalJson as it was first written: JSON.stringify with a replacer that rebuilds every
 * plain object with its keys sorted. The audit chain already holds hashes of this text, so
 * the faster writer must give the very same bytes for every value.
 */
function reference(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)) {
        return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      }
      return v;
    }) ?? 'null'
  );
}

describe('canonicalJson', () => {
  it('writes exactly what the replacer-based original wrote, for any value', () => {
    const key = fc.oneof(fc.string(), fc.constantFrom('0', '1', '2', '10', '01', '-1', '4294967294', '4294967295', '__proto__', 'constructor', 'toJSON', 'a', 'B', 'é'));
    const value = anyValue(key);
    fc.assert(
      fc.property(value, (v) => {
        assert.equal(canonicalJson(v), reference(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('sorts keys, puts index keys first as JavaScript does, and keeps own __proto__ keys', () => {
    const tricky = JSON.parse('{"b":1,"10":2,"9":3,"a":{"__proto__":{"z":1,"y":2}},"u":[1,null],"x":"\\u2028"}') as unknown;
    assert.equal(canonicalJson(tricky), reference(tricky));
    assert.equal(canonicalJson(tricky), '{"9":3,"10":2,"a":{"__proto__":{"y":2,"z":1}},"b":1,"u":[1,null],"x":"\u2028"}');
    // eslint-disable-next-line no-sparse-arrays
    assert.equal(canonicalJson([1, , undefined, () => 1, 2n, Number.NaN, { toJSON: () => 'j' }]), '[1,null,null,null,"2",null,"j"]');
  });

  it('orders keys as the built-in sort does, by UTF-16 code units, for few keys and many', () => {
    const key = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('a', 'B', 'é', '\u{1F600}', '\uFFFF', '10', '9', ''));
    fc.assert(
      fc.property(fc.uniqueArray(key, { maxLength: 40 }), (keys) => {
        assert.deepEqual(sortKeys([...keys]), [...keys].sort());
      }),
      { numRuns: 2000 },
    );
  });

  it('writes an object given as sorted keys and values exactly as canonicalJson writes the object', () => {
    const value = anyValue(fc.string());
    fc.assert(
      fc.property(value, value, fc.option(fc.string(), { nil: undefined }), value, (input, node, instrument, kind) => {
        assert.equal(canonicalObject(['input', 'instrument', 'kind', 'node'], [input, instrument, kind, node]), canonicalJson({ node, input, instrument, kind }));
      }),
      { numRuns: 1000 },
    );
  });
});
