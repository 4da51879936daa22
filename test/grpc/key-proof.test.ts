// Key proofs over real gRPC (src/grpc/authorizer.ts, src/grpc/auth-gate.ts): a proof is bound to the
// RPC, the request body (and so its sender) and one use; the v1 proof is refused unless in transition.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { credentialMetadata, KEY_PROOF_METADATA } from '../../src/grpc/auth-gate.js';
import { CallAuthorizer } from '../../src/grpc/authorizer.js';
import { ControlPlaneClient } from '../../src/grpc/client.js';
import { KeyProver } from '../../src/security/key-proof.js';
import { Keyring } from '../../src/security/keyring.js';
import { encodeRequest, rawCall, startTestServer } from './helpers.js';

const KEY = Buffer.alloc(32, 7);
const NEGOTIATE = '/swimring.v1.ControlPlane/Negotiate';
const CLOSING = '/swimring.v1.ControlPlane/Closing';

async function keyedServer(legacy = false) {
  const counted: string[] = [];
  const authorizer = new CallAuthorizer({
    label: 'blue',
    keyProver: new KeyProver(new Keyring([KEY]), 'blue', { legacy }),
    requireKeyProof: true,
    count: (what, reason) => counted.push(`${what}:${reason}`),
  });
  const t = await startTestServer({ gate: { check: (rpc, credentials) => authorizer.check(rpc, credentials), digestBodies: true } });
  return { ...t, counted };
}

function negotiateBody(sender: string): Buffer {
  return encodeRequest('Negotiate', { header: { protocolVersion: 1, label: 'blue', sender }, members: [] });
}

test('a captured key proof cannot be replayed, moved to another body or sender, or to another RPC', async () => {
  const t = await keyedServer();
  const prover = new KeyProver(new Keyring([KEY]), 'blue');
  const client = new ControlPlaneClient({ label: 'blue', sender: 'pod-1', keyProof: () => prover });
  try {
    await client.negotiate(t.addr, [], false, 5000);
    await client.negotiate(t.addr, [], false, 5000);
    assert.equal(t.recorded.negotiations.length, 2, 'a key holder calls as often as it likes: a fresh proof each time');

    const body = negotiateBody('pod-1');
    const captured = credentialMetadata('blue', { v2: prover.prove(NEGOTIATE, body), v1: null });
    assert.equal((await rawCall(t.addr, 'Negotiate', body, {}, captured)).err, null, 'the original request');
    const replay = await rawCall(t.addr, 'Negotiate', body, {}, captured);
    assert.equal(replay.err?.code, grpc.status.PERMISSION_DENIED);
    assert.match(replay.err?.details ?? '', /already used here \(a replay\)/);

    const fresh = credentialMetadata('blue', { v2: prover.prove(NEGOTIATE, body), v1: null });
    const otherSender = await rawCall(t.addr, 'Negotiate', negotiateBody('pod-2'), {}, fresh);
    assert.equal(otherSender.err?.code, grpc.status.PERMISSION_DENIED);
    assert.match(otherSender.err?.details ?? '', /another request body \(or sender\)/);

    const closingBody = encodeRequest('Closing', { header: { protocolVersion: 1, label: 'blue', sender: 'pod-1' }, name: 'pod-1', incarnation: '5' });
    const forClosing = credentialMetadata('blue', { v2: prover.prove(CLOSING, closingBody), v1: null });
    const otherRpc = await rawCall(t.addr, 'Negotiate', body, {}, forClosing);
    assert.equal(otherRpc.err?.code, grpc.status.PERMISSION_DENIED);
    assert.match(otherRpc.err?.details ?? '', /made for another RPC/);

    assert.equal(t.recorded.negotiations.length, 3, 'no refused call reached the handler');
    assert.deepEqual(t.counted, ['key-proof:refused', 'key-proof:refused', 'key-proof:refused']);
    assert.equal((await rawCall(t.addr, 'Closing', closingBody, {}, forClosing)).err, null, 'the Closing proof still works for its Closing');
    assert.equal(t.recorded.closings[0]?.context.keyProven, true, 'the handler learns the caller proved the key');
  } finally {
    client.close();
    await t.server.close();
  }
});

test('a v1 proof (the earlier bearer token) is refused unless the member is told to accept it during an upgrade', async () => {
  const old = new KeyProver(new Keyring([KEY]), 'blue', { legacy: true });
  const v1 = old.legacyProof() ?? Buffer.alloc(0);
  const body = encodeRequest('Negotiate', { header: { protocolVersion: 1, label: 'blue', sender: 'old', keyProof: v1 }, members: [] });
  const metadata = credentialMetadata('blue', null);
  metadata.set(KEY_PROOF_METADATA, v1);
  const strict = await keyedServer(false);
  const transition = await keyedServer(true);
  try {
    const refused = await rawCall(strict.addr, 'Negotiate', body, {}, metadata);
    assert.equal(refused.err?.code, grpc.status.PERMISSION_DENIED);
    assert.match(refused.err?.details ?? '', /no longer accepts/);
    assert.equal((await rawCall(strict.addr, 'Negotiate', body)).err?.code, grpc.status.PERMISSION_DENIED, 'nor in the header of a call without metadata');
    assert.equal((await rawCall(transition.addr, 'Negotiate', body, {}, metadata)).err, null, 'accepted in transition (metadata)');
    assert.equal((await rawCall(transition.addr, 'Negotiate', body)).err, null, 'and from the header of a caller of an earlier version');
    assert.equal(strict.recorded.negotiations.length, 0);
    // A member in transition sends both proofs: old members read v1, strict ones v2.
    const client = new ControlPlaneClient({ label: 'blue', sender: 'mid', keyProof: () => old });
    try {
      await client.negotiate(strict.addr, [], false, 5000);
      await client.negotiate(transition.addr, [], false, 5000);
    } finally {
      client.close();
    }
  } finally {
    await Promise.all([strict.server.close(), transition.server.close()]);
  }
});
