// The readiness rule (src/runtime/readiness.ts): first readiness waits for a quiet view, but at most
// SETTLE_CAP_WINDOWS settle windows after the join; afterwards only this member's own state (and being
// cut off from every peer) takes readiness away, never another member's churn.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CUT_OFF_MIN_PEERS, ReadinessRule, SETTLE_CAP_WINDOWS, type ReadinessInputs } from '../../src/runtime/readiness.js';

const SETTLE = 2000;
const base: ReadinessInputs = {
  now: 0,
  stopped: false,
  leaving: false,
  joinedAt: 0,
  tableCurrent: true,
  appReady: true,
  appReason: 'ok',
  lastViewChangeAt: 0,
  peersAlive: 5,
  peersUnreachable: 0,
};

describe('readiness before the first 200', () => {
  test('waits for the view to be quiet for the settle window', () => {
    const rule = new ReadinessRule(SETTLE);
    const early = rule.check({ ...base, now: 1000, joinedAt: 0, lastViewChangeAt: 500 });
    assert.equal(early.ok, false);
    assert.match(early.reasons.join(), /member view changed 500 ms ago \(settle window 2000 ms/);
    assert.equal(rule.readyOnce, false);
    assert.deepEqual(rule.check({ ...base, now: 2600, lastViewChangeAt: 500 }), { ok: true, reasons: [] });
    assert.equal(rule.readyOnce, true);
  });

  test('under continuous churn: ready once the cap after the join has passed, not before', () => {
    const rule = new ReadinessRule(SETTLE);
    const cap = SETTLE * SETTLE_CAP_WINDOWS;
    assert.equal(rule.settleCapMs, cap);
    const joinedAt = 10_000;
    let firstOk: number | null = null;
    // The view changes every 300 ms, forever; polled every 100 ms.
    for (let now = joinedAt; now <= joinedAt + 2 * cap && firstOk === null; now += 100) {
      const lastViewChangeAt = now - (now % 300);
      if (rule.check({ ...base, now, joinedAt, lastViewChangeAt }).ok) firstOk = now;
    }
    assert.equal(firstOk, joinedAt + cap);
  });

  test('not joined, no table, app not ready, leaving: each one holds it back, and with its reason', () => {
    const cases: [Partial<ReadinessInputs>, RegExp][] = [
      [{ joinedAt: null }, /not joined yet/],
      [{ tableCurrent: false }, /ownership table not built yet/],
      [{ appReady: false, appReason: 'connect ECONNREFUSED' }, /app not ready: connect ECONNREFUSED/],
      [{ leaving: true }, /leaving the cluster/],
      [{ stopped: true }, /stopped/],
    ];
    for (const [change, reason] of cases) {
      const rule = new ReadinessRule(SETTLE);
      const r = rule.check({ ...base, now: 100_000, ...change });
      assert.equal(r.ok, false, reason.source);
      assert.match(r.reasons.join(';'), reason);
      assert.equal(rule.readyOnce, false);
    }
  });

  test('a member alone in its view (bootstrapped) waits for no settle window', () => {
    const rule = new ReadinessRule(SETTLE);
    assert.deepEqual(rule.check({ ...base, now: 50, joinedAt: 0, lastViewChangeAt: 0, peersAlive: 0, peersUnreachable: 0 }), { ok: true, reasons: [] });
    // With a peer in view the window applies.
    assert.equal(new ReadinessRule(SETTLE).check({ ...base, now: 50, joinedAt: 0, lastViewChangeAt: 0, peersAlive: 1 }).ok, false);
  });

  test('the cap does not start before the join (a member still joining never counts as settled)', () => {
    const rule = new ReadinessRule(SETTLE);
    assert.equal(rule.check({ ...base, now: 100_000, joinedAt: 99_000, lastViewChangeAt: 99_900 }).ok, false);
  });
});

describe('readiness after the first 200', () => {
  function readyRule(): ReadinessRule {
    const rule = new ReadinessRule(SETTLE);
    assert.ok(rule.check({ ...base, now: 5000 }).ok);
    return rule;
  }

  test("other members' joins, leaves, suspicions and deaths never take it away", () => {
    const rule = readyRule();
    let notReady = 0;
    for (let now = 5000; now < 65_000; now += 50) {
      // The view changes on every poll; up to four of the five peers are suspect or dead at a time.
      const unreachable = Math.floor(now / 1000) % 5;
      const r = rule.check({ ...base, now, lastViewChangeAt: now, peersAlive: 5 - unreachable, peersUnreachable: unreachable });
      if (!r.ok) notReady++;
    }
    assert.equal(notReady, 0);
  });

  test("this member's own state does: leaving, app not ready, stopped; and it comes back", () => {
    const rule = readyRule();
    assert.match(rule.check({ ...base, now: 6000, leaving: true }).reasons.join(), /leaving/);
    assert.match(rule.check({ ...base, now: 6000, appReady: false, appReason: 'HTTP 500' }).reasons.join(), /app not ready: HTTP 500/);
    assert.match(rule.check({ ...base, now: 6000, stopped: true }).reasons.join(), /stopped/);
    // Back without a new settle wait, even while the view is busy.
    assert.ok(rule.check({ ...base, now: 7000, lastViewChangeAt: 7000 }).ok);
  });

  test('cut off from every peer: none alive, two or more suspect or dead, is not ready; alone (none at all, or all left) is', () => {
    const rule = readyRule();
    const cut = rule.check({ ...base, now: 6000, peersAlive: 0, peersUnreachable: 3 });
    assert.equal(cut.ok, false);
    assert.match(cut.reasons.join(), /cut off: none of this member's 3 peers is alive/);
    assert.equal(rule.check({ ...base, now: 6000, peersAlive: 0, peersUnreachable: CUT_OFF_MIN_PEERS }).ok, false);
    assert.ok(rule.check({ ...base, now: 6000, peersAlive: 1, peersUnreachable: 2 }).ok);
    assert.ok(rule.check({ ...base, now: 6000, peersAlive: 0, peersUnreachable: 0 }).ok);
  });

  test('a member of two whose one peer is unreachable keeps serving (the crash of one pod of two is no outage)', () => {
    const rule = readyRule();
    assert.deepEqual(rule.check({ ...base, now: 6000, peersAlive: 0, peersUnreachable: 1 }), { ok: true, reasons: [] });
  });
});
