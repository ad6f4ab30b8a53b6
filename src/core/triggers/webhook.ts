import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { normalizePath } from './match';

/** Largest request body accepted, so a webhook cannot exhaust memory. */
export const MAX_WEBHOOK_BODY = 1024 * 1024;

/** How far `X-Symphony-Timestamp` may be from this server's clock, either way. */
export const TIMESTAMP_TOLERANCE_S = 5 * 60;

/**
 * How long an accepted signature is remembered. A signature's timestamp is valid for
 * ±TIMESTAMP_TOLERANCE_S, so after twice that no replay of it can pass the time check.
 */
const SEEN_SIGNATURE_MS = 2 * TIMESTAMP_TOLERANCE_S * 1000;
/** GitHub's deliveries carry no signed time: their ids (and signatures) are remembered a day. */
const SEEN_DELIVERY_MS = 24 * 60 * 60 * 1000;
/** At most this many requests are remembered; the oldest are forgotten first. */
const SEEN_LIMIT = 100_000;

/** Each route's token bucket: `perSecond` requests a second on average, bursts of up to `burst`. */
export const DEFAULT_RATE_LIMIT = { perSecond: 10, burst: 20 } as const;

/** A route the server answers: a path, an optional secret (by name) and what to do. */
export interface WebhookRoute {
  readonly path: string;
  /** Name of the secret whose HMAC-SHA256 must sign the request; unsigned when absent. */
  readonly secret?: string;
  /** Starts what the route triggers; resolves with a short description for the response. */
  readonly fire: (payload: unknown) => Promise<string>;
}

/** How the server is set up. */
export interface WebhookServerOptions {
  /**
   * Allow binding to an address other machines can reach. The server then answers signed
   * routes only. Default false: loopback only.
   */
  readonly allowRemote?: boolean;
  /** Requests per route: see DEFAULT_RATE_LIMIT. */
  readonly rateLimit?: { readonly perSecond: number; readonly burst: number };
  readonly now?: () => number;
}

/**
 * `sha256=<hex>` of Symphony's scheme: HMAC-SHA256 with the secret over `<timestamp>.<body>`,
 * so a captured request cannot be sent again later with a new time.
 */
