import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { base64Bytes } from '../../webview/src/base64';

describe('board: base64 of ELK’s worker script', () => {
  it('decodes every byte value without a built-in decoder (atob and a copy, as in older browsers)', () => {
    const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(70_001)]);
    const decoded = base64Bytes(bytes.toString('base64'), undefined);
    assert.ok(decoded instanceof Uint8Array);
    assert.deepEqual(Buffer.from(decoded), bytes);
  });

  it('hands the text to the browser’s decoder when there is one, and returns its bytes', () => {
    const seen: string[] = [];
    const decoder = (text: string) => {
      seen.push(text);
      return new Uint8Array(Buffer.from(text, 'base64'));
    };
    assert.deepEqual([...base64Bytes('AAEC/w==', decoder)], [0, 1, 2, 255]);
    assert.deepEqual(seen, ['AAEC/w==']);
  });

  it('rejects text that is not base64 rather than decoding garbage', () => {
    assert.throws(() => base64Bytes('not base64!', undefined));
  });
});
