import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClaimService, type AnnounceAck, type ClaimOptions, type ClaimTransport, type Peer, type Self, type ClaimLoss } from '../../src/ownership/service.js';
import { realClock } from '../../src/shell/real-clock.js';
import { encodeClaimRecord } from '../../src/ownership/canonical.js';
import type { ClaimRecord } from '../../src/ownership/types.js';
import { testClaimOptions } from './options.js';

const options: ClaimOptions = testClaimOptions({ defaultTtlMs: 10_000 });

interface Sent {
  kind: 'announce' | 'expire';
  peer: string;
  records: readonly ClaimRecord[];
}

class FakeTransport implements ClaimTransport {
  readonly sent: Sent[] = [];
  inFlight = 0;
  maxInFlight = 0;
  answer: (s: Sent) => AnnounceAck = () => ({ accepted: true, winners: [] });
  private record(kind: Sent['kind'], peer: Peer, records: readonly ClaimRecord[]): Promise<AnnounceAck> {
    const s = { kind, peer: peer.name, records };
    this.sent.push(s);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise((resolve) =>
      setImmediate(() => {
        this.inFlight--;
        resolve(this.answer(s));
      }),
    );
  }
  announce(peer: Peer, _self: Self, records: readonly ClaimRecord[]): Promise<AnnounceAck> {
    return this.record('announce', peer, records);
  }
  expire(peer: Peer, _self: Self, records: readonly ClaimRecord[]): Promise<AnnounceAck> {
    return this.record('expire', peer, records);
  }
}

function setup(peers: Peer[] = [{ name: 'b', grpcAddr: 'b:1' }, { name: 'c', grpcAddr: 'c:1' }]) {
  let wall = 1_000_000;
  const transport = new FakeTransport();
  const losses: ClaimLoss[] = [];
  const service = new ClaimService({
    timers: realClock,
    self: () => ({ name: 'a', lifeId: 'LA', incarnation: 7, serving: true }),
    peers: () => peers,
    memberStatus: () => 'live',
    transport,
    options,
    wallClock: () => wall,
  });
  service.onLoss((l) => losses.push(l));
  return { service, transport, losses, advance: (ms: number) => (wall += ms), now: () => wall };
}

