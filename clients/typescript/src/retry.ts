// How a call is retried: 429 and 503 are tried again up to `maxRetries` times, waiting the
// answer's Retry-After (seconds or an HTTP date) when it gives one up to `maxWaitMs`, else
// `baseDelayMs` * 2^n (capped) with up to a quarter of jitter. A request that got no answer is
// retried the same way when it changes nothing (GET) or carries an idempotency key (creates).

export interface RetryPolicy {
  maxRetries: number;
  baseDelayMs: number;
  maxWaitMs: number;
}

export const defaultRetry: RetryPolicy = { maxRetries: 3, baseDelayMs: 500, maxWaitMs: 30000 };

export const RETRYABLE = new Set([429, 503]);

export function parseRetryAfter(text: string | null | undefined): number | undefined {
  if (!text) return undefined;
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const when = Date.parse(t);
  if (Number.isNaN(when)) return undefined;
  return Math.max(0, when - Date.now());
}

export function retryDelay(policy: RetryPolicy, attempt: number, retryAfter?: string | null): number {
  const given = parseRetryAfter(retryAfter);
  if (given !== undefined && given <= policy.maxWaitMs) return given;
  const d = Math.min(policy.maxWaitMs, policy.baseDelayMs * 2 ** attempt);
  return d * (0.75 + Math.random() * 0.25);
}
