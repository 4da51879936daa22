// When the caller's sidecar tries an Apply again, where, and after how long. Pure: the forwarder feeds
// it the last attempt's error, the owner its view names now, the time left and a random source.
//
// The rule that keeps "at most once per request id": an attempt that may have reached an owner (the call
// broke or timed out after it was sent) is only ever retried at that same owner, whose record of the id
// answers the retry. If the view names another owner by then, the forwarder stops with owner_changed and
// lets the app decide; a retry there could deliver a second time (docs/apply.md).
import type { ApplyError } from './types.js';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** Backoff before the second attempt; doubles per attempt (full jitter), up to maxDelayMs. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 1000 });

export interface RetryInput {
  /** Attempts made so far (1 after the first). */
  readonly attempts: number;
  /** Error of the last attempt. */
  readonly error: ApplyError;
  /** A member an earlier attempt may have reached (its app may have the request), else null. */
  readonly mayHaveReached: string | null;
  /** The key's owner in this member's view now; null when nobody owns shards. */
  readonly currentOwner: string | null;
  /** Time left of the overall budget, ms. */
  readonly remainingMs: number;
  /** Uniform in [0, 1). */
  readonly random: () => number;
}

export type RetryDecision =
  | { readonly kind: 'retry'; readonly target: string; readonly delayMs: number }
  /** Give up with the last error. */
  | { readonly kind: 'stop'; readonly why: 'not-retriable' | 'attempts' | 'no-owner' | 'no-time' }
  /** Give up: the request may sit with `reached`, and the view now names `owner`. */
  | { readonly kind: 'owner-changed'; readonly reached: string; readonly owner: string };

export function nextStep(policy: RetryPolicy, input: RetryInput): RetryDecision {
  const { error } = input;
  if (!error.retriable) return { kind: 'stop', why: 'not-retriable' };
  if (input.attempts >= policy.maxAttempts) return { kind: 'stop', why: 'attempts' };
  // A member that says it is not the owner names the one it believes is; its view may be fresher.
  const target = error.code === 'not_owner' && error.ownerHint !== '' ? error.ownerHint : input.currentOwner;
  if (target === null) return { kind: 'stop', why: 'no-owner' };
  if (input.mayHaveReached !== null && target !== input.mayHaveReached) {
    return { kind: 'owner-changed', reached: input.mayHaveReached, owner: target };
  }
  const delayMs = Math.max(error.retryAfterMs, backoffMs(policy, input.attempts, error.code === 'not_owner', input.random));
  if (delayMs >= input.remainingMs) return { kind: 'stop', why: 'no-time' };
  return { kind: 'retry', target, delayMs };
}

/**
 * Full jitter (uniform in [0, cap)), cap = base x 2^(attempts-1) up to max. Following an owner hint
 * needs no wait for the view to heal, so it only gets the first step's jitter.
 */
export function backoffMs(policy: RetryPolicy, attempts: number, followingHint: boolean, random: () => number): number {
  const exponent = followingHint ? 0 : Math.max(0, attempts - 1);
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(exponent, 30));
  return Math.floor(random() * cap);
}
