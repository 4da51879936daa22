// Relayed announcements (docs/ownership.md "Relays"): an owner sends its records to one relay per
// group of peers, the relay forwards them with other owners' in one call per peer. In memory on a
// manual clock: every member hears every claim in fewer calls than one per peer per claim; a hung
// relay is passed over and its group hears the claims directly; a member of an earlier release (no
// `relays` in its acks) is called directly and never sent relay fields; a race through relays ends
// with one winner everywhere. Then over real gRPC: the fields travel, are bounded, and a relay forwards.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ControlPlaneClient } from '../../src/grpc/client.js';
import { ControlPlaneCallError } from '../../src/grpc/errors.js';
import { startControlPlaneServer } from '../../src/grpc/server.js';
import { grpcClaimTransport, ownershipExtraMethods } from '../../src/ownership/grpc.js';
import { Propagation } from '../../src/ownership/propagation.js';
import { MAX_RELAY_TARGETS, peersInOwnOrder, RELAY_SLOW_MS, RelayPlanner, type RelayGroup } from '../../src/ownership/relay.js';
import { DEFAULT_CLAIM_CONFIG } from '../../src/ownership/config.js';
import { DEFAULT_MAX_IN_FLIGHT } from '../../src/grpc/auth-gate.js';
import { ClaimService, type AnnounceAck, type ClaimCallPort, type ClaimOptions, type Peer } from '../../src/ownership/service.js';
import { ManualClock } from '../../src/shell/memory-ports.js';
import { realClock } from '../../src/shell/real-clock.js';
import type { ClaimRecord } from '../../src/ownership/types.js';
import { waitFor } from '../support/poll.js';
import { testClaimOptions } from './options.js';

const peer = (name: string, suspect = false): Peer => ({ name, grpcAddr: `${name}:1`, ...(suspect ? { suspect } : {}) });

describe('RelayPlanner', () => {
  test('groups only peers that said they relay, and only beyond one group; a slow relay is passed over until it answers', () => {
    let now = 0;
    const planner = new RelayPlanner(3, () => now);
    const peers = Array.from({ length: 10 }, (_, i) => peer(`m${i}`));
    assert.deepEqual(planner.plan(peers), { direct: peers, groups: [] }, 'nobody known to relay yet');
    for (const p of peers.slice(0, 3)) planner.answered(p, true, 1);
    assert.equal(planner.plan(peers).groups.length, 0, 'three that relay fit one group: no relaying');
    for (const p of peers) planner.answered(p, p.name !== 'm9', 1);
    const withSuspect = peers.map((p) => (p.name === 'm8' ? peer('m8', true) : p));
    const plan = planner.plan(withSuspect);
    assert.equal(plan.groups.length, 3, 'eight peers that relay, three per group');
    assert.deepEqual(plan.direct.map((p) => p.name).sort(), ['m8', 'm9'], 'the suspect one and the one that does not relay go direct');
    const covered = plan.groups.flatMap((g) => [g.relay.name, ...g.targets.map((t) => t.name)]).sort();
    assert.deepEqual(covered, ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'], 'each grouped peer is in exactly one group');
    const first = plan.groups[0]!.relay;
    planner.slow(first);
    const after = planner.plan(withSuspect);
    assert.equal(
      after.groups.some((g) => g.relay.name === first.name),
      false,
      'the slow relay is not a relay now',
    );
    assert.ok(
      after.groups.some((g) => g.targets.some((t) => t.name === first.name)) || after.direct.some((p) => p.name === first.name),
      'but it still hears the records',
    );
    planner.answered(first, true, 5);
    assert.ok(planner.plan(withSuspect).groups.some((g) => g.relay.name === first.name), 'an answer makes it a relay again');
    const fast = planner.slowAfterMs();
    assert.ok(fast >= RELAY_SLOW_MS && fast < RELAY_SLOW_MS + 10, `fast answers: about the least slack (${fast} ms)`);
    for (let i = 0; i < 100; i++) planner.answered(first, true, 1000);
    assert.ok(planner.slowAfterMs() > 1000, 'when every call is slow, a relay must be slower than that to be passed over');
    assert.equal(planner.slowAfterMs(), 1000 + RELAY_SLOW_MS, 'steady round trips: the least slack beyond them');
    assert.deepEqual(new RelayPlanner(0, () => now).plan(peers), { direct: peers, groups: [] }, 'group size 0: never relays');
  });

  test('the deadline follows the spread of round trips, not only their mean', () => {
    const planner = new RelayPlanner(3, () => 0);
    // Mostly fast, one in five slow: a mean-based deadline (four times about 300 ms) would pass over
    // every relay that takes one of the slow round trips this member sees all the time.
    for (let i = 0; i < 200; i++) planner.answered(peer('m0'), true, i % 5 === 0 ? 1500 : 10);
    assert.ok(planner.slowAfterMs() > 1500, `a round trip as slow as the usual slow ones is not late (${planner.slowAfterMs()} ms)`);
  });

  test('regroup: the next member not passed over leads the rest of the group', () => {
    const planner = new RelayPlanner(3, () => 0);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => peer(n));
    planner.slow(b!);
    assert.deepEqual(planner.regroup({ relay: a!, targets: [b!, c!, d!] }), { relay: c!, targets: [b!, d!] });
    assert.deepEqual(planner.regroup({ relay: a!, targets: [peer('s', true), d!] }), { relay: d!, targets: [peer('s', true)] }, 'a suspect one does not lead');
    assert.equal(planner.regroup({ relay: a!, targets: [d!] }), null, 'one left is called directly');
    planner.slow(c!);
    assert.equal(planner.regroup({ relay: a!, targets: [b!, c!] }), null, 'everyone left is passed over');
  });
});

