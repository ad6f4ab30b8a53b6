/** ELK's worker script, imported as text by `elk.ts` (esbuild's `with { type: 'text' }`). */
declare module 'elkjs/lib/elk-worker.min.js' {
  const source: string;
  export default source;
}
