// The Member state machine alone, fed by hand: every input with its time, every output an effect.
// (Whole members on the in-memory ports are in whole-members.test.ts.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Member, type MemberEffect } from '../../src/member/member.js';
import { testMemberConfig } from '../support/member-config.js';
import { memberRecord } from '../support/member-record.js';

const config = testMemberConfig;

/**
 * Runs the member until `untilMs` as a shell would: answers seed resolutions with the seed, and fails
 * every join Negotiate (busy or not). Returns the log messages.
 */
function runJoinsFailing(member: Member, untilMs: number, busy: boolean): string[] {
  const logs: string[] = [];
  const queue: MemberEffect[] = [...member.start(0)];
  let now = 0;
  for (let steps = 0; steps < 10_000; steps++) {
    const effect = queue.shift();
    if (effect === undefined) {
      now = member.nextDeadline();
      if (now > untilMs) break;
      queue.push(...member.tick(now));
      continue;
    }
    if (effect.type === 'log') logs.push(effect.message);
    if (effect.type === 'resolve-seeds') queue.push(...member.seedsResolved(effect.purpose, ['seed:7947'], now));
    if (effect.type === 'negotiate' && effect.join) queue.push(...member.negotiateFailed(effect.requestId, busy, now));
  }
  return logs;
}

describe('Member', () => {
  test('with bootstrap, seeds that never answer make it form a cluster alone after joinTimeoutMs', () => {
    const member = new Member(config(), 0);
    const logs = runJoinsFailing(member, 3000, false);
    assert.ok(member.joinedAt !== null && member.joinedAt >= 1000, `bootstrapped after the timeout (at ${member.joinedAt})`);
    assert.ok(logs.includes('no seed answered: bootstrapping a new cluster alone (--bootstrap)'));
  });

  test('a seed that answers busy is a cluster: no bootstrap alone, retries go on, said once', () => {
    const member = new Member(config(), 0);
    const logs = runJoinsFailing(member, 5000, true);
    assert.equal(member.joinedAt, null);
    assert.ok(!logs.includes('no seed answered: bootstrapping a new cluster alone (--bootstrap)'));
    assert.equal(logs.filter((l) => l.startsWith('a seed answered busy')).length, 1);
    assert.ok(logs.filter((l) => l === 'joining through seeds').length >= 10, 'retries continue (backoff capped at 400 ms)');
  });

  test('heard of by another member while a join attempt waits: joined at its next tick, not at the end of the backoff', () => {
    const member = new Member(config({ bootstrap: false, joinRetryInitialMs: 5000, joinRetryMaxMs: 10_000, joinTimeoutMs: 20_000 }), 0);
    member.start(0);
    member.seedsResolved('join', ['seed:7947'], 0);
    assert.equal(member.joinedAt, null, 'the attempt waits for its answer (backoff 2.5-5 s)');
    // A peer's full-state exchange reaches this member first (the seed's news of it spread).
    member.mergeRecords([memberRecord('p', { grpcAddr: 'p:7947', gossipAddr: 'p:7946' })], 10);
    const logs = member.tick(20).filter((e) => e.type === 'log').map((e) => (e.type === 'log' ? e.message : ''));
    assert.ok(logs.includes('joined the cluster'), `joined at the next tick (logs: ${logs.join('; ')})`);
    assert.equal(member.joinedAt, 20);
  });

  test('a leave stops serving at once, is announced when the drain ends, and only once', () => {
    const member = new Member(config({ seeds: [] }), 0);
    member.start(0);
    assert.equal(member.core.self.meta.serving, true);
    const first = member.leaveRequested(10);
    assert.equal(member.core.self.meta.serving, false, 'serving stops at once');
    assert.ok(!first.some((e) => e.type === 'leave-announced'));
    assert.deepEqual(member.leaveRequested(20), [], 'asking again changes nothing');
    assert.ok(member.nextDeadline() <= 510, 'the drain end is a deadline');
    assert.ok(!member.tick(509).some((e) => e.type === 'leave-announced'), 'not before the drain ends');
    const announced = member.tick(510);
    assert.ok(announced.some((e) => e.type === 'leave-announced'));
    assert.equal(member.core.self.state, 'left');
    assert.deepEqual(member.readiness(600, false, 'ok').reasons, ['leaving the cluster']);
    assert.ok(!member.tick(2000).some((e) => e.type === 'leave-announced'), 'announced once');
  });

  test('without seeds it is joined at start and asks for the table of itself', () => {
    const member = new Member(config({ seeds: [] }), 0);
    const effects = member.start(0);
    assert.equal(member.joinedAt, 0);
    assert.deepEqual(effects.find((e) => e.type === 'view-changed'), { type: 'view-changed', owners: ['m'], live: 1 });
    assert.deepEqual(member.readiness(0, true, 'ok').reasons, ['ownership table not built yet']);
    member.tableBuilt('v1');
    assert.equal(member.tableVersion, 'v1');
    assert.deepEqual(member.readiness(0, false, 'ok'), { ok: true, reasons: [] });
  });

  test('the owners of a view change are listed as of its step, and reading them after the next input fails', () => {
    const member = new Member(config({ seeds: [] }), 0);
    const start = member.start(0).find((e) => e.type === 'view-changed');
    assert.ok(start?.type === 'view-changed');
    assert.deepEqual(start.owners, ['m']);
    member.tableBuilt('v1');
    const other = { name: 'o', lifeId: 'o-life', incarnation: 1, state: 'alive' as const, gossipAddr: 'o:7946', grpcAddr: 'o:7947', meta: { appAddr: '', serving: true, tags: {} } };
    const joined = member.negotiateRequest([other], true, 10).effects.find((e) => e.type === 'view-changed');
    assert.ok(joined?.type === 'view-changed');
    assert.equal(joined.live, 2);
    const unread = member.negotiateRequest([{ ...other, name: 'p', gossipAddr: 'p:7946', grpcAddr: 'p:7947' }], true, 20).effects.find((e) => e.type === 'view-changed');
    assert.ok(unread?.type === 'view-changed');
    assert.throws(() => joined.owners, /read after the member took another input/);
    assert.deepEqual(unread.owners, ['m', 'o', 'p'], 'in table order');
    assert.equal(unread.live, 3);
  });

  test('the seed re-check negotiates only with seeds not held live, each once', () => {
    const member = new Member(config({ seeds: [] }), 0);
    member.start(0);
    const peer = (name: string, state: 'alive' | 'dead') => ({ name, lifeId: `${name}-life`, incarnation: 1, state, gossipAddr: `${name}:7946`, grpcAddr: `${name}:7947`, meta: { appAddr: '', serving: true, tags: {} } });
    member.negotiateRequest([peer('o', 'alive'), peer('p', 'alive')], true, 10);
    const asked = (addresses: string[]): string[] =>
      member.seedsResolved('watch', addresses, 20).flatMap((e) => (e.type === 'negotiate' && e.join ? [e.to] : []));
    assert.deepEqual(asked(['o:7947', 'p:7947']), [], 'both held alive');
    assert.deepEqual(asked(['o:7947', 'x:7947', 'x:7947', 'y:7947']), ['x:7947', 'y:7947']);
  });
});
