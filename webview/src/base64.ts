/** Base64 text to its bytes, in one call. */
type Base64Decoder = (text: string) => Uint8Array<ArrayBuffer>;

/** `Uint8Array.fromBase64`, where the browser has it (Chromium 140, Firefox 133, Safari 18.2 and later). */
const builtIn = (Uint8Array as unknown as { fromBase64?: Base64Decoder }).fromBase64;

/**
 * The bytes that base64 `text` stands for. The browser's own decoder does it in one call;
 * without one, `atob` gives a string of byte values that is copied out one by one — on
 * ELK's 0.63 MB the median opening of the board spent 20–24 ms on that, against 2–3 ms.
 */
export function base64Bytes(text: string, decoder: Base64Decoder | undefined = builtIn): Uint8Array<ArrayBuffer> {
  if (decoder) return decoder.call(Uint8Array, text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
