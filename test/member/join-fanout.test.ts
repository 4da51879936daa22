// Joining through a seed list that names many pods (a headless Service at scale): each attempt, and each
// seed re-check round, negotiates with at most SEEDS_PER_ATTEMPT of the addresses, chosen at random, and
// a later attempt draws again, so addresses that do not answer are skipped in the end.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SEEDS_PER_ATTEMPT } from '../../src/member/join.js';
import { MemoryCluster, type MemoryMember } from '../support/memory-members.js';

/** The member's join and re-check Negotiates, grouped by the instant they were made (one attempt or round each). */
function joinRounds(m: MemoryMember): { at: number; to: string[] }[] {
  const rounds = new Map<number, string[]>();
  for (const call of m.negotiates) {
    if (!call.join) continue;
    const round = rounds.get(call.at) ?? [];
    round.push(call.to);
    rounds.set(call.at, round);
  }
  return [...rounds].map(([at, to]) => ({ at, to }));
}

function assertBounded(rounds: readonly { at: number; to: readonly string[] }[], allowed: ReadonlySet<string>): void {
  for (const round of rounds) {
    assert.ok(round.to.length <= SEEDS_PER_ATTEMPT, `at ${round.at}: ${round.to.length} Negotiates, at most ${SEEDS_PER_ATTEMPT}`);
    assert.equal(new Set(round.to).size, round.to.length, `at ${round.at}: each address once`);
    for (const to of round.to) assert.ok(allowed.has(to), `${to} is one of the resolved addresses`);
  }
}

describe('a join through many seed addresses', () => {
  test('seeds resolving to 50 members: each attempt negotiates with at most the bound, and the member joins', async () => {
    const cluster = new MemoryCluster();
    const names = Array.from({ length: 50 }, (_, i) => `m${i}`);
    for (const name of names) cluster.add(name, name === 'm0' ? {} : { seeds: ['m0:7947'] });
    assert.ok(await cluster.clock.advanceUntil(() => cluster.converged(), 60_000), 'the 50 members converge');
    const addresses = names.map((n) => `${n}:7947`);
    const joiner = cluster.add('joiner', { seeds: addresses, recordNegotiates: true });
    assert.ok(await cluster.clock.advanceUntil(() => joiner.member.joinedAt !== null, 10_000), 'the joiner joins');
    assert.ok(await cluster.clock.advanceUntil(() => cluster.converged(), 30_000), 'and every member sees it alive');
    // Long enough for several seed re-check rounds: every address is a member by now, so none negotiates.
    await cluster.clock.advance(10_000);

    const rounds = joinRounds(joiner);
    assertBounded(rounds, new Set(addresses));
    assert.equal(rounds.length, 1, 'one attempt: every member answers');
    assert.equal(rounds[0]?.to.length, SEEDS_PER_ATTEMPT, 'as many as the bound when more addresses resolve');
    assert.equal(joiner.logs.filter((l) => l === 'joining through seeds').length, 1);
    assert.equal(joiner.logs.filter((l) => l === 'seeds not in the member list: negotiating with them').length, 0);
    for (const m of cluster.members.values()) assert.deepEqual(m.failures, [], `${m.name}: no failed effects`);
  });

  test('when the first picks are all down, a later attempt picks again and joins; re-checks stay bounded', async () => {
    const cluster = new MemoryCluster();
    const up = cluster.add('up');
    // Twelve addresses, one a running member; the joiner is cut off from it until its first attempt has
    // failed, so that attempt meets only addresses that are down, whatever it drew.
    const down = Array.from({ length: 11 }, (_, i) => `gone${i}:7947`);
    const addresses = [...down.slice(0, 5), up.grpcAddr, ...down.slice(5)];
    cluster.cut(['joiner'], ['up']);
    const joiner = cluster.add('joiner', { seeds: addresses, recordNegotiates: true });
    // Less than the shortest first wait (half the 200 ms initial retry, jittered), so one attempt only.
    await cluster.clock.advance(50);
    const first = joinRounds(joiner);
    assert.equal(first.length, 1, 'the first attempt was made');
    assert.equal(first[0]?.to.length, SEEDS_PER_ATTEMPT);
    assert.equal(joiner.member.joinedAt, null, 'nobody answered the first attempt');
    cluster.net.heal();

    assert.ok(await cluster.clock.advanceUntil(() => joiner.member.joinedAt !== null, 300_000), 'a later attempt reaches the running member');
    assert.ok(await cluster.clock.advanceUntil(() => cluster.converged(), 30_000), 'the two see each other alive');
    const joinedAt = joiner.member.joinedAt ?? 0;
    const attempts = joinRounds(joiner).filter((r) => r.at <= joinedAt);
    assert.ok(attempts.length >= 2, `joined on a later attempt (${attempts.length})`);
    assert.ok(attempts.at(-1)?.to.includes(up.grpcAddr), 'the attempt that joined negotiated with the running member');
    assert.ok(new Set(attempts.flatMap((a) => a.to)).size > SEEDS_PER_ATTEMPT, 'later attempts drew other addresses');

    // The eleven dead addresses stay strangers: every re-check round (one per push-pull interval, 5 s in
    // the local profile) negotiates with a few of them, not all.
    await cluster.clock.advance(30_000);
    const all = joinRounds(joiner);
    assertBounded(all, new Set(addresses));
    const rechecks = all.filter((r) => r.at > joinedAt);
    assert.ok(rechecks.length >= 5, `the seed re-check ran (${rechecks.length} rounds)`);
    for (const round of rechecks) {
      assert.equal(round.to.length, SEEDS_PER_ATTEMPT, 'a re-check round takes the bound of the strangers');
      assert.ok(!round.to.includes(up.grpcAddr), 'a member is no stranger');
    }
    assert.deepEqual(joiner.failures, []);
    assert.deepEqual(up.failures, []);
  });

  test('with bootstrap, many addresses of which none answers: bounded attempts until the join timeout, then a cluster alone', async () => {
    const cluster = new MemoryCluster();
    const addresses = Array.from({ length: 40 }, (_, i) => `gone${i}:7947`);
    const lone = cluster.add('lone', { seeds: addresses, bootstrap: true, joinTimeoutMs: 3000, recordNegotiates: true });
    await cluster.clock.advance(2000);
    assert.equal(lone.member.joinedAt, null, 'not before the join timeout');
    await cluster.clock.advance(3000);
    assert.notEqual(lone.member.joinedAt, null);
    assert.ok(lone.logs.includes('no seed answered: bootstrapping a new cluster alone (--bootstrap)'));
    const attempts = joinRounds(lone).filter((r) => r.at <= (lone.member.joinedAt ?? 0));
    assert.ok(attempts.length >= 3, `retried with backoff (${attempts.length} attempts)`);
    assertBounded(attempts, new Set(addresses));
    for (const a of attempts) assert.equal(a.to.length, SEEDS_PER_ATTEMPT);
  });

  test('a short seed list is contacted whole, as before', async () => {
    const cluster = new MemoryCluster();
    const a = cluster.add('a');
    const addresses = [a.grpcAddr, 'gone0:7947', 'gone1:7947'];
    const joiner = cluster.add('joiner', { seeds: addresses, recordNegotiates: true });
    assert.ok(await cluster.clock.advanceUntil(() => joiner.member.joinedAt !== null, 10_000), 'the joiner joins');
    const [first] = joinRounds(joiner);
    assert.deepEqual([...(first?.to ?? [])].sort(), [...addresses].sort(), 'every address of a list within the bound');
  });
});
