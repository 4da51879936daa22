import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DECODE_REJECT_REASONS, type DecodeRejectReason, type DecodeResult, packetSize, wireMeasure } from '../../src/codec/index.js';
import { SwimCore } from '../../src/core/swim.js';
import { PROFILES } from '../../src/core/config.js';
import { seededRandom } from '../../src/core/random.js';
import type { Packet } from '../../src/core/types.js';
import { GossipEnvelope, type GossipSecurityOptions } from '../../src/security/envelope.js';
import { Keyring, SEAL_OVERHEAD } from '../../src/security/keyring.js';
import { packetArb } from '../codec/arbitraries.js';

const k1 = Buffer.alloc(32, 1);
const k2 = Buffer.alloc(32, 2);
const ping: Packet = {
  message: { type: 'ping', seq: 7, from: 'a', fromAddr: '10.0.0.1:7946', target: 'b' },
  updates: [{ kind: 'left', name: 'a', incarnation: 3 }],
};

function envelope(over: Partial<GossipSecurityOptions> = {}): GossipEnvelope {
  return new GossipEnvelope({ label: '', keyring: null, verifyIncoming: true, verifyOutgoing: true, ...over });
}

function openSafely(env: GossipEnvelope, bytes: Uint8Array): DecodeResult {
  let result: DecodeResult;
  try {
    result = env.open(bytes);
  } catch (e) {
    assert.fail(`open threw: ${String(e)}`);
  }
  if (!result.ok) assert.ok(DECODE_REJECT_REASONS.includes(result.reason), result.reason);
  return result;
}

function assertRejected(env: GossipEnvelope, bytes: Uint8Array, reason: DecodeRejectReason): void {
  const r = openSafely(env, bytes);
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.reason, reason, r.detail);
}

