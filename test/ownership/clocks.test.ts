// Claims ordered by a hybrid logical clock, with members whose clocks are off: in the claims unit
// harness (ClaimServices wired in memory, each with its own wall clock and a shared monotonic one).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeClaimRecord } from '../../src/ownership/canonical.js';
import { HybridClock, MAX_LOGICAL, packStamp } from '../../src/ownership/hlc.js';
import { ClaimService, type ClaimLoss, type ClaimOptions, type ClaimTransport } from '../../src/ownership/service.js';
import { realClock } from '../../src/shell/real-clock.js';
import { testClaimOptions } from './options.js';

const options: ClaimOptions = testClaimOptions({ announceConcurrency: 4 });

const tick = () => new Promise((r) => setImmediate(r));

/**
 * Members wired to each other in memory. `offsets[name]` is how far that member's wall clock is off
 * true time; `cut` drops every call (a partition); `mono` is the monotonic clock every member reads.
 */
function cluster(names: readonly string[], offsets: Record<string, number> = {}) {
  const state = { cut: false, trueNow: 1_800_000_000_000, mono: 0 };
  const wall = (name: string) => () => state.trueNow + (offsets[name] ?? 0);
  const services: Record<string, ClaimService> = {};
  const losses: Record<string, ClaimLoss[]> = {};
  const transport: ClaimTransport = {
    announce: async (peer, _self, records, _timeout, sentAtMs) => {
      if (state.cut) throw new Error('partitioned');
      const target = services[peer.name]!;
      const { winners } = target.receiveClaims(records, sentAtMs);
      return { accepted: winners.length === 0, winners, receiverWallMs: target.clockGuard.wallNow() };
    },
    expire: async (peer, _self, records, _timeout, sentAtMs) => {
      if (state.cut) throw new Error('partitioned');
      const target = services[peer.name]!;
      target.receiveReleases(records, sentAtMs);
      return { accepted: true, winners: [], receiverWallMs: target.clockGuard.wallNow() };
    },
  };
  for (const name of names) {
    losses[name] = [];
    services[name] = new ClaimService({
      timers: realClock,
      self: () => ({ name, lifeId: `L${name}`, incarnation: 1, serving: true }),
      peers: () => names.filter((n) => n !== name).map((n) => ({ name: n, grpcAddr: `${n}:1` })),
      memberStatus: () => 'live',
      transport,
      options,
      wallClock: wall(name),
      clock: () => state.mono,
    });
    services[name]!.onLoss((l) => losses[name]!.push(l));
  }
  const all = Object.values(services);
  /** Delivers every pending announcement (and the ones they cause) everywhere. */
  const settle = async () => {
    for (let i = 0; i < 6; i++) {
      await tick();
      for (const s of all) s.flush();
      for (const s of all) await s.drained();
    }
  };
  return { services, losses, state, settle, all };
}

const snapshot = (s: ClaimService) => [...s.store.entries()].map((r) => Buffer.from(encodeClaimRecord(r)).toString('hex')).sort();

describe('HybridClock', () => {
  test('never goes backwards, follows stamps it observes, and carries the logical part', () => {
    let wall = 1000;
    const hlc = new HybridClock(() => wall);
    assert.deepEqual(hlc.now(), { physicalMs: 1000, logical: 0 });
    assert.deepEqual(hlc.now(), { physicalMs: 1000, logical: 1 });
    wall = 900; // the wall clock stepped back
    assert.deepEqual(hlc.now(), { physicalMs: 1000, logical: 2 });
    hlc.observe({ physicalMs: 1500, logical: 7 });
    assert.deepEqual(hlc.now(), { physicalMs: 1500, logical: 8 });
    hlc.observe({ physicalMs: 1500, logical: MAX_LOGICAL });
    assert.deepEqual(hlc.now(), { physicalMs: 1501, logical: 0 });
    wall = 2000;
    assert.deepEqual(hlc.now(), { physicalMs: 2000, logical: 0 });
    assert.equal(packStamp({ physicalMs: 2000, logical: 3 }), 2000n * 65536n + 3n);
  });
});

