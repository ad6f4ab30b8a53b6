import * as fc from 'fast-check';

/**
 * Any value a record may hold, as JSON.stringify and canonicalJson meet it: strings, numbers,
 * bigints, booleans, null, undefined, dates, byte arrays, arrays and objects keyed by `key`.
 */
export function anyValue(key: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.string(),
      fc.double(),
      fc.integer(),
      fc.bigInt(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.date({ noInvalidDate: true }),
      fc.uint8Array({ maxLength: 4 }),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(key, tie('value'), { maxKeys: 5 }),
    ),
  }));
  return value;
}