describe('GossipEnvelope', () => {
  test('no label, no keyring: byte for byte the bare packet', () => {
    const bytes = envelope().seal(ping);
    assert.equal(bytes[3], 0);
    assert.equal(bytes.length, packetSize(ping));
    assert.deepEqual(openSafely(envelope(), bytes), { ok: true, packet: ping });
  });

  test('label in plaintext: accepted by the same label, label-mismatch otherwise', () => {
    const prod = envelope({ label: 'prod' });
    const bytes = prod.seal(ping);
    assert.equal(bytes[3], 0x01);
    assert.equal(bytes.length, packetSize(ping) + 1 + 4);
    assert.deepEqual(openSafely(prod, bytes), { ok: true, packet: ping });
    assertRejected(envelope({ label: 'test' }), bytes, 'label-mismatch');
    assertRejected(envelope(), bytes, 'label-mismatch');
    assertRejected(prod, envelope().seal(ping), 'label-mismatch');
  });

  test('encrypted: opened by a keyring holding the key, in any position', () => {
    const sender = envelope({ label: 'prod', keyring: new Keyring([k1]) });
    const bytes = sender.seal(ping);
    assert.equal(bytes[3], 0x03);
    assert.equal(bytes.length, packetSize(ping) + 5 + SEAL_OVERHEAD);
    assert.ok(!Buffer.from(bytes).includes(Buffer.from('10.0.0.1')), 'body is not in clear');
    assert.deepEqual(openSafely(envelope({ label: 'prod', keyring: new Keyring([k2, k1]) }), bytes), { ok: true, packet: ping });
  });

  test('every envelope reject reason', () => {
    const ring1 = new Keyring([k1]);
    const encrypted = envelope({ keyring: ring1 }).seal(ping);
    const plain = envelope().seal(ping);
    assertRejected(envelope({ keyring: new Keyring([k2]) }), encrypted, 'decrypt-failed');
    assertRejected(envelope(), encrypted, 'encrypted-unexpected');
    assertRejected(envelope({ keyring: ring1 }), plain, 'plaintext-refused');
    const badFlags = Buffer.from(plain);
    badFlags[3] = 0x04;
    assertRejected(envelope(), badFlags, 'unsupported-flags');
    assertRejected(envelope({ keyring: ring1 }), encrypted.subarray(0, 4 + SEAL_OVERHEAD - 1), 'truncated');
    assertRejected(envelope({ label: 'prod' }), Buffer.from([0x53, 0x52, 1, 1, 9, 0x70, 0x72, 0x6f]), 'truncated');
    assertRejected(envelope({ label: 'prod' }), Buffer.from([0x53, 0x52, 1, 1, 0, 0, 0, 0]), 'invalid-field');
  });

  test('the label is associated data: moving ciphertext under another label fails to decrypt', () => {
    const ring = new Keyring([k1]);
    const bytes = Buffer.from(envelope({ label: 'aaaa', keyring: ring }).seal(ping));
    bytes.write('bbbb', 5, 'utf8');
    assertRejected(envelope({ label: 'bbbb', keyring: ring }), bytes, 'decrypt-failed');
  });

  test('the header is associated data: clearing the label flag is not accepted', () => {
    const ring = new Keyring([k1]);
    const bytes = Buffer.from(envelope({ keyring: ring }).seal(ping));
    bytes[2] = 1;
    const flipped = Buffer.from(bytes);
    flipped[3] = 0x02 | 0x01;
    const r = openSafely(envelope({ keyring: ring }), flipped);
    assert.equal(r.ok, false);
  });

  test('three-step enablement: accept both, then send encrypted, then refuse plaintext', () => {
    const ring = (): Keyring => new Keyring([k1]);
    const step1 = envelope({ keyring: ring(), verifyIncoming: false, verifyOutgoing: false });
    const step2 = envelope({ keyring: ring(), verifyIncoming: false, verifyOutgoing: true });
    const step3 = envelope({ keyring: ring(), verifyIncoming: true, verifyOutgoing: true });
    const none = envelope();
    assert.equal(step1.seal(ping)[3], 0, 'step 1 still sends plaintext');
    // Members one step apart always understand each other.
    for (const [from, to] of [
      [none, step1],
      [step1, none],
      [step1, step2],
      [step2, step1],
      [step2, step3],
      [step3, step2],
    ] as const) {
      assert.equal(openSafely(to, from.seal(ping)).ok, true);
    }
    assertRejected(step3, step1.seal(ping), 'plaintext-refused');
  });

  test('fast-check: random bytes, bit flips and truncations of sealed packets never throw and are refused with a reason', () => {
    const ring = new Keyring([k1, k2]);
    const env = envelope({ label: 'prod', keyring: ring });
    fc.assert(
      fc.property(packetArb, fc.nat(), fc.integer({ min: 0, max: 7 }), (packet, at, bit) => {
        const sealed = Buffer.from(env.seal(packet));
        assert.deepEqual(openSafely(env, sealed), { ok: true, packet });
        const flipped = Buffer.from(sealed);
        const i = at % flipped.length;
        flipped[i] = (flipped[i] as number) ^ (1 << bit);
        assert.equal(openSafely(env, flipped).ok, false, `flip of bit ${bit} at byte ${i} accepted`);
        assert.equal(openSafely(env, sealed.subarray(0, at % sealed.length)).ok, false);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (junk) => {
        openSafely(env, junk);
        openSafely(envelope(), junk);
      }),
      { numRuns: 500 },
    );
    // Junk behind a valid-looking header reaches the decrypt step and is refused there.
    fc.assert(
      fc.property(fc.uint8Array({ minLength: SEAL_OVERHEAD, maxLength: 300 }), (junk) => {
        const bytes = Buffer.concat([Buffer.from([0x53, 0x52, 1, 3, 4]), Buffer.from('prod'), junk]);
        assertRejected(env, bytes, 'decrypt-failed');
      }),
      { numRuns: 200 },
    );
  });

  test('overhead: counted whenever a keyring exists, so no sealed packet outgrows the core budget', () => {
    const label = 'x'.repeat(255);
    const env = envelope({ label, keyring: new Keyring([k1]), verifyOutgoing: false });
    assert.equal(env.overhead, 1 + 255 + SEAL_OVERHEAD);
    env.verifyOutgoing = true;
    const budget = 600;
    const core = new SwimCore({
      name: 'n'.repeat(60),
      lifeId: 'L',
      incarnation: 1,
      gossipAddr: '127.0.0.1:1',
      grpcAddr: '127.0.0.1:2',
      meta: { appAddr: '', serving: true, tags: {} },
      config: { ...PROFILES.local, packetBudget: budget },
      random: seededRandom(1),
      now: 0,
      measure: { ...wireMeasure, packetOverhead: wireMeasure.packetOverhead + env.overhead },
    });
    // Many members to gossip about, so every packet is filled to its budget.
    const records = Array.from({ length: 200 }, (_, i) => ({
      name: `member-${i}-${'y'.repeat(40)}`,
      lifeId: 'L',
      incarnation: 1,
      gossipAddr: `127.0.1.${i % 250}:7946`,
      grpcAddr: `127.0.1.${i % 250}:7947`,
      meta: { appAddr: '', serving: true, tags: {} },
      state: 'alive' as const,
    }));
    let sent = 0;
    let largest = 0;
    let now = 0;
    const effects = [...core.onNegotiate(records, true, now).effects];
    for (let i = 0; i < 50; i++) {
      now += 100;
      effects.push(...core.tick(now));
    }
    for (const e of effects) {
      if (e.type !== 'send') continue;
      const bytes = env.seal(e.packet);
      assert.ok(bytes.length <= budget, `${bytes.length} > ${budget}`);
      largest = Math.max(largest, bytes.length);
      sent++;
    }
    assert.ok(sent > 0);
    // The budget was actually reached: without the overhead in the measure, these would not fit.
    assert.ok(largest > budget - 120, `largest sealed packet ${largest}`);
  });
});
