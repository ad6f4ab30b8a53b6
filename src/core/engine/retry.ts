import { parseDuration } from '../model/duration';
import type { NodeSpec } from '../model/melody';

/** The retry policy of a node with defaults applied. */
export interface RetryPolicy {
  /** Attempts in all, including the first. */
  readonly max: number;
  readonly backoff: 'fixed' | 'exponential';
  readonly delayMs: number;
  readonly jitter: boolean;
}

export const NO_RETRY: RetryPolicy = { max: 1, backoff: 'fixed', delayMs: 0, jitter: false };

/** Exponential delays never exceed this, whatever the attempt. */
export const MAX_RETRY_DELAY_MS = 5 * 60_000;

export function retryPolicy(node: Pick<NodeSpec, 'retry'>): RetryPolicy {
  const r = node.retry;
  if (!r) return NO_RETRY;
  return { max: r.max, backoff: r.backoff ?? 'fixed', delayMs: parseDuration(r.delay ?? '1s') ?? 1000, jitter: r.jitter ?? true };
}

/**
 * The wait before attempt `next` (2 for the first retry). Fixed: the delay every time.
 * Exponential: delay × 2^(retry-1), with "full jitter" — a uniform draw in
 * [0, that] — when jitter is on, which spreads retries of many nodes apart.
 */
export function retryDelay(policy: RetryPolicy, next: number, random: () => number = Math.random): number {
  if (policy.backoff === 'fixed') return policy.delayMs;
  const ceiling = Math.min(MAX_RETRY_DELAY_MS, policy.delayMs * 2 ** Math.max(0, next - 2));
  return policy.jitter ? Math.round(random() * ceiling) : ceiling;
}
