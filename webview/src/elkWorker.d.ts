/** ELK's worker script, gzip in base64, imported by `elk.ts` (the build's `elk-worker-gzip` plugin, webview/build.mjs). */
declare module 'elk-worker.gz' {
  const base64: string;
  export default base64;
}
