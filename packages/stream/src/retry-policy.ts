/** How a failing batch is retried. All durations in milliseconds. */
export interface RetryPolicyOptions {
  /** Attempts for retriable errors before the message goes to the DLQ. @defaultValue 5 */
  maxAttempts?: number;
  /** First backoff. @defaultValue 100 */
  initialDelayMs?: number;
  /** Backoff ceiling. @defaultValue 10000 */
  maxDelayMs?: number;
  /** Growth factor per attempt. @defaultValue 2 */
  multiplier?: number;
}

export type RetryPolicy = Required<RetryPolicyOptions>;

export function compileRetryPolicy(options: RetryPolicyOptions = {}): RetryPolicy {
  const policy: RetryPolicy = {
    maxAttempts: options.maxAttempts ?? 5,
    initialDelayMs: options.initialDelayMs ?? 100,
    maxDelayMs: options.maxDelayMs ?? 10_000,
    multiplier: options.multiplier ?? 2,
  };
  if (!(policy.maxAttempts >= 1)) throw new RangeError('retry.maxAttempts must be at least 1');
  if (!(policy.initialDelayMs >= 0 && policy.maxDelayMs >= policy.initialDelayMs)) {
    throw new RangeError('retry: need 0 <= initialDelayMs <= maxDelayMs');
  }
  if (!(policy.multiplier >= 1)) throw new RangeError('retry.multiplier must be at least 1');
  return policy;
}

/**
 * Delay before retry number `attempt` (1-based): exponential with "equal jitter"
 * (uniform in [cap/2, cap]): jitter spreads the retries of many consumers hitting the
 * same outage, and the floor keeps a retry from firing immediately.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** Math.max(0, attempt - 1));
  return Math.round(cap / 2 + (random() * cap) / 2);
}
