import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { normalizePath } from './match';

/** Largest request body accepted, so a webhook cannot exhaust memory. */
export const MAX_WEBHOOK_BODY = 1024 * 1024;

/** A route the server answers: a path, an optional secret (by name) and what to do. */
export interface WebhookRoute {
  readonly path: string;
  /** Name of the secret whose HMAC-SHA256 must sign the body; unsigned when absent. */
  readonly secret?: string;
  /** Starts what the route triggers; resolves with a short description for the response. */
  readonly fire: (payload: unknown) => Promise<string>;
}

/** Parses a request body: JSON when it says so (or looks like it), else text. */
function parseBody(body: Buffer, contentType: string | undefined): unknown {
  const text = body.toString('utf8');
  if (contentType?.includes('json') || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

/** `sha256=<hex>` over the body with the secret, compared in constant time. */
export function signatureMatches(body: Buffer, secret: string, header: string | undefined): boolean {
  if (!header?.startsWith('sha256=')) return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The HTTP endpoint of `on: webhook` triggers. POST to a route's path starts its melodies
 * and answers 202 at once (the run goes on in the background). A route with a secret
 * requires the body's HMAC-SHA256 in `X-Symphony-Signature-256` (or GitHub's
 * `X-Hub-Signature-256`) as `sha256=<hex>`; anything else is refused with 401.
 */
export class WebhookServer {
  private server: Server | undefined;
  private routes = new Map<string, WebhookRoute[]>();

  constructor(private readonly secrets: (name: string) => Promise<string | undefined>) {}

  setRoutes(routes: readonly WebhookRoute[]): void {
    const map = new Map<string, WebhookRoute[]>();
    for (const r of routes) map.set(normalizePath(r.path), [...(map.get(normalizePath(r.path)) ?? []), r]);
    this.routes = map;
  }

  get paths(): string[] {
    return [...this.routes.keys()].sort();
  }

  /** Starts listening; port 0 picks a free port. Resolves with the base URL. */
  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, body: Record<string, unknown>) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    try {
      const path = normalizePath(new URL(req.url ?? '/', 'http://localhost').pathname);
      const routes = this.routes.get(path);
      if (!routes) return reply(404, { error: `no webhook trigger listens on ${path}`, paths: this.paths });
      if (req.method !== 'POST') return reply(405, { error: 'webhook triggers answer POST only' });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > MAX_WEBHOOK_BODY) return reply(413, { error: `the body is larger than ${MAX_WEBHOOK_BODY} bytes` });
        chunks.push(chunk as Buffer);
      }
      const body = Buffer.concat(chunks);
      const signature = (req.headers['x-symphony-signature-256'] ?? req.headers['x-hub-signature-256']) as string | undefined;
      const started: string[] = [];
      for (const route of routes) {
        if (route.secret) {
          const secret = await this.secrets(route.secret);
          if (secret === undefined) return reply(500, { error: `the secret ${route.secret} this webhook is signed with is not set` });
          if (!signatureMatches(body, secret, signature)) return reply(401, { error: 'missing or wrong signature (X-Symphony-Signature-256: sha256=<hmac of the body>)' });
        }
        started.push(await route.fire(parseBody(body, req.headers['content-type'])));
      }
      reply(202, { accepted: started });
    } catch (e) {
      reply(500, { error: (e as Error).message });
    }
  }
}