test('a relay\'s queue for a peer keeps two owners\' claims of one id: both are sent', async () => {
  const sent: ClaimRecord[][] = [];
  const p = new Propagation({ concurrency: 1, maxPendingPerPeer: 10, maxPerCall: 10 }, (_peer, records) => {
    sent.push([...records]);
    return Promise.resolve();
  });
  const claim = (owner: string, at: number): ClaimRecord => ({
    id: 'race',
    owner,
    ownerLifeId: `L${owner}`,
    ownerIncarnation: 1,
    claimedAtMs: at,
    claimedAtLogical: 0,
    expiresAtMs: null,
    ttlMs: null,
    fence: BigInt(at) << 16n,
    released: false,
  });
  p.enqueue([peer('t')], [claim('a', 10), claim('b', 20)]);
  await p.idle();
  assert.deepEqual(
    sent.flat().map((r) => r.owner),
    ['a', 'b'],
  );
  assert.equal(p.counters.coalesced, 0);
});

interface Node {
  readonly name: string;
  readonly service: ClaimService;
  hung: boolean;
  /** A member of an earlier release: no `relays` in its acks, refuses an announcement without claims. */
  readonly old: boolean;
}

/** Members in memory on one manual clock; a call is answered on the next turn of the event loop. */
/** The relay groups `owner` plans once every other member's ack has said it relays (as after a warm-up). */
function relayGroupsOf(c: { readonly all: readonly { readonly name: string }[] }, owner: string, groupSize: number): { others: Peer[]; groups: readonly RelayGroup[] } {
  const plan = new RelayPlanner(groupSize, () => 0);
  const others = c.all.filter((n) => n.name !== owner).map((n) => peer(n.name));
  for (const p of others) plan.answered(p, true, 0);
  return { others, groups: plan.plan(others).groups };
}

