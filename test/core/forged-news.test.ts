// Forged news about a live member, sent by a peer outside the cluster (no keyring): a leave, a
// suspicion, a death verdict, or the member's name under another life and address. Each must be undone
// by the member's own refutation within a round trip, also when invented members fill every table
// (a gossiped refutation then reaches the holders of the forgery only by chance, and nobody gossips to
// or probes a member held left). Deterministic: virtual time, seeded randomness.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_INCARNATION } from '../../src/core/limits.js';
import type { Update } from '../../src/core/types.js';
import { checkAddress, membersFromProto, membersToProto } from '../../src/grpc/convert.js';
import { isRejection } from '../../src/grpc/errors.js';
import { DEFAULT_LIMITS } from '../../src/grpc/limits.js';
import { Cluster, META, gossipAddr, grpcAddr, makeCore, record } from './harness.js';

const HOSTILE = 'hostile:7946';
/** One refutation: the holder tells the member (1 ms), it answers (1 ms), plus a gossip round or two. */
const ONE_REFUTATION_MS = 200;

/** A 5-member cluster whose every member also holds `invented` members at addresses nobody answers. */
function clusterWithInventedMembers(invented: number): Cluster {
  const c = Cluster.started(5);
  c.run(2000);
  const junk: Update[] = Array.from({ length: invented }, (_, i) => ({
    kind: 'alive',
    name: `invented-${i}`,
    lifeId: 'forged-life',
    incarnation: 1,
    gossipAddr: `nowhere-${i}:1`,
    grpcAddr: `nowhere-${i}:2`,
    meta: META,
  }));
  for (const name of c.cores.keys()) forge(c, name, junk);
  c.run(500);
  return c;
}

/** Delivers `updates` to `to` as a gossip packet from the hostile peer's address. */
function forge(c: Cluster, to: string, updates: readonly Update[]): void {
  c.apply(to, c.core(to).receive(HOSTILE, { message: null, updates }, c.now));
}

/** Who holds `name` other than alive at its own address and life. */
function wrongViews(c: Cluster, name: string): string[] {
  const real = c.core(name).self;
  const wrong: string[] = [];
  for (const [observer, core] of c.cores) {
    if (observer === name) continue;
    const held = core.member(name);
    if (held?.state !== 'alive' || held.gossipAddr !== real.gossipAddr || held.lifeId !== real.lifeId) {
      wrong.push(`${observer} holds ${name} ${held?.state ?? 'absent'} at ${held?.gossipAddr ?? '-'} (${held?.lifeId ?? '-'})`);
    }
  }
  return wrong;
}

describe('forged news about a live member lasts one refutation', () => {
  // Each forgery at the member's incarnation (an alive one above it, so peers take it) and at the
  // ceiling (an alive one just below it: at the ceiling itself another life cannot be outbid at all,
  // docs/security.md).
  const forgeries: Record<string, (incarnation: number, ceiling: boolean) => Update> = {
    left: (incarnation, ceiling) => ({ kind: 'left', name: 'n1', incarnation: ceiling ? MAX_INCARNATION : incarnation }),
    suspect: (incarnation, ceiling) => ({ kind: 'suspect', name: 'n1', incarnation: ceiling ? MAX_INCARNATION : incarnation, from: 'n3' }),
    dead: (incarnation, ceiling) => ({ kind: 'dead', name: 'n1', incarnation: ceiling ? MAX_INCARNATION : incarnation, from: 'someone' }),
    'alive under another life and address': (incarnation, ceiling) => ({
      kind: 'alive',
      name: 'n1',
      lifeId: 'forged-life',
      incarnation: ceiling ? MAX_INCARNATION - 1 : incarnation + 1,
      gossipAddr: HOSTILE,
      grpcAddr: 'hostile:7947',
      meta: { ...META, tags: { forged: '1' } },
    }),
  };
  for (const [kind, forged] of Object.entries(forgeries)) {
    for (const ceiling of [false, true]) {
      test(`${kind} at ${ceiling ? 'the ceiling' : 'its incarnation'}, sent to two members, with 300 invented members in every table`, () => {
        const c = clusterWithInventedMembers(300);
        assert.deepEqual(wrongViews(c, 'n1'), [], 'the cluster agrees before the forgery');
        const update = forged(c.core('n1').self.incarnation, ceiling);
        forge(c, 'n0', [update]);
        forge(c, 'n2', [update]);
        assert.ok(wrongViews(c, 'n1').length > 0, 'the forgery took hold');
        c.run(ONE_REFUTATION_MS);
        assert.deepEqual(wrongViews(c, 'n1'), []);
        assert.equal(c.core('n1').self.lifeId, 'n1-life-1');
        assert.equal(c.core('n1').self.gossipAddr, gossipAddr('n1'));
        assert.equal(c.core('n1').self.grpcAddr, grpcAddr('n1'));
      });
    }
  }
});

