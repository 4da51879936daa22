// Key proofs (src/security/key-proof.ts): a v2 proof is made for one request of one RPC and used once;
// the v1 proof (a sealed timestamp good for every call) only while a member is told to accept it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KEY_PROOF_BYTES, KEY_PROOF_MAX_SKEW_MS, KeyProver, keyProofAad, requestDigest } from '../../src/security/key-proof.js';
import { Keyring, NONCE_BYTES } from '../../src/security/keyring.js';

const k1 = Buffer.alloc(32, 1);
const k2 = Buffer.alloc(32, 2);
const NEGOTIATE = '/swimring.v1.ControlPlane/Negotiate';
const CLOSING = '/swimring.v1.ControlPlane/Closing';
const body = Buffer.from('a request body');

function verifyOnce(verifier: KeyProver, proof: Uint8Array, method: string, bytes: Uint8Array): string | null {
  const opened = verifier.open(proof, method);
  return typeof opened === 'string' ? opened : verifier.confirm(opened, requestDigest(bytes));
}

test('a v2 proof passes once for its RPC and body, under a key the verifier holds and its label', () => {
  let now = 1_700_000_000_000;
  const clock = (): number => now;
  const prover = new KeyProver(new Keyring([k1]), 'prod', { now: clock });
  const proof = prover.prove(NEGOTIATE, body);
  assert.equal(proof.length, KEY_PROOF_BYTES);
  const verifier = new KeyProver(new Keyring([k2, k1]), 'prod', { now: clock });
  assert.match(verifyOnce(verifier, proof, CLOSING, body) ?? '', /not opened .* another RPC/, 'made for Negotiate, not Closing');
  assert.match(verifyOnce(verifier, proof, NEGOTIATE, Buffer.from('another body')) ?? '', /another request body/);
  assert.match(verifyOnce(new KeyProver(new Keyring([k2]), 'prod', { now: clock }), proof, NEGOTIATE, body) ?? '', /not opened/);
  assert.match(verifyOnce(new KeyProver(new Keyring([k1]), 'test', { now: clock }), proof, NEGOTIATE, body) ?? '', /not opened/);
  assert.equal(verifyOnce(verifier, proof, NEGOTIATE, body), null);
  assert.match(verifyOnce(verifier, proof, NEGOTIATE, body) ?? '', /already used here \(a replay\)/, 'the same proof twice');
  assert.match(verifyOnce(verifier, Buffer.alloc(100), NEGOTIATE, body) ?? '', /bytes; a v2 proof has/);
  const late = prover.prove(NEGOTIATE, body);
  now += KEY_PROOF_MAX_SKEW_MS + 1;
  assert.match(verifyOnce(verifier, late, NEGOTIATE, body) ?? '', /off this member's clock/, 'an old proof is refused, even unused');
  assert.equal(verifyOnce(verifier, prover.prove(NEGOTIATE, body), NEGOTIATE, body), null, 'a fresh one passes');
});

test('the documented construction: nonce, AES-256-GCM of (u64 BE ms, SHA-256 of the body), AAD prefix + label length + label + path', () => {
  const now = 1_700_000_123_456;
  const proof = new KeyProver(new Keyring([k1]), 'prod', { now: () => now }).prove(NEGOTIATE, body);
  const plain = new Keyring([k1]).open(proof, Buffer.concat([Buffer.from('swimring key-proof v2\0'), Buffer.from([4]), Buffer.from('prod'), Buffer.from(NEGOTIATE)]));
  assert.ok(plain, 'opens under the documented associated data');
  assert.equal(plain.readBigUInt64BE(0), BigInt(now));
  assert.deepEqual(plain.subarray(8), requestDigest(body));
  assert.deepEqual(keyProofAad('prod', NEGOTIATE), Buffer.from(`swimring key-proof v2\0\x04prod${NEGOTIATE}`, 'latin1'));
  assert.equal(proof.length, NONCE_BYTES + 40 + 16);
});

test('v1 proofs are made and accepted only with legacy on', () => {
  const strict = new KeyProver(new Keyring([k1]), 'prod');
  const legacy = new KeyProver(new Keyring([k1]), 'prod', { legacy: true });
  assert.equal(strict.legacyProof(), null, 'a strict member sends no v1 proof');
  const v1 = legacy.legacyProof();
  assert.ok(v1);
  assert.equal(legacy.legacyProof(), v1, 'cached for a minute');
  assert.equal(legacy.verifyLegacy(v1), null);
  assert.match(strict.verifyLegacy(v1) ?? '', /no longer accepts/);
  assert.match(legacy.verifyLegacy(undefined) ?? '', /no key proof/);
  assert.match(new KeyProver(new Keyring([k2]), 'prod', { legacy: true }).verifyLegacy(v1) ?? '', /not opened/);
});

test('a new primary key gives a new v1 proof at once', () => {
  const ring = new Keyring([k1, k2]);
  const prover = new KeyProver(ring, '', { legacy: true });
  const before = prover.legacyProof();
  ring.use(k2);
  const after = prover.legacyProof();
  assert.notDeepEqual(after, before);
  assert.equal(new KeyProver(new Keyring([k2]), '', { legacy: true }).verifyLegacy(after ?? undefined), null);
});
