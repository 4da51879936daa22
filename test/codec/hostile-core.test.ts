// Hostile UDP input end to end, as the agent handles a datagram: decode, and only a decoded packet
// reaches the core. Rejected bytes leave a core's member view exactly as it was; decodable junk (a
// bit flip can still decode) never makes the core throw, whoever it claims to come from.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DECODE_REJECT_REASONS, decodePacket, encodePacket, type DecodeRejectReason } from '../../src/codec/index.js';
import type { SwimCore } from '../../src/core/swim.js';
import { alive, makeCore } from '../core/harness.js';
import { packetArb } from './arbitraries.js';

/** A core that knows three peers, so junk about members has something to hit. */
function seededCore(): SwimCore {
  const core = makeCore('self');
  core.receive('a:7946', { message: null, updates: [alive('a'), alive('b'), alive('c')] }, 0);
  return core;
}

function view(core: SwimCore): string {
  return JSON.stringify(core.members().map((m) => [m.name, m.state, m.incarnation, m.lifeId, m.gossipAddr, m.meta]));
}

/** The agent's datagram path: counts a rejection by reason, hands a decoded packet to the core. */
function feed(core: SwimCore, from: string, bytes: Uint8Array, now: number, rejects: Map<DecodeRejectReason, number>): boolean {
  const decoded = decodePacket(bytes);
  if (!decoded.ok) {
    rejects.set(decoded.reason, (rejects.get(decoded.reason) ?? 0) + 1);
    return false;
  }
  core.receive(from, decoded.packet, now);
  return true;
}

describe('hostile UDP input against a core', () => {
  test('random bytes: every packet rejected is counted under a known reason, and the view does not change', () => {
    const core = seededCore();
    const before = view(core);
    const rejects = new Map<DecodeRejectReason, number>();
    let fed = 0;
    let rejected = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1600 }), (junk) => {
        if (feed(core, '10.9.9.9:7946', junk, 1, rejects)) fed++;
        else rejected++;
      }),
      { numRuns: 1500 },
    );
    assert.equal(fed, 0, 'random bytes essentially never carry the magic and version');
    assert.equal([...rejects.values()].reduce((a, b) => a + b, 0), rejected, 'every rejection counted once');
    for (const reason of rejects.keys()) assert.ok(DECODE_REJECT_REASONS.includes(reason));
    assert.equal(view(core), before);
  });

  test('truncated valid packets are all rejected and leave the view unchanged', () => {
    const core = seededCore();
    const before = view(core);
    const rejects = new Map<DecodeRejectReason, number>();
    fc.assert(
      fc.property(packetArb, fc.nat(), (packet, cut) => {
        const bytes = encodePacket(packet);
        if (bytes.length < 2) return;
        const at = cut % bytes.length;
        assert.equal(feed(core, '10.9.9.9:7946', bytes.subarray(0, at), 1, rejects), false, `cut at ${at} of ${bytes.length}`);
      }),
      { numRuns: 1000 },
    );
    assert.equal(view(core), before);
  });

  test('bit-flipped and overwritten packets from strangers and known members: the core never throws', () => {
    const core = seededCore();
    let now = 1;
    fc.assert(
      fc.property(packetArb, fc.nat(), fc.nat(7), fc.constantFrom('10.9.9.9:7946', 'a:7946', 'b:7946', 'self:7946', ''), (packet, pos, bit, from) => {
        const bytes = encodePacket(packet);
        const at = pos % bytes.length;
        bytes[at] = (bytes[at] ?? 0) ^ (1 << bit);
        try {
          feed(core, from, bytes, now++, new Map());
          core.tick(now);
        } catch (err) {
          assert.fail(`the core threw on a decodable packet: ${String(err)}`);
        }
      }),
      { numRuns: 800 },
    );
    // Whatever happened to the peers, the core still knows itself as alive.
    assert.equal(core.member('self')?.state, 'alive');
  });

  test('valid packets about unknown members and from unknown senders never throw', () => {
    const core = seededCore();
    let now = 1;
    fc.assert(
      fc.property(packetArb, (packet) => {
        assert.doesNotThrow(() => core.receive('203.0.113.7:1', packet, now++));
      }),
      { numRuns: 800 },
    );
    assert.equal(core.member('self')?.state, 'alive');
  });
});
