// A call its caller already gave up on (cancelled, or past the deadline it sent) is answered without
// running the handler: a starved seed that reaches a join late must not build the full member list for
// nobody. Driven with stand-in calls, so "late" is a given, not a race against a loaded machine.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { callerGone, unary } from '../../src/grpc/server.js';
import type { Rejection } from '../../src/grpc/errors.js';

interface StandIn {
  cancelled: boolean;
  deadline: number | Date;
}

/** Runs `handler` through `unary` for each stand-in call; what each caller got back. */
function serve(calls: readonly StandIn[], handler: () => { members: number }): { answered: number; refusedCodes: number[]; reasons: string[] } {
  const reasons: string[] = [];
  const refusedCodes: number[] = [];
  let answered = 0;
  const handle = unary<object, { members: number }>('Negotiate', (_rpc: string, r: Rejection) => reasons.push(r.reason), handler);
  for (const c of calls) {
    const call = {
      request: { ok: true, value: {} },
      cancelled: c.cancelled,
      getDeadline: () => c.deadline,
      getPeer: () => 'ipv4:127.0.0.1:5000',
    };
    handle(call as unknown as grpc.ServerUnaryCall<never, { members: number }>, (err: Partial<grpc.StatusObject> | null) => {
      if (err === null) answered++;
      else refusedCodes.push(err.code ?? -1);
    });
  }
  return { answered, refusedCodes, reasons };
}

describe('calls whose caller gave up', () => {
  test('callerGone: cancelled, past deadline (number or Date), or no deadline', () => {
    const now = 1_000_000;
    assert.equal(callerGone({ cancelled: true, getDeadline: () => Infinity }, now), true);
    assert.equal(callerGone({ cancelled: false, getDeadline: () => now - 1 }, now), true);
    assert.equal(callerGone({ cancelled: false, getDeadline: () => new Date(now) }, now), true);
    assert.equal(callerGone({ cancelled: false, getDeadline: () => now + 1 }, now), false);
    assert.equal(callerGone({ cancelled: false, getDeadline: () => new Date(now + 500) }, now), false);
    assert.equal(callerGone({ cancelled: false, getDeadline: () => Infinity }, now), false);
  });

  test('a storm of 99 late joins builds no answer; the ones still waited for are answered', () => {
    let built = 0;
    const now = Date.now();
    const calls: StandIn[] = [];
    // 99 joiners: two thirds reached after their deadline (or cancelled), a third still waited for.
    for (let i = 0; i < 99; i++) {
      if (i % 3 === 0) calls.push({ cancelled: false, deadline: now + 60_000 });
      else if (i % 3 === 1) calls.push({ cancelled: false, deadline: now - 1 });
      else calls.push({ cancelled: true, deadline: now + 60_000 });
    }
    const got = serve(calls, () => {
      built++;
      return { members: 100 };
    });
    assert.equal(built, 33, 'answers built only for callers still waiting');
    assert.equal(got.answered, 33);
    assert.equal(got.refusedCodes.length, 66);
    assert.ok(got.refusedCodes.every((c) => c === grpc.status.DEADLINE_EXCEEDED));
    assert.deepEqual(new Set(got.reasons), new Set(['caller-gone']));
  });
});
