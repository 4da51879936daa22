// The gate before the body (src/grpc/auth-gate.ts) and the authorizer before the rate limit: a caller
// refused on its label never reaches a handler and never takes a Negotiate token.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { credentialMetadata } from '../../src/grpc/auth-gate.js';
import { CallAuthorizer } from '../../src/grpc/authorizer.js';
import { ControlPlaneClient } from '../../src/grpc/client.js';
import { reject } from '../../src/grpc/errors.js';
import { NegotiateRateLimiter } from '../../src/grpc/rate-limit.js';
import { encodeRequest, rawCall, startTestServer } from './helpers.js';

test('a label in metadata that does not match is refused before the body; no metadata goes to the body check', async () => {
  const seen: (string | null)[] = [];
  const t = await startTestServer({
    gate: {
      check: (_rpc, credentials) => {
        seen.push(credentials.label);
        return credentials.label === null || credentials.label === 'blue' ? null : reject(grpc.status.PERMISSION_DENIED, 'refused', 'wrong label');
      },
    },
  });
  try {
    const body = encodeRequest('Negotiate', { members: [] });
    const wrong = await rawCall(t.addr, 'Negotiate', body, {}, credentialMetadata('red', null));
    assert.equal(wrong.err?.code, grpc.status.PERMISSION_DENIED);
    assert.equal(t.recorded.negotiations.length, 0, 'the handler never ran');
    assert.deepEqual(t.recorded.rejections.at(-1), { rpc: 'Negotiate', reason: 'refused', detail: 'wrong label' });
    assert.equal((await rawCall(t.addr, 'Negotiate', body)).err, null, 'no metadata: let through to the header checks');
    const client = new ControlPlaneClient({ label: 'blue' });
    await client.negotiate(t.addr, [], false, 5000);
    client.close();
    assert.deepEqual(seen, ['red', null, 'blue'], 'the client sends its label as metadata');
  } finally {
    await t.server.close();
  }
});

test('a caller refused on its header label takes no Negotiate rate-limit token', async () => {
  const authorizer = new CallAuthorizer({ label: 'blue', keyProver: null, requireKeyProof: false, count: () => undefined });
  const t = await startTestServer({
    negotiateRate: new NegotiateRateLimiter({ perPeerPerSecond: 1, perPeerBurst: 1, globalPerSecond: 1, globalBurst: 1 }),
    gate: { check: (rpc, credentials) => authorizer.check(rpc, credentials) },
  });
  try {
    for (let i = 0; i < 20; i++) {
      const body = encodeRequest('Negotiate', { header: { label: 'red', sender: `flood-${i}`, protocolVersion: 1 }, members: [] });
      assert.equal((await rawCall(t.addr, 'Negotiate', body)).err?.code, grpc.status.PERMISSION_DENIED);
    }
    const legit = encodeRequest('Negotiate', { header: { label: 'blue', sender: 'joiner', protocolVersion: 1 }, members: [] });
    assert.equal((await rawCall(t.addr, 'Negotiate', legit)).err, null, 'the one global token is still there');
  } finally {
    await t.server.close();
  }
});