describe('a claim just below the ceiling pushed to it by an accusation', () => {
  for (const kind of ['left', 'dead', 'suspect'] as const) {
    test(`[alive under another life at the ceiling - 1, ${kind} at the ceiling] in one packet: the member's first-hand refutation wins the tie`, () => {
      const c = clusterWithInventedMembers(300);
      const claim: Update = { kind: 'alive', name: 'n1', lifeId: 'forged-life', incarnation: MAX_INCARNATION - 1, gossipAddr: HOSTILE, grpcAddr: 'hostile:7947', meta: META };
      const accusation: Update = kind === 'left' ? { kind, name: 'n1', incarnation: MAX_INCARNATION } : { kind, name: 'n1', incarnation: MAX_INCARNATION, from: 'someone' };
      forge(c, 'n0', [claim, accusation]);
      // Held at the ceiling under the forger's life: no incarnation outbids it, and an alive under
      // another life relayed by a third member still does not displace it.
      assert.equal(c.core('n0').member('n1')?.lifeId, 'forged-life');
      c.run(ONE_REFUTATION_MS);
      assert.deepEqual(wrongViews(c, 'n1'), []);
      const relayed: Update = { kind: 'alive', name: 'n1', lifeId: 'another-forged-life', incarnation: MAX_INCARNATION, gossipAddr: 'elsewhere:1', grpcAddr: 'elsewhere:2', meta: META };
      c.apply('n0', c.core('n0').receive(gossipAddr('n2'), { message: null, updates: [relayed] }, c.now));
      assert.equal(c.core('n0').member('n1')?.lifeId, 'n1-life-1', 'an alive record at the ceiling is not displaced by another life');
    });
  }
});

describe('records the control plane cannot carry are refused at the door', () => {
  // One such record in a table made every full-state exchange carrying it (join replies, push-pull,
  // anti-entropy) be refused whole by the receiver's gRPC checks: one forged member blocked all joins.
  test('names over 253 UTF-8 bytes or with control characters, life ids over 255 bytes, are ignored and counted', () => {
    const core = makeCore('a');
    const forged = (name: string, lifeId = 'life'): Update => ({ kind: 'alive', name, lifeId, incarnation: 1, gossipAddr: 'x:1', grpcAddr: 'x:2', meta: META });
    const refused = [forged('n'.repeat(254)), forged('é'.repeat(127)), forged('tab\there'), forged('del\u007f'), forged('ok', 'l'.repeat(256))];
    receiveForged(core, refused);
    assert.deepEqual(core.fullState().map((r) => r.name), ['a']);
    assert.equal(core.counters.updatesRejected, refused.length);
    receiveForged(core, [forged('n'.repeat(253)), forged('é'.repeat(126)), forged('ok', 'l'.repeat(255))]);
    assert.equal(core.fullState().length, 4, 'the bounds themselves are accepted');
  });
});

function receiveForged(core: ReturnType<typeof makeCore>, updates: readonly Update[]): void {
  core.receive(HOSTILE, { message: null, updates }, 0);
}

describe('addresses the control plane cannot carry are refused at the door', () => {
  test('with the agent\'s check (gRPC\'s own), a forged alive with such an address is ignored and counted; full state still converts', () => {
    const acceptsAddress = (addr: string): boolean => typeof checkAddress(addr, 'address') === 'string';
    const core = makeCore('a', { acceptsAddress });
    const forged = (gossip: string, grpc = 'x:2', app = ''): Update => ({ kind: 'alive', name: `m-${gossip}-${grpc}-${app}`, lifeId: 'life', incarnation: 1, gossipAddr: gossip, grpcAddr: grpc, meta: { ...META, appAddr: app } });
    const refused = [forged('nope'), forged(''), forged('x:0'), forged('x:1', 'x'), forged('x:1', 'x:2', 'app'), forged(' x:1')];
    receiveForged(core, refused);
    assert.equal(core.counters.updatesRejected, refused.length);
    core.onNegotiate([{ ...record('pulled', 'alive'), gossipAddr: 'bad' }], false, 0);
    assert.equal(core.counters.updatesRejected, refused.length + 1);
    receiveForged(core, [forged('x:1', 'x:2', 'x:3')]);
    const carried = membersFromProto(membersToProto(core.fullState()) as never, 'members', DEFAULT_LIMITS);
    assert.ok(!isRejection(carried), JSON.stringify(carried));
    assert.deepEqual(carried.map((r) => r.name).sort(), ['a', 'm-x:1-x:2-x:3']);
  });
});
