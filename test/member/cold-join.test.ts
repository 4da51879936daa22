// How fast news of a joiner spreads, in whole members on the in-memory ports with the LAN profile (the
// one the cluster benchmark runs): the seed and the joiner each gossip the arrival at once instead of
// at their next gossip round, and members that hear of a newcomer pass it on at once, so most members
// hear of a joiner within a few network hops (1 ms each here) and the rest with the next round, rather
// than one gossip interval per hop. No member gossips more often than once per interval for it. Times
// are simulated, from the protocol.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { profileConfig } from '../../src/core/config.js';
import { MemoryCluster } from '../support/memory-members.js';

const LAN = profileConfig('lan');
const SEED = 'm0:7947';
/** A join round trip and a packet or two, at 1 ms per hop (the memory network's latency). */
const FEW_HOPS_MS = 5;

/** Every broadcast queue drained: no gossip round under way anywhere. */
function quiet(cluster: MemoryCluster): boolean {
  return [...cluster.members.values()].every((m) => m.member.core.pendingBroadcasts() === 0);
}

/** Nine members (m0 the seed), converged and quiet for a gossip interval. */
async function quietNine(): Promise<MemoryCluster> {
  const cluster = await seedUp();
  for (let i = 1; i < 9; i++) cluster.add(`m${i}`, { swim: LAN, seeds: [SEED], recordSends: true });
  assert.ok(await cluster.clock.advanceUntil(() => cluster.converged() && quiet(cluster), 30_000), 'nine members, quiet');
  await cluster.clock.advance(LAN.gossipIntervalMs);
  return cluster;
}

/** The seed alone, up and idle for a while (as the benchmark starts it before the others). */
async function seedUp(): Promise<MemoryCluster> {
  const cluster = new MemoryCluster();
  cluster.add('m0', { swim: LAN, recordSends: true });
  await cluster.clock.advance(3000);
  return cluster;
}

/** Simulated ms from now until every member holds every other alive (bounded by maxMs; -1 if not). */
async function msUntilConverged(cluster: MemoryCluster, maxMs: number): Promise<number> {
  const t0 = cluster.clock.now();
  const done = await cluster.clock.advanceUntil(() => cluster.converged(), maxMs, 1);
  return done ? cluster.clock.now() - t0 : -1;
}

function noAccusations(cluster: MemoryCluster): void {
  for (const m of cluster.members.values()) {
    const accused = m.events.filter((e) => e.type === 'member' && e.to !== 'alive').map((e) => (e.type === 'member' ? `${e.name} ${e.to}` : ''));
    assert.deepEqual(accused, [], `${m.name} never suspected anyone`);
    assert.deepEqual(m.failures, [], `${m.name}: no failed effects`);
  }
  assert.equal(cluster.net.undecodable, 0);
}

/** Per member, the times of its gossip rounds (packets with news and no message), at most one round per instant. */
function gossipRounds(cluster: MemoryCluster): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const m of cluster.members.values()) out.set(m.name, [...new Set(m.sends.filter((s) => s.packet.message === null).map((s) => s.at))]);
  return out;
}

describe('news of a joiner', () => {
  test('a member joining a quiet cluster: the seed and the joiner each tell gossipNodes members at once; all ten know it within two gossip intervals', async () => {
    const cluster = await quietNine();
    const t0 = cluster.clock.now();
    cluster.add('m9', { swim: LAN, seeds: [SEED], recordSends: true });
    const knowing = (): number => [...cluster.members.values()].filter((m) => m.name !== 'm9' && m.member.core.member('m9')?.state === 'alive').length;
    // Join round trip, then one packet: a few network hops of 1 ms, no gossip interval.
    await cluster.clock.advance(FEW_HOPS_MS);
    assert.ok(knowing() >= 1 + LAN.gossipNodes, `${knowing()} members know the joiner after ${FEW_HOPS_MS} ms: the seed and at least the gossipNodes it told at once`);
    assert.ok(await cluster.clock.advanceUntil(() => cluster.converged(), 2 * LAN.gossipIntervalMs - FEW_HOPS_MS, 1), 'known everywhere within two gossip intervals');
    assert.ok(cluster.clock.now() - t0 < 2 * LAN.gossipIntervalMs);
    noAccusations(cluster);
  });

  test('a member restarted under its name: its new life is told at once, and held by all ten within two gossip intervals', async () => {
    const cluster = await quietNine();
    cluster.add('m9', { swim: LAN, seeds: [SEED], recordSends: true });
    assert.ok(await cluster.clock.advanceUntil(() => cluster.converged() && quiet(cluster), 30_000), 'ten members, quiet');
    await cluster.clock.advance(LAN.gossipIntervalMs);
    cluster.members.get('m9')?.crash();
    const t0 = cluster.clock.now();
    const again = cluster.add('m9', { swim: LAN, seeds: [SEED], recordSends: true, lifeId: 'm9-life-2' });
    const holding = (): number => [...cluster.members.values()].filter((m) => m !== again && m.member.core.member('m9')?.lifeId === 'm9-life-2').length;
    await cluster.clock.advance(FEW_HOPS_MS);
    assert.ok(holding() >= 1 + LAN.gossipNodes, `${holding()} members hold the new life after ${FEW_HOPS_MS} ms`);
    assert.ok(await cluster.clock.advanceUntil(() => holding() === 9 && cluster.converged(), 2 * LAN.gossipIntervalMs - FEW_HOPS_MS, 1), 'the new life known everywhere');
    assert.ok(cluster.clock.now() - t0 < 2 * LAN.gossipIntervalMs);
    noAccusations(cluster);
  });

  test('nine members starting together through a running seed: all ten hold each other alive within two gossip intervals', async () => {
    const cluster = await seedUp();
    for (let i = 1; i < 10; i++) cluster.add(`m${i}`, { swim: LAN, seeds: [SEED], recordSends: true });
    const took = await msUntilConverged(cluster, 20 * LAN.gossipIntervalMs);
    assert.ok(took >= 0, 'the ten converge');
    // The first round of each member goes at once; news not in it goes with the next, one interval later.
    assert.ok(took < 2 * LAN.gossipIntervalMs, `converged after ${took} ms, within two gossip intervals`);
    await cluster.clock.advance(30_000);
    assert.ok(cluster.converged());
    noAccusations(cluster);
    for (const [name, rounds] of gossipRounds(cluster)) {
      for (let i = 1; i < rounds.length; i++) {
        const gap = (rounds[i] as number) - (rounds[i - 1] as number);
        assert.ok(gap >= LAN.gossipIntervalMs, `${name}: rounds ${gap} ms apart, never closer than the gossip interval`);
      }
    }
  });
});