describe('claims with clocks that are off', () => {
  test('a claim made after seeing a release sorts after it, even from a clock running behind', async () => {
    // a's clock is 8 s behind b's (within the tolerance).
    const { services, settle } = cluster(['a', 'b'], { a: -8000 });
    const a = services['a']!;
    const b = services['b']!;
    b.claim(['cart']);
    await settle();
    const first = b.store.get('cart')!;
    b.release('cart');
    await settle();
    assert.equal(a.store.get('cart'), undefined);
    const [out] = a.claim(['cart']);
    assert.equal(out?.status, 'claimed');
    const second = a.store.get('cart')!;
    // By a's wall clock its claim is 8 s older than b's; by the hybrid clock it is later.
    assert.ok(second.claimedAtMs > first.claimedAtMs || (second.claimedAtMs === first.claimedAtMs && second.claimedAtLogical > first.claimedAtLogical));
    assert.ok(second.fence > first.fence, 'the new owner carries the higher fence');
    await settle();
    assert.equal(b.store.get('cart')?.owner, 'a');
  });

  test('the next owner\'s token tops a token the previous owner took when it won a race', () => {
    const { services } = cluster(['a', 'b']);
    const a = services['a']!;
    const wall = a.clockGuard.wallNow();
    // b claimed 10 s ago and, winning a race, took a token 5 s ahead of a's clock (within the tolerance).
    const bFence = packStamp({ physicalMs: wall + 5000, logical: 3 });
    const b = { id: 'cart', owner: 'b', ownerLifeId: 'Lb', ownerIncarnation: 1, claimedAtMs: wall - 10_000, claimedAtLogical: 0, expiresAtMs: null, ttlMs: null, fence: bFence, released: false };
    a.receiveClaims([b]);
    a.receiveReleases([{ ...b, released: true }]);
    const [out] = a.claim(['cart']);
    assert.ok(out?.status === 'claimed');
    assert.ok(out.record.fence > bFence, `${out.record.fence} > ${bFence}`);
  });

  for (const order of ['a first', 'b first'] as const) {
    test(`after a heal the first claim wins on every member, whatever the repair order (${order})`, async () => {
      const { services, state, settle, losses, all } = cluster(['a', 'b', 'c'], { a: -4000, b: 3000 });
      await settle();
      state.cut = true;
      // b claims first in true time, a 2 s later: a's clock is 7 s behind b's, so a's stamp is earlier.
      services['b']!.claim(['cart']);
      state.trueNow += 2000;
      services['a']!.claim(['cart']);
      await settle();
      state.cut = false;
      const [x, y] = order === 'a first' ? [services['a']!, services['b']!] : [services['b']!, services['a']!];
      x.announceAll();
      await settle();
      y.announceAll();
      await settle();
      for (const s of all) assert.equal(s.store.get('cart')?.owner, 'a');
      assert.deepEqual(losses['b']?.map(({ fence: _, ...l }) => l), [{ id: 'cart', reason: 'lost', owner: 'a' }]);
      assert.deepEqual(losses['a'], []);
      // At most one live owner: b holds a release, every member holds the same records.
      assert.deepEqual(snapshot(services['a']!), snapshot(services['b']!));
      assert.deepEqual(snapshot(services['a']!), snapshot(services['c']!));
      const live = services['c']!.store.recordsFor('cart').filter((r) => !r.released);
      assert.deepEqual(live.map((r) => r.owner), ['a']);
    });
  }

  test('a claimant whose clock is off beyond the tolerance is refused and counted; it stops claiming itself', async () => {
    // c's clock is a minute behind: its stamps would win every race.
    const { services, settle, losses } = cluster(['a', 'b', 'c'], { c: -60_000 });
    const [a, b, c] = [services['a']!, services['b']!, services['c']!];
    assert.equal(c.claim(['from-c'])[0]?.status, 'claimed', 'before any exchange nobody knows');
    await settle();
    assert.equal(a.store.get('from-c'), undefined);
    assert.equal(b.store.get('from-c'), undefined);
    assert.ok(a.clockGuard.counters.refusedClaims >= 1);
    assert.ok(a.clockGuard.counters.skewedAnnouncements >= 1);
    assert.equal(a.clockGuard.peersOff(), 1);
    // c heard a and b answer with their clocks: most of its peers are off from it, so it is the odd one.
    assert.equal(c.clockOff(), true);
    assert.deepEqual(c.claim(['more']).map((o) => o.status), ['clock_skew']);
    assert.equal(c.touch('touched'), undefined, 'first touch does not claim either');
    // a and b still claim, and c follows their claims (it does not refuse them).
    assert.equal(a.clockOff(), false);
    assert.equal(a.claim(['from-a'])[0]?.status, 'claimed');
    await settle();
    assert.equal(b.store.get('from-a')?.owner, 'a');
    assert.equal(c.store.get('from-a')?.owner, 'a');
    // c's earlier claim is known to c alone. When another member claims that id, c does not defend
    // its (early-stamped) claim: it gives it up, so the id has one live owner.
    assert.equal(a.claim(['from-c'])[0]?.status, 'claimed');
    await settle();
    for (const s of [a, b, c]) assert.equal(s.store.get('from-c')?.owner, 'a');
    assert.deepEqual(losses['c']?.map(({ fence: _, ...l }) => l), [{ id: 'from-c', reason: 'lost', owner: 'a' }]);
    assert.deepEqual(losses['a'], []);
  });

  test('a stamp far ahead of the receiver\'s clock is refused, even without an announcement (digest repair)', () => {
    const { services } = cluster(['a', 'b']);
    const a = services['a']!;
    const ahead = a.clockGuard.wallNow() + 60_000;
    const out = a.store.merge([
      { id: 'x', owner: 'b', ownerLifeId: 'Lb', ownerIncarnation: 1, claimedAtMs: ahead, claimedAtLogical: 0, expiresAtMs: null, ttlMs: null, fence: packStamp({ physicalMs: ahead, logical: 0 }), released: false },
    ]);
    assert.deepEqual(out.rejected.map((r) => r.reason), ['clock-skew']);
    assert.equal(a.clockGuard.hlc.peekMs() < ahead, true, 'the clock did not follow it');
  });

  test('a receiver whose clock runs ahead keeps another member\'s claim for its TTL, measured from receipt', async () => {
    // b's clock is 8 s ahead (within the tolerance); a claims with a 5 s TTL. Comparing b's clock with
    // a's expiry would drop the claim at b's first sweep (8 s > 5 s + 1 s grace).
    const { services, state, settle } = cluster(['a', 'b'], { b: 8000 });
    const [a, b] = [services['a']!, services['b']!];
    a.claim(['cart'], 5000);
    await settle();
    assert.equal(b.store.get('cart')?.owner, 'a');
    b.sweep();
    assert.equal(b.store.get('cart')?.owner, 'a', 'not dropped early');
    state.mono += 5999;
    b.sweep();
    assert.equal(b.store.get('cart')?.owner, 'a', 'TTL + grace not yet over since it arrived');
    state.mono += 1;
    b.sweep();
    assert.equal(b.store.get('cart'), undefined, 'dropped TTL + grace after it arrived (its release was lost)');
  });
});
