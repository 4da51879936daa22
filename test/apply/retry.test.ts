import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { backoffMs, DEFAULT_RETRY, nextStep, type RetryInput } from '../../src/apply/retry.js';
import { applyError, type ApplyErrorCode } from '../../src/apply/types.js';

const policy = DEFAULT_RETRY;
const fixed = (r: number) => () => r;

function input(over: Partial<RetryInput> = {}): RetryInput {
  return {
    attempts: 1,
    error: applyError('owner_unavailable', 'down', { retriable: true }),
    mayHaveReached: null,
    currentOwner: 'b',
    remainingMs: 5000,
    random: fixed(0.5),
    ...over,
  };
}

describe('nextStep', () => {
  test('a not-retriable error stops at once', () => {
    assert.deepEqual(nextStep(policy, input({ error: applyError('invalid', 'bad') })), { kind: 'stop', why: 'not-retriable' });
  });

  test('NOT_OWNER follows the owner hint rather than this member view', () => {
    const d = nextStep(policy, input({ error: applyError('not_owner', 'no', { retriable: true, ownerHint: 'c' }), currentOwner: 'b' }));
    assert.equal(d.kind, 'retry');
    assert.equal(d.kind === 'retry' && d.target, 'c');
  });

  test('after a possible delivery at one owner, a different owner is never tried: owner-changed', () => {
    const d = nextStep(policy, input({ mayHaveReached: 'a', currentOwner: 'b' }));
    assert.deepEqual(d, { kind: 'owner-changed', reached: 'a', owner: 'b' });
  });

  test('after a possible delivery, the same owner is retried (its record answers the retry)', () => {
    const d = nextStep(policy, input({ mayHaveReached: 'b', currentOwner: 'b' }));
    assert.equal(d.kind, 'retry');
  });

  test('no owner, no attempts left, no time left: stop, each with its reason', () => {
    assert.deepEqual(nextStep(policy, input({ currentOwner: null })), { kind: 'stop', why: 'no-owner' });
    assert.deepEqual(nextStep(policy, input({ attempts: policy.maxAttempts })), { kind: 'stop', why: 'attempts' });
    assert.deepEqual(nextStep(policy, input({ remainingMs: 0 })), { kind: 'stop', why: 'no-time' });
  });

  test('retry_after_ms from the callee is a floor on the wait', () => {
    const d = nextStep(policy, input({ error: applyError('busy', 'b', { retriable: true, retryAfterMs: 700 }), random: fixed(0) }));
    assert.deepEqual(d, { kind: 'retry', target: 'b', delayMs: 700 });
  });

  const codes: ApplyErrorCode[] = ['not_owner', 'owner_unavailable', 'timeout', 'busy', 'app_unreachable', 'no_owner', 'invalid', 'app_timeout'];
  test('properties: bounded attempts, waits within the budget, never a second owner after a possible delivery', () => {
    fc.assert(
      fc.property(
        fc.record({
          attempts: fc.integer({ min: 1, max: 10 }),
          code: fc.constantFrom(...codes),
          retriable: fc.boolean(),
          retryAfterMs: fc.integer({ min: 0, max: 3000 }),
          hint: fc.constantFrom('', 'a', 'b', 'c'),
          reached: fc.constantFrom(null, 'a', 'b', 'c'),
          owner: fc.constantFrom(null, 'a', 'b', 'c'),
          remainingMs: fc.integer({ min: 0, max: 10_000 }),
          random: fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        }),
        (c) => {
          const error = applyError(c.code, 'x', { retriable: c.retriable, retryAfterMs: c.retryAfterMs, ownerHint: c.hint });
          const d = nextStep(policy, { attempts: c.attempts, error, mayHaveReached: c.reached, currentOwner: c.owner, remainingMs: c.remainingMs, random: () => c.random });
          if (d.kind === 'retry') {
            assert.ok(c.retriable);
            assert.ok(c.attempts < policy.maxAttempts);
            assert.ok(d.delayMs >= c.retryAfterMs && d.delayMs < c.remainingMs);
            assert.ok(d.delayMs <= Math.max(c.retryAfterMs, policy.maxDelayMs));
            if (c.reached !== null) assert.equal(d.target, c.reached);
          }
          if (d.kind === 'owner-changed') assert.notEqual(d.owner, d.reached);
        },
      ),
    );
  });
});

describe('backoffMs', () => {
  test('full jitter under a cap that doubles per attempt up to the maximum', () => {
    assert.equal(backoffMs(policy, 1, false, fixed(0.999)), 49);
    assert.equal(backoffMs(policy, 2, false, fixed(0.999)), 99);
    assert.equal(backoffMs(policy, 20, false, fixed(0.999)), 999);
    assert.equal(backoffMs(policy, 5, false, fixed(0)), 0);
  });

  test('following an owner hint waits at most the first step', () => {
    assert.equal(backoffMs(policy, 3, true, fixed(0.999)), 49);
  });
});