function memoryCluster(size: number, opts: { old?: string[]; options?: Partial<ClaimOptions> } = {}) {
  const clock = new ManualClock(0);
  const nodes = new Map<string, Node>();
  const stats = { calls: 0, relayFieldsToOld: 0, callsBy: new Map<string, number>() };
  /** How long calls take to be answered (0: on the next turn). */
  const timing = { delayMs: 0 };
  const options = testClaimOptions({ maxClaimsPerMember: 1000, maxRecords: 100_000, relayGroupSize: 4, relayWindowMs: 20, ...opts.options });
  const transport = (from: string): ClaimCallPort => ({
    call(kind, to, self, records, timeoutMs, sentAtMs, answer, relay) {
      stats.calls++;
      stats.callsBy.set(from, (stats.callsBy.get(from) ?? 0) + 1);
      const callee = nodes.get(to.name);
      if (callee === undefined || callee.hung) {
        clock.at(clock.now() + timeoutMs, () => answer(new Error(`${to.name}: deadline exceeded`)));
        return;
      }
      const later = (fn: () => void): void => {
        if (timing.delayMs > 0) clock.at(clock.now() + timing.delayMs, fn);
        else queueMicrotask(fn);
      };
      later(() => {
        if (callee.old && relay !== undefined) stats.relayFieldsToOld++;
        if (callee.old && records.length === 0) return answer(new Error('claims: empty'));
        const winners = kind === 'announce' ? callee.service.receiveClaims(records, sentAtMs).winners : (callee.service.receiveReleases(records, sentAtMs), []);
        if (!callee.old && relay !== undefined) callee.service.receiveRelay(from, relay.relayTo ?? [], records, relay.relayed ?? []);
        const ack: AnnounceAck = { accepted: winners.length === 0, winners, ...(callee.old ? {} : { relays: callee.service.announcer.relays.enabled() }) };
        answer(ack);
      });
    },
  });
  const names = Array.from({ length: size }, (_, i) => `m${String(i).padStart(2, '0')}`);
  for (const name of names) {
    const service = new ClaimService({
      self: () => ({ name, lifeId: `L${name}`, incarnation: 1, serving: true }),
      peers: () => names.filter((n) => n !== name).map((n) => peer(n)),
      memberStatus: () => 'live',
      transport: transport(name),
      timers: clock,
      options,
    });
    nodes.set(name, { name, service, hung: false, old: opts.old?.includes(name) ?? false });
  }
  const all = [...nodes.values()];
  return {
    clock,
    stats,
    timing,
    all,
    node: (name: string) => nodes.get(name)!,
    /** A first round of claims, which goes directly: its acks tell every member who relays. */
    async warm(): Promise<void> {
      this.claimEach('warm');
      await clock.advance(100);
    },
    /** Every member claims one id (`prefix-name`) in the same window. */
    claimEach(prefix: string): void {
      for (const n of all) assert.equal(n.service.claim([`${prefix}-${n.name}`])[0]?.status, 'claimed');
    },
    /** Names of the members (hung ones aside) that do not yet hold `id` owned by `owner`. */
    missing(id: string, owner: string): string[] {
      return all.filter((n) => !n.hung && n.service.store.get(id)?.owner !== owner).map((n) => n.name);
    },
    close(): void {
      for (const n of all) n.service.close();
    },
  };
}

