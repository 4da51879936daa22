import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KEY_PROOF_MAX_SKEW_MS, KeyProver } from '../../src/security/key-proof.js';
import { Keyring } from '../../src/security/keyring.js';

const k1 = Buffer.alloc(32, 1);
const k2 = Buffer.alloc(32, 2);

test('a proof sealed with a key the verifier holds, under its label and within the clock window, passes', () => {
  let now = 1_000_000_000;
  const clock = (): number => now;
  const prover = new KeyProver(new Keyring([k1]), 'prod', clock);
  const proof = prover.current();
  assert.equal(new KeyProver(new Keyring([k2, k1]), 'prod', clock).verify(proof), null);
  assert.match(new KeyProver(new Keyring([k2]), 'prod', clock).verify(proof) ?? '', /not opened/);
  assert.match(new KeyProver(new Keyring([k1]), 'test', clock).verify(proof) ?? '', /not opened/);
  assert.match(prover.verify(undefined) ?? '', /no key proof/);
  assert.match(prover.verify(Buffer.alloc(100)) ?? '', /at most/);
  now += KEY_PROOF_MAX_SKEW_MS + 1;
  assert.match(prover.verify(proof) ?? '', /off this member's clock/, 'an old proof is refused');
  assert.equal(prover.verify(prover.current()), null, 'and a fresh one is made');
});

test('a new primary key gives a new proof at once', () => {
  const ring = new Keyring([k1, k2]);
  const prover = new KeyProver(ring, '');
  const before = prover.current();
  assert.equal(prover.current(), before, 'cached');
  ring.use(k2);
  const after = prover.current();
  assert.notEqual(after, before);
  assert.equal(new KeyProver(new Keyring([k2]), '').verify(after), null);
});