export function symphonySignature(secret: string, timestamp: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

/** `sha256=<hex>` over the body alone (GitHub's `X-Hub-Signature-256`), compared in constant time. */
export function signatureMatches(body: Buffer, secret: string, header: string | undefined): boolean {
  return sameSignature(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`, header);
}

function sameSignature(expected: string, header: string | undefined): boolean {
  if (!header?.startsWith('sha256=')) return false;
  const want = Buffer.from(expected);
  const given = Buffer.from(header);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** Loopback addresses: the only ones served without `allowRemote`. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

/** JSON content types: `application/json`, or any `application/…+json`. */
function isJsonType(contentType: string | undefined): boolean {
  const type = contentType?.split(';')[0]!.trim().toLowerCase() ?? '';
  return type === 'application/json' || /^application\/[\w.+-]+\+json$/.test(type);
}

/** A refusal: the HTTP status and what the client is told. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Keys remembered until they expire; the oldest go first when there are too many. */
class Seen {
  private readonly until = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  /** Remembers the keys; false (and nothing remembered) when one was seen before. */
  claim(keys: readonly string[], forMs: number): boolean {
    const now = this.now();
    for (const k of keys) if ((this.until.get(k) ?? 0) > now) return false;
    for (const k of keys) {
      this.until.delete(k);
      this.until.set(k, now + forMs);
    }
    // Map order is insertion order: expired and excess entries are at the front.
    for (const [k, t] of this.until) {
      if (t > now && this.until.size <= SEEN_LIMIT) break;
      this.until.delete(k);
    }
    return true;
  }
}

/** A token bucket per route. */
class RateLimits {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limit: { readonly perSecond: number; readonly burst: number },
    private readonly now: () => number,
  ) {}

  /** Takes a token for the route; the seconds to wait when there is none. */
  take(route: string): number | undefined {
    const now = this.now();
    const b = this.buckets.get(route) ?? { tokens: this.limit.burst, at: now };
    b.tokens = Math.min(this.limit.burst, b.tokens + ((now - b.at) / 1000) * this.limit.perSecond);
    b.at = now;
    this.buckets.set(route, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.limit.perSecond));
  }
}

const hash = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The HTTP endpoint of `on: webhook` triggers, shared by `symphony serve` and the
 * extension. POST to a route's path starts its melodies and answers 202 at once (the run
 * goes on in the background). What it refuses, and how:
 *
 * - 403: a request with an `Origin` (a browser: a web page must not start melodies) or
 *   whose `Host` is not the address the server is bound to (DNS rebinding); an unsigned
 *   route when the server is reachable from other machines.
 * - 404 unknown path, 405 not POST, 413 a body over 1 MiB.
 * - 429: past the route's rate limit (DEFAULT_RATE_LIMIT), with `Retry-After`.
 * - 415: a content type other than JSON; 400: a body that is not JSON.
 * - 401: a route with a secret, without a valid signature — Symphony's
 *   `X-Symphony-Timestamp: <unix seconds>` (within ±5 minutes) with
 *   `X-Symphony-Signature-256: sha256=<HMAC-SHA256 of "<timestamp>.<body>">`, or GitHub's
 *   `X-Hub-Signature-256` over the body with its `X-GitHub-Delivery` id.
 * - 409: a signed request seen before (a replay): signatures are remembered for 10
 *   minutes, GitHub deliveries (by id and by signature) for a day — in memory, per server.
 */
export class WebhookServer {
  private server: Server | undefined;
  private routes = new Map<string, WebhookRoute[]>();
  /** `host:port` values a request may name; undefined when bound to every interface. */
  private hosts: Set<string> | undefined;
  private readonly now: () => number;
  private readonly seen: Seen;
  private readonly limits: RateLimits;

  constructor(
    private readonly secrets: (name: string) => Promise<string | undefined>,
    private readonly options: WebhookServerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.seen = new Seen(this.now);
    this.limits = new RateLimits(options.rateLimit ?? DEFAULT_RATE_LIMIT, this.now);
  }

  setRoutes(routes: readonly WebhookRoute[]): void {
    const map = new Map<string, WebhookRoute[]>();
    for (const r of routes) map.set(normalizePath(r.path), [...(map.get(normalizePath(r.path)) ?? []), r]);
    this.routes = map;
  }

  get paths(): string[] {
    return [...this.routes.keys()].sort();
  }

  /**
   * Starts listening; port 0 picks a free port. Resolves with the base URL. An address
   * other than loopback is refused unless the server was made with `allowRemote`.
   */
  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    if (!isLoopback(host) && !this.options.allowRemote) {
      throw new Error(`${host} is not a loopback address: a webhook endpoint other machines can reach needs allowRemote, and a secret on every webhook trigger`);
    }
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const bound = (server.address() as AddressInfo).port;
    const name = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    const wildcard = ['0.0.0.0', '::', '[::]'].includes(host);
    this.hosts = wildcard ? undefined : new Set([name, ...(isLoopback(host) ? ['localhost', '127.0.0.1', '[::1]'] : [])].flatMap((h) => [`${h}:${bound}`.toLowerCase(), ...(bound === 80 ? [h.toLowerCase()] : [])]));
    return `http://${name}:${bound}`;
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(`${JSON.stringify(body)}\n`);
    };
    try {
      const { routes, payload } = await this.admit(req);
      const started: string[] = [];
      for (const route of routes) started.push(await route.fire(payload));
      reply(202, { accepted: started });
    } catch (e) {
      if (e instanceof Refusal) return reply(e.status, { error: e.message }, e.headers);
      reply(500, { error: (e as Error).message });
    }
  }

  /** Everything a request must pass before it starts anything; throws a Refusal otherwise. */
  private async admit(req: IncomingMessage): Promise<{ routes: WebhookRoute[]; payload: unknown }> {
    const host = req.headers.host?.toLowerCase();
    if (this.hosts && (!host || !this.hosts.has(host))) {
      throw new Refusal(403, `Host ${host ?? '(none)'} is not the address this endpoint is bound to (${[...this.hosts][0]})`);
    }
    if (req.headers.origin !== undefined) throw new Refusal(403, 'requests from web pages (with an Origin header) may not start melodies');
    const path = normalizePath(new URL(req.url ?? '/', 'http://localhost').pathname);
    const routes = this.routes.get(path);
    if (!routes) throw new Refusal(404, `no webhook trigger listens on ${path}`);
    if (req.method !== 'POST') throw new Refusal(405, 'webhook triggers answer POST only');
    const wait = this.limits.take(path);
    if (wait !== undefined) throw new Refusal(429, `too many requests to ${path}; try again in ${wait} s`, { 'retry-after': String(wait) });
    if (this.options.allowRemote && routes.some((r) => !r.secret)) {
      throw new Refusal(403, `${path} has no secret, and this endpoint is reachable from other machines: give its webhook trigger a secret`);
    }
    if (!isJsonType(req.headers['content-type'])) throw new Refusal(415, 'the body must be JSON (Content-Type: application/json)');
    const body = await readBody(req);
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8')) as unknown;
    } catch (e) {
      throw new Refusal(400, `the body is not JSON: ${(e as Error).message}`);
    }
    await this.checkSignatures(req, routes, body);
    return { routes, payload };
  }

  /**
   * Every route with a secret must accept the signature; then the request is remembered,
   * and refused as a replay if it was seen before.
   */
  private async checkSignatures(req: IncomingMessage, routes: readonly WebhookRoute[], body: Buffer): Promise<void> {
    const signed = routes.filter((r) => r.secret);
    if (!signed.length) return;
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const timestamp = header('x-symphony-timestamp');
    const symphony = header('x-symphony-signature-256');
    const github = header('x-hub-signature-256');
    const delivery = header('x-github-delivery');
    const how = 'sign it with X-Symphony-Timestamp: <unix seconds> and X-Symphony-Signature-256: sha256=<HMAC-SHA256 of "<timestamp>.<body>">';
    if (symphony !== undefined) {
      if (!timestamp || !/^\d{1,12}$/.test(timestamp)) throw new Refusal(401, `X-Symphony-Timestamp is missing or not unix seconds: ${how}`);
      if (Math.abs(this.now() / 1000 - Number(timestamp)) > TIMESTAMP_TOLERANCE_S) {
        throw new Refusal(401, `X-Symphony-Timestamp is more than ${TIMESTAMP_TOLERANCE_S / 60} minutes from this server's clock`);
      }
    } else if (github !== undefined) {
      if (!delivery) throw new Refusal(401, 'X-Hub-Signature-256 without X-GitHub-Delivery: a GitHub delivery carries its id');
    } else {
      throw new Refusal(401, `missing signature: ${how}`);
    }
    for (const route of signed) {
      const secret = await this.secrets(route.secret!);
      if (secret === undefined) throw new Refusal(500, `the secret ${route.secret} this webhook is signed with is not set`);
      const ok = symphony !== undefined ? sameSignature(symphonySignature(secret, timestamp!, body), symphony) : signatureMatches(body, secret, github);
      if (!ok) throw new Refusal(401, `wrong signature: ${how} (or GitHub's X-Hub-Signature-256)`);
    }
    // Checked and remembered with no await in between, so two copies sent at once cannot both pass.
    const fresh =
      symphony !== undefined
        ? this.seen.claim([`sig:${hash(symphony)}`], SEEN_SIGNATURE_MS)
        : this.seen.claim([`github:${hash(delivery!)}`, `sig:${hash(github!)}`], SEEN_DELIVERY_MS);
    if (!fresh) throw new Refusal(409, 'this request was accepted before: a signed request starts its melodies once');
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_WEBHOOK_BODY) throw new Refusal(413, `the body is larger than ${MAX_WEBHOOK_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