describe('relayed announcements in memory', () => {
  test('every member hears every claim, in far fewer calls than one per peer per claim', async () => {
    const c = memoryCluster(20);
    try {
      // The first round goes directly (nobody is known to relay yet); its acks say who relays.
      await c.warm();
      for (const n of c.all) assert.deepEqual(c.missing(`warm-${n.name}`, n.name), []);
      assert.equal(c.stats.calls, 20 * 19, 'one call per peer per claim before relaying');
      c.stats.calls = 0;
      c.claimEach('x');
      await c.clock.advance(500);
      for (const n of c.all) assert.deepEqual(c.missing(`x-${n.name}`, n.name), [], `x-${n.name} everywhere`);
      assert.ok(c.stats.calls < (20 * 19) / 2, `${c.stats.calls} calls for 20 claims among 20 members`);
      const sum = (f: (s: ClaimService) => number) => c.all.reduce((t, n) => t + f(n.service), 0);
      assert.equal(sum((s) => s.counters.relayBatches), 20 * 5, 'each owner sent one batch to each of the five groups of its 19 peers');
      assert.equal(sum((s) => s.counters.relayFallbacks), 0);
      assert.ok(sum((s) => s.counters.recordsRelayed) > 0);
      assert.equal(sum((s) => s.counters.announcementsFailed), 0);
    } finally {
      c.close();
    }
  });

  test('a relay that hangs is passed over: its group hears the claims directly', async () => {
    const c = memoryCluster(20);
    try {
      await c.warm();
      // Hang a member that is a relay in m00's plan, after every member learned that it relays.
      const relay = relayGroupsOf(c, 'm00', 4).groups[0]!.relay.name;
      c.node(relay).hung = true;
      c.claimEach('y');
      await c.clock.advance(RELAY_SLOW_MS + 500);
      for (const n of c.all) if (!n.hung) assert.deepEqual(c.missing(`y-${n.name}`, n.name), [], `y-${n.name} everywhere but on the hung member`);
      const fallbacks = c.all.reduce((t, n) => t + n.service.counters.relayFallbacks, 0);
      assert.ok(fallbacks > 0, 'owners that used the hung relay sent its group the records directly');
      // Passed over now: the next round does not wait for it.
      const before = fallbacks;
      c.claimEach('z');
      await c.clock.advance(200);
      for (const n of c.all) if (!n.hung) assert.deepEqual(c.missing(`z-${n.name}`, n.name), []);
      assert.equal(
        c.all.reduce((t, n) => t + n.service.counters.relayFallbacks, 0),
        before,
        'no owner used the hung relay again',
      );
    } finally {
      c.close();
    }
  });

  test('a relay slower than usual but within the spread of round trips this member sees is kept', async () => {
    const c = memoryCluster(20, { options: { rpcTimeoutMs: 10_000 } });
    try {
      await c.warm();
      // Every member has seen round trips of 10 ms, and of 1,500 ms one time in five.
      for (const n of c.all) for (let i = 0; i < 200; i++) n.service.announcer.relays.answered(peer(`p${i % 7}`), true, i % 5 === 0 ? 1500 : 10);
      c.timing.delayMs = 1400;
      c.claimEach('s');
      await c.clock.advance(10_000);
      for (const n of c.all) assert.deepEqual(c.missing(`s-${n.name}`, n.name), [], `s-${n.name} everywhere`);
      assert.equal(c.all.reduce((t, n) => t + n.service.counters.relayFallbacks, 0), 0, 'no relay passed over');
      assert.ok(c.all.reduce((t, n) => t + n.service.counters.relayBatches, 0) > 0, 'the claims went through relays');
    } finally {
      c.close();
    }
  });

  test('a dead relay\'s group is reached through its next member, not peer by peer', async () => {
    const c = memoryCluster(30, { options: { relayGroupSize: 8 } });
    try {
      await c.warm();
      const { others, groups } = relayGroupsOf(c, 'm00', 8);
      const dead = groups[0]!.relay.name;
      c.node(dead).hung = true;
      c.stats.callsBy.clear();
      assert.equal(c.node('m00').service.claim(['d'])[0]?.status, 'claimed');
      await c.clock.advance(3000);
      assert.deepEqual(c.missing('d', 'm00'), [], 'everyone but the dead relay holds it');
      const counters = c.node('m00').service.counters;
      assert.equal(counters.relayFallbacks, 1);
      assert.equal(counters.relayBatches, groups.length + 1, 'one batch per group, and one to the next member of the dead relay\'s group');
      // The batches, and the dead relay itself directly once its call failed.
      assert.equal(c.stats.callsBy.get('m00'), groups.length + 2, `m00's calls for one claim among ${others.length} peers`);
    } finally {
      c.close();
    }
  });

  test('when the next member is late too, the group is called directly: one relay tried after the first, no more', async () => {
    const c = memoryCluster(30, { options: { relayGroupSize: 8 } });
    try {
      await c.warm();
      const { groups } = relayGroupsOf(c, 'm00', 8);
      const group = groups[0]!;
      const next = new RelayPlanner(8, () => 0);
      next.slow(group.relay);
      const second = next.regroup(group)!.relay.name;
      c.node(group.relay.name).hung = true;
      c.node(second).hung = true;
      assert.equal(c.node('m00').service.claim(['h'])[0]?.status, 'claimed');
      await c.clock.advance(5000);
      assert.deepEqual(c.missing('h', 'm00'), [], 'everyone but the two hung members holds it');
      assert.equal(c.node('m00').service.counters.relayFallbacks, 2, 'the first relay, then its next member, passed over');
      assert.equal(c.node('m00').service.counters.relayBatches, groups.length + 1);
    } finally {
      c.close();
    }
  });

  test('members of an earlier release are called directly and never sent relay fields', async () => {
    const old = ['m03', 'm07', 'm11'];
    const c = memoryCluster(20, { old });
    try {
      for (const round of ['warm', 'a', 'b']) {
        c.claimEach(round);
        await c.clock.advance(500);
        for (const n of c.all) assert.deepEqual(c.missing(`${round}-${n.name}`, n.name), [], `${round}-${n.name} everywhere`);
      }
      assert.equal(c.stats.relayFieldsToOld, 0);
      assert.ok(c.all.reduce((t, n) => t + n.service.counters.relayBatches, 0) > 0, 'the others relay');
      assert.equal(c.all.reduce((t, n) => t + n.service.counters.announcementsFailed, 0), 0);
    } finally {
      c.close();
    }
  });

  test('two owners claim one id through relays: both claims travel, and every member keeps the same winner', async () => {
    const c = memoryCluster(20);
    try {
      await c.warm();
      for (const n of [c.node('m05'), c.node('m14')]) assert.equal(n.service.claim(['race'])[0]?.status, 'claimed');
      await c.clock.advance(500);
      const winners = new Set(c.all.map((n) => n.service.store.get('race')?.owner));
      assert.equal(winners.size, 1, `one winner everywhere: ${[...winners].join()}`);
      const [winner] = [...winners];
      const loser = winner === 'm05' ? 'm14' : 'm05';
      assert.equal(c.node(loser).service.localIds(10, '').ids.includes('race'), false, 'the loser gave it up');
      for (const n of c.all) assert.equal(n.service.store.recordsFor('race').length, 2, `${n.name} holds both claims (the loser's released)`);
    } finally {
      c.close();
    }
  });
});

