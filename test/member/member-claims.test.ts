// Claims inside the Member, fed by hand: their timers are the member's deadlines and run from its
// tick, their calls to peers are claim-call effects, and the answers are member inputs. No shell, no
// clock, no transport.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemberClaims, type ClaimCallEffect } from '../../src/member/claims.js';
import { Member, type MemberEffect } from '../../src/member/member.js';
import type { ClaimRecord } from '../../src/ownership/types.js';
import { testClaimOptions } from '../ownership/options.js';
import { testMemberConfig } from '../support/member-config.js';
import { memberRecord } from '../support/member-record.js';

const WALL_START = 1_700_000_000_000;
const WINDOW_MS = 5;

function memberWithClaims(): { member: Member; now: { ms: number } } {
  const now = { ms: 0 };
  let member: Member | null = null;
  const self = () => {
    const me = (member as Member).core.self;
    return { name: me.name, lifeId: me.lifeId, incarnation: me.incarnation, serving: (member as Member).wantServing() };
  };
  const claims = new MemberClaims({ self, options: testClaimOptions({ announceWindowMs: WINDOW_MS }), wallClock: () => WALL_START + now.ms }, 0);
  member = new Member(testMemberConfig({ seeds: [], bootstrap: false, drainMs: 0, claims }), 0);
  member.start(0);
  // A peer joins through this member: the claims learn it from the member's own events.
  member.negotiateRequest([memberRecord('p', { grpcAddr: 'p:7947', gossipAddr: 'p:7946' })], true, 0);
  return { member, now };
}

const calls = (effects: readonly MemberEffect[]): ClaimCallEffect[] => effects.filter((e): e is ClaimCallEffect => e.type === 'claim-call');

describe('claims inside the Member', () => {
  test('a claim waits for the announcement window (a member deadline), then goes out as a claim-call effect from tick', () => {
    const { member, now } = memberWithClaims();
    now.ms = 10;
    const { value, effects } = member.withClaims(10, (service) => service.claim(['x']));
    assert.equal(value[0]?.status, 'claimed');
    assert.deepEqual(calls(effects), [], 'nothing leaves before the window');
    assert.equal(member.claimsDeadline(), 10 + WINDOW_MS);
    assert.ok(member.nextDeadline() <= 10 + WINDOW_MS, 'the member wakes for it');
    now.ms = 10 + WINDOW_MS;
    const sent = calls(member.tick(10 + WINDOW_MS));
    assert.deepEqual(
      sent.map((c) => [c.kind, c.peer.name, c.records.map((r) => r.id).join()]),
      [['announce', 'p', 'x']],
    );
    assert.equal(sent[0]?.sentAtMs, WALL_START + 10 + WINDOW_MS, 'stamped with the wall clock the shell handed in');
    assert.equal(member.claims?.service.counters.announcementsSent, 1);
  });

  test('the answer is an input: a peer holding an earlier claim makes ours lost, and the release goes out', () => {
    const { member, now } = memberWithClaims();
    const losses: string[] = [];
    member.claims?.service.onLoss((loss) => losses.push(`${loss.id} ${loss.reason} ${loss.owner ?? '-'}`));
    now.ms = 10;
    member.withClaims(10, (service) => service.claim(['x']));
    now.ms = 15;
    const [call] = calls(member.tick(15));
    assert.ok(call !== undefined);
    const mine = call.records[0] as ClaimRecord;
    const earlier: ClaimRecord = { ...mine, owner: 'p', ownerLifeId: 'p-life', claimedAtMs: mine.claimedAtMs - 1000, fence: mine.fence - 1n };
    now.ms = 17;
    member.claimAnswered(call.callId, { accepted: false, winners: [earlier], receiverWallMs: WALL_START + 17 }, 17);
    assert.deepEqual(losses, ['x lost p']);
    assert.equal(member.claims?.service.store.get('x')?.owner, 'p');
    now.ms = 17 + WINDOW_MS;
    const release = calls(member.tick(17 + WINDOW_MS));
    assert.deepEqual(release.map((c) => [c.kind, c.peer.name, String(c.records[0]?.released)]), [['expire', 'p', 'true']]);
    // A second answer to the same call is ignored (the shell answered twice).
    assert.deepEqual(member.claimAnswered(call.callId, new Error('late'), 30), []);
    assert.equal(member.claims?.service.counters.announcementsFailed, 0);
  });

  test('a failed call is counted; a stopped member has no claims deadline and sets nothing off', () => {
    const { member, now } = memberWithClaims();
    now.ms = 10;
    member.withClaims(10, (service) => service.claim(['x']));
    const [call] = calls(member.tick(15));
    assert.ok(call !== undefined);
    member.claimAnswered(call.callId, new Error('p: unreachable'), 20);
    assert.equal(member.claims?.service.counters.announcementsFailed, 1);
    assert.ok(member.claimsDeadline() < Infinity, 'the expiry sweep is pending');
    member.stop();
    assert.equal(member.claimsDeadline(), Infinity);
    assert.equal(member.nextDeadline(), Infinity);
    assert.deepEqual(member.withClaims(30, (service) => service.claim(['y'])).effects, []);
  });

  test('with no claim records the member has no claims deadline; the first record arms the sweep, an emptied store ends it', () => {
    const { member, now } = memberWithClaims();
    assert.equal(member.claimsDeadline(), Infinity, 'an idle member with no claims does not wake for a sweep');
    now.ms = 10;
    member.withClaims(10, (service) => service.claim(['x']));
    const [call] = calls(member.tick(15));
    assert.ok(call !== undefined);
    member.claimAnswered(call.callId, { accepted: true, winners: [] }, 16);
    assert.ok(member.claimsDeadline() < Infinity, 'the expiry sweep is pending while a record is held');
    member.withClaims(20, (service) => service.release('x'));
    // The release goes out, then the sweep forgets it once the retention has passed.
    let at = 20;
    for (let round = 0; round < 10_000 && member.claimsDeadline() < Infinity; round++) {
      at = Math.max(at, member.claimsDeadline());
      now.ms = at;
      for (const c of calls(member.tick(at))) member.claimAnswered(c.callId, { accepted: true, winners: [] }, at);
    }
    assert.equal(member.claims?.service.store.size(), 0);
    assert.equal(member.claimsDeadline(), Infinity, 'the sweep stops once nothing is left to expire');
  });
});
