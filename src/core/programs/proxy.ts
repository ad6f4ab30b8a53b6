import { createServer, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * The allow-list proxy a sandboxed program reaches the network through, run in Symphony's
 * own process: CONNECT tunnels (HTTPS, and whatever else tunnels through CONNECT) and
 * plain-HTTP requests with absolute URLs. Every target is checked as it is asked for —
 * by the melody's guard, so by every calling melody too — and a refused one is answered
 * 403 with the reason. The sandbox has no other way out: its network namespace holds only
 * a loopback, where a helper forwards to this proxy's Unix socket.
 */
export interface NetworkProxy {
  /** The loopback port (when listening on TCP, as on macOS). */
  readonly port?: number;
  close(): Promise<void>;
}

/** Where the proxy listens: a Unix socket (Linux: bound into the sandbox) or a loopback port (macOS). */
export type ProxyListen = { readonly path: string } | { readonly loopback: true };

/**
 * Starts a proxy. `check` throws (a PermissionError) when a URL may not be reached;
 * `onRefused` hears of each refusal, for the node's log.
 */
export async function startProxy(listen: ProxyListen, check: (url: string) => void, onRefused: (target: string, why: string) => void): Promise<NetworkProxy> {
  const sockets = new Set<Duplex>();
  const track = (s: Duplex) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  /** The reason `url` is refused, or undefined when it may be reached. */
  const refusal = (url: string, target: string): string | undefined => {
    try {
      check(url);
      return undefined;
    } catch (e) {
      const why = (e as Error).message;
      onRefused(target, why);
      return why;
    }
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
      if (url.protocol !== 'http:') throw new Error('not http');
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('Symphony’s proxy forwards absolute http:// URLs and CONNECT tunnels only');
      return;
    }
    const why = refusal(url.href, url.host);
    if (why) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end(why);
      return;
    }
    const headers: OutgoingHttpHeaders = { ...req.headers };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    const upstream = httpRequest({ host: unbracket(url.hostname), port: url.port || 80, method: req.method, path: url.pathname + url.search, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`Symphony’s proxy could not reach ${url.host}: ${e.message}`);
    });
    req.pipe(upstream);
  });

  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    track(client);
    client.on('error', () => client.destroy());
    const target = req.url ?? '';
    let url: URL;
    try {
      url = new URL(`https://${target}`);
      if (!url.port) throw new Error('no port');
    } catch {
      client.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\nCONNECT needs host:port');
      return;
    }
    const why = refusal(url.href, target);
    if (why) {
      client.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${why}`);
      return;
    }
    const upstream: Socket = connect(Number(url.port), unbracket(url.hostname));
    track(upstream);
    upstream.on('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', (e) => {
      if (upstream.connecting) client.end(`HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\nSymphony’s proxy could not reach ${target}: ${e.message}`);
      else client.destroy();
    });
    client.on('close', () => upstream.destroy());
  });
  server.on('connection', track);

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    if ('path' in listen) server.listen(listen.path, resolvePromise);
    else server.listen(0, '127.0.0.1', resolvePromise);
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? (address as AddressInfo).port : undefined,
    close: () =>
      new Promise<void>((resolvePromise) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolvePromise());
      }),
  };
}

const unbracket = (host: string) => host.replace(/^\[|\]$/g, '');