describe('relayed announcements over gRPC', () => {
  test('a relay forwards the records it is asked to, acks say it relays, and the fields are bounded', async () => {
    const options = testClaimOptions({ relayGroupSize: 4, relayWindowMs: 5, rpcTimeoutMs: 10_000 });
    const started: { name: string; service: ClaimService; client: ControlPlaneClient; close: () => Promise<void>; addr: string }[] = [];
    const peers = (self: string): Peer[] => started.filter((s) => s.name !== self).map((s) => ({ name: s.name, grpcAddr: s.addr }));
    for (const name of ['a', 'b', 'c']) {
      const client = new ControlPlaneClient({ sender: name });
      const service = new ClaimService({
        self: () => ({ name, lifeId: `L${name}`, incarnation: 1, serving: true }),
        peers: () => peers(name),
        memberStatus: () => 'live',
        transport: grpcClaimTransport(client),
        timers: realClock,
        options,
      });
      const server = await startControlPlaneServer({
        bind: '127.0.0.1:0',
        handlers: { negotiate: () => [], closing: () => undefined, ping: () => ({ name, members: 3, healthScore: 0, tableVersion: 'v' }) },
        extraMethods: ownershipExtraMethods({ service, checkContext: () => undefined, tableVersion: () => 'v', defaultPageSize: 100, onReject: () => undefined }),
      });
      started.push({ name, service, client, addr: `127.0.0.1:${server.port}`, close: () => server.close() });
    }
    const [a, b, c] = started as [(typeof started)[0], (typeof started)[0], (typeof started)[0]];
    const sender = grpcClaimTransport(a.client);
    const self = { name: 'a', lifeId: 'La', incarnation: 1, serving: true };
    try {
      assert.equal(a.service.claim(['k'])[0]?.status, 'claimed');
      const record = a.service.store.get('k')!;
      const bPeer = { name: 'b', grpcAddr: b.addr };
      const ack = await sender.announce(bPeer, self, [record], 5000, Date.now(), { relayTo: ['c', 'nobody'] });
      assert.equal(ack.relays, true);
      assert.equal(b.service.store.get('k')?.owner, 'a');
      await waitFor('c to hear the claim from the relay', 10_000, async () => c.service.store.get('k')?.owner === 'a');
      assert.equal(b.service.counters.recordsRelayed, 1, 'forwarded once, to c (an unknown name is skipped)');
      // Over the bound of names: refused before it is decoded.
      const tooMany = Array.from({ length: MAX_RELAY_TARGETS + 1 }, (_, i) => `n${i}`);
      await assert.rejects(sender.announce(bPeer, self, [record], 5000, Date.now(), { relayTo: tooMany }), (err: unknown) => {
        assert.ok(err instanceof ControlPlaneCallError);
        assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
        assert.match(err.message, /relay_to: 1025 entries, limit 1024/);
        return true;
      });
      // A relay's forward may hold no claims of its own.
      const relayedOnly = await sender.announce({ name: 'c', grpcAddr: c.addr }, self, [], 5000, Date.now(), { relayed: [{ ...record, id: 'k2' }] });
      assert.equal(relayedOnly.accepted, true, 'an announcement may carry relayed records only');
      assert.equal(c.service.store.get('k2')?.owner, 'a');
    } finally {
      for (const s of started) {
        s.service.close();
        s.client.close();
        await s.close();
      }
    }
  });
});