function foreign(id: string, owner: string, claimedAtMs: number, extra: Partial<ClaimRecord> = {}): ClaimRecord {
  const expiresAtMs = extra.expiresAtMs ?? null;
  return {
    id,
    owner,
    ownerLifeId: `L${owner}`,
    ownerIncarnation: 1,
    claimedAtMs,
    claimedAtLogical: 0,
    expiresAtMs,
    ttlMs: expiresAtMs === null ? null : Math.max(0, expiresAtMs - claimedAtMs),
    fence: BigInt(claimedAtMs) << 16n,
    released: false,
    ...extra,
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('ClaimService', () => {
  test('claims made within the window go to each peer as one announcement', async () => {
    const { service, transport } = setup();
    const out = service.claim(['x', 'y'], null);
    assert.deepEqual(out.map((o) => o.status), ['claimed', 'claimed']);
    service.claim(['z']);
    service.flush();
    await service.drained();
    assert.deepEqual(transport.sent.map((s) => [s.kind, s.peer, s.records.map((r) => r.id).join()]), [
      ['announce', 'b', 'x,y,z'],
      ['announce', 'c', 'x,y,z'],
    ]);
    assert.equal(transport.sent[0]?.records[2]?.expiresAtMs, 1_000_000 + 10_000, 'the default TTL');
  });

  test('announcement calls in flight stay within the concurrency bound', async () => {
    const peers = Array.from({ length: 6 }, (_, i) => ({ name: `p${i}`, grpcAddr: `p${i}:1` }));
    const { service, transport } = setup(peers);
    service.claim(['x']);
    service.flush();
    await service.drained();
    assert.equal(transport.sent.length, 6);
    assert.ok(transport.maxInFlight <= options.announceConcurrency, `max in flight ${transport.maxInFlight}`);
  });

  test('an id another member holds is not taken; renewing keeps the first claim time', () => {
    const { service, advance } = setup();
    service.receiveClaims([foreign('x', 'b', 5)]);
    const [taken] = service.claim(['x']);
    assert.equal(taken?.status, 'owned_elsewhere');
    const [first] = service.claim(['y']);
    advance(1000);
    const [again] = service.claim(['y']);
    assert.equal(again?.status, 'renewed');
    assert.ok(first && 'record' in first && again && 'record' in again);
    assert.equal(again.record.claimedAtMs, first.record.claimedAtMs);
    assert.equal(again.record.expiresAtMs, first.record.expiresAtMs! + 1000);
  });

  test('an earlier claim from a peer wins: ours is released, announced, and the app told', async () => {
    const { service, transport, losses } = setup();
    service.claim(['x'], null);
    service.flush();
    await service.drained();
    const { winners } = service.receiveClaims([foreign('x', 'b', 1)]);
    assert.deepEqual(winners, [], 'the announcer won: nothing to tell it');
    await tick();
    assert.deepEqual(losses, [{ id: 'x', reason: 'lost', owner: 'b', fence: 1n << 16n }], 'the app is given the winner\'s fencing token');
    service.flush();
    await service.drained();
    const release = transport.sent.find((s) => s.kind === 'expire');
    assert.equal(release?.records[0]?.released, true);
    assert.equal(service.store.get('x')?.owner, 'b');
  });

  test('a later claim from a peer is answered with our winning record', () => {
    const { service } = setup();
    service.claim(['x'], null);
    const { winners, outcome } = service.receiveClaims([foreign('x', 'b', 1_005_000)]);
    assert.equal(winners[0]?.owner, 'a');
    assert.equal(outcome.conflicts.length, 1);
    assert.equal(service.store.get('x')?.owner, 'a');
  });

  test('a peer answering with an earlier winner makes us give the id up', async () => {
    const { service, transport, losses } = setup();
    transport.answer = (s) => ({ accepted: false, winners: s.records.map((r) => foreign(r.id, 'c', 1)) });
    service.claim(['x'], null);
    service.flush();
    await service.drained();
    await tick();
    assert.equal(service.store.get('x')?.owner, 'c');
    assert.equal(losses[0]?.reason, 'lost');
  });

  test('an expired claim is released and announced with AnnounceExpiry; the app is told', async () => {
    const { service, transport, losses, advance } = setup();
    service.claim(['x'], 500);
    service.flush();
    await service.drained();
    advance(499);
    service.sweep();
    assert.equal(losses.length, 0);
    advance(1);
    service.sweep();
    assert.deepEqual(losses, [{ id: 'x', reason: 'expired', owner: null, fence: 1_000_000n << 16n }], 'the token of the claim that ended');
    service.flush();
    await service.drained();
    assert.deepEqual(transport.sent.filter((s) => s.kind === 'expire').map((s) => s.peer), ['b', 'c']);
    assert.equal(service.store.get('x'), undefined);
  });

  test('a peer echoing a claim of ours that we no longer hold gets it released again', async () => {
    const { service, transport } = setup();
    service.receiveClaims([{ ...foreign('ghost', 'a', 5), ownerLifeId: 'LA', ownerIncarnation: 7 }]);
    await tick();
    assert.equal(service.store.get('ghost'), undefined);
    service.flush();
    await service.drained();
    assert.ok(transport.sent.some((s) => s.kind === 'expire' && s.records[0]?.id === 'ghost'));
  });

  test('claims of a departed member are released; a new peer is sent all of ours', async () => {
    const { service, transport } = setup();
    service.receiveClaims([foreign('x', 'b', 1), foreign('y', 'b', 1)]);
    service.memberDeparted('b');
    assert.equal(service.store.get('x'), undefined);
    assert.equal(service.counters.releasedOnDeparture, 2);
    service.claim(['m1', 'm2'], null);
    service.announceAll({ name: 'new', grpcAddr: 'new:1' });
    await service.drained();
    assert.deepEqual(transport.sent.filter((s) => s.peer === 'new').map((s) => s.records.map((r) => r.id).sort().join()), ['m1,m2']);
  });

  test('claims of an older life of ourselves are refused', () => {
    const { service } = setup();
    const out = service.receiveClaims([{ ...foreign('x', 'a', 1), ownerLifeId: 'OLD' }]);
    assert.equal(out.outcome.rejected[0]?.reason, 'owner-gone');
  });

  test('local ids page in sorted order', () => {
    const { service } = setup();
    service.claim(['c', 'a', 'b'], null);
    assert.deepEqual(service.localIds(2, ''), { ids: ['a', 'b'], more: true });
    assert.deepEqual(service.localIds(2, 'b'), { ids: ['c'], more: false });
  });
});

describe('partition heal between two members', () => {
  /** Two services wired to each other in memory; `cut` drops every call. */
  function pair() {
    const state = { cut: false, wallA: 1000, wallB: 1000 };
    const services: Record<string, ClaimService> = {};
    const transport = (): ClaimTransport => ({
      announce: async (peer, _self, records) => {
        if (state.cut) throw new Error('partitioned');
        const { winners } = services[peer.name]!.receiveClaims(records);
        return { accepted: winners.length === 0, winners };
      },
      expire: async (peer, _self, records) => {
        if (state.cut) throw new Error('partitioned');
        services[peer.name]!.receiveReleases(records);
        return { accepted: true, winners: [] };
      },
    });
    const losses: Record<string, ClaimLoss[]> = { a: [], b: [] };
    for (const [name, other] of [['a', 'b'], ['b', 'a']] as const) {
      services[name] = new ClaimService({
        timers: realClock,
        self: () => ({ name, lifeId: `L${name}`, incarnation: 1, serving: true }),
        peers: () => [{ name: other, grpcAddr: `${other}:1` }],
        memberStatus: () => 'live',
        transport: transport(),
        options,
        wallClock: () => (name === 'a' ? state.wallA : state.wallB),
      });
      services[name]!.onLoss((l) => losses[name]!.push(l));
    }
    return { a: services['a']!, b: services['b']!, state, losses };
  }

  const snapshot = (s: ClaimService) => [...s.store.entries()].map((r) => Buffer.from(encodeClaimRecord(r)).toString('hex')).sort();

  for (const repair of ['announcements', 'digest'] as const) {
    test(`both sides claimed one id: the earlier claim wins on both, the loser is told (${repair})`, async () => {
      const { a, b, state, losses } = pair();
      state.cut = true;
      state.wallA = 2000;
      state.wallB = 1500;
      a.claim(['cart'], null);
      b.claim(['cart'], null);
      a.flush();
      b.flush();
      await a.drained();
      await b.drained();
      assert.equal(a.store.get('cart')?.owner, 'a');
      assert.equal(b.store.get('cart')?.owner, 'b');
      state.cut = false;
      if (repair === 'announcements') {
        a.announceAll();
        b.announceAll();
      } else {
        // What the digest exchange does: each side merges the other's records.
        a.store.merge([...b.store.entries()]);
        b.store.merge([...a.store.entries()]);
      }
      for (let i = 0; i < 5; i++) {
        await tick();
        a.flush();
        b.flush();
        await a.drained();
        await b.drained();
      }
      assert.equal(a.store.get('cart')?.owner, 'b');
      assert.equal(b.store.get('cart')?.owner, 'b');
      assert.deepEqual(losses['a']?.map(({ fence: _, ...l }) => l), [{ id: 'cart', reason: 'lost', owner: 'b' }]);
      assert.deepEqual(losses['b'], []);
      // b won with the earlier stamp, so its token was below a's: it took one above a's.
      const winner = b.store.get('cart')!;
      const loser = a.store.recordsFor('cart').find((r) => r.owner === 'a')!;
      assert.equal(loser.released, true);
      assert.ok(winner.fence > loser.fence, `winner ${winner.fence} > loser ${loser.fence}`);
      assert.ok(winner.fence > 1500n << 16n, 'not the token of its claim stamp any more');
      assert.equal(b.counters.refenced, 1);
      assert.equal(a.counters.refenced, 0);
      assert.deepEqual(snapshot(a), snapshot(b));
      assert.deepEqual(a.localIds(10, '').ids, []);
      assert.deepEqual(b.localIds(10, '').ids, ['cart']);
    });
  }
});
