/**
 * The helper that gives a sandboxed program its proxy (Linux). The sandbox's network
 * namespace has only a loopback, so this runs first, inside it, on Symphony's own Node:
 * it listens on a loopback port, forwards every connection to the proxy's Unix socket
 * (bound into the sandbox), and starts the program with HTTP(S)_PROXY pointing at that
 * port (NO_PROXY comes from Symphony: see launch.ts).
 *
 * It ignores SIGTERM, SIGINT and SIGHUP — the program, in the same process group, gets
 * Symphony's SIGTERM itself and has its grace period; the helper must not die first, since
 * the sandbox ends when it does. When the program ends, it ends the same way.
 *
 * Arguments: the socket, the program, its arguments. Plain JavaScript run with `node -e`.
 */
export const NETWORK_HELPER = `
const net = require('net');
const { spawn } = require('child_process');
const [socket, program, ...args] = process.argv.slice(1);
for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(s, () => {});
const server = net.createServer((c) => {
  const u = net.connect(socket);
  c.pipe(u).pipe(c);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const proxy = 'http://127.0.0.1:' + server.address().port;
  const env = { ...process.env, HTTP_PROXY: proxy, HTTPS_PROXY: proxy, http_proxy: proxy, https_proxy: proxy, NODE_USE_ENV_PROXY: '1' };
  delete env.ELECTRON_RUN_AS_NODE;
  const child = spawn(program, args, { stdio: 'inherit', env });
  child.on('error', (e) => { process.stderr.write(program + ': ' + e.message + '\\n'); process.exit(127); });
  child.on('exit', (code, signal) => {
    server.close();
    if (signal) { process.removeAllListeners(signal); process.kill(process.pid, signal); }
    else process.exit(code);
  });
});
`;