describe('direct calls in each owner\'s own order', () => {
  test('every peer once, in the list\'s cyclic order, from a start set by the owner', () => {
    const peers = Array.from({ length: 12 }, (_, i) => ({ name: `p${i}` }));
    const order = peersInOwnOrder(peers, 'owner-a');
    assert.deepEqual([...order].sort((a, b) => Number(a.name.slice(1)) - Number(b.name.slice(1))), peers);
    const start = peers.indexOf(order[0]!);
    assert.deepEqual(order, [...peers.slice(start), ...peers.slice(0, start)]);
    assert.deepEqual(peersInOwnOrder(peers, 'owner-a'), order, 'the same owner, the same order');
    assert.deepEqual(peersInOwnOrder([], 'owner-a'), []);
  });

  // Every member's first claim goes to every peer directly: with the list's order every owner's first
  // calls hit the same peers, whose servers refuse calls past their in-flight bound.
  for (const members of [50, 200]) {
    test(`a burst of first claims from ${members} owners spreads: no peer is among the first calls of more than half the in-flight bound`, () => {
      const names = Array.from({ length: members }, (_, i) => `member-${i}`);
      const firstCalls = new Map<string, number>();
      for (const owner of names) {
        const peers = names.filter((n) => n !== owner).map((name) => ({ name }));
        for (const p of peersInOwnOrder(peers, owner).slice(0, DEFAULT_CLAIM_CONFIG.announceConcurrency)) firstCalls.set(p.name, (firstCalls.get(p.name) ?? 0) + 1);
      }
      assert.ok(Math.max(...firstCalls.values()) <= DEFAULT_MAX_IN_FLIGHT / 2, `one peer is first for ${Math.max(...firstCalls.values())} owners`);
    });
  }
});
