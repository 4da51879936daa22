// Receive bounds per RPC (src/grpc/receive-bound.ts, requestBound in src/grpc/limits.ts), over real gRPC:
// a Ping is held to a few KiB while a Negotiate may carry a full state sized from the cluster.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { limitsForClusterSize, SMALL_REQUEST_BYTES } from '../../src/grpc/limits.js';
import { boundedBody, limitReceive } from '../../src/grpc/receive-bound.js';
import { applyMethod } from '../../src/apply/grpc-apply.js';
import { ControlPlaneClient } from '../../src/grpc/client.js';
import type { RequestHeader } from '../../src/grpc/generated/swimring/v1/RequestHeader.js';
import { MAX_ANNOUNCEMENT_BYTES, ownershipMethods } from '../../src/ownership/grpc.js';
import { encodeRequest, rawCall, rejectionOf, startTestServer } from './helpers.js';

/** An unknown length-delimited field (number 15): decoders skip it, so the request stays valid. */
function padded(body: Buffer, bytes: number): Buffer {
  const tag = Buffer.from([(15 << 3) | 2]);
  const length: number[] = [];
  for (let n = bytes; ; n = Math.floor(n / 128)) {
    length.push(n >= 128 ? (n % 128) | 128 : n);
    if (n < 128) break;
  }
  return Buffer.concat([body, tag, Buffer.from(length), Buffer.alloc(bytes, 0x61)]);
}

test('each RPC has its own receive bound: an oversized Ping is refused from its length prefix while a larger Negotiate passes', async () => {
  const limits = limitsForClusterSize(64);
  const t = await startTestServer({ limits });
  try {
    const header = { protocolVersion: 1, label: '', sender: 'member-9' };
    const bigPing = padded(encodeRequest('Ping', { header }), 100 * 1024);
    const ping = await rawCall(t.addr, 'Ping', bigPing);
    assert.equal(ping.err?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(ping.err?.details ?? '', new RegExp(`larger than max \\(\\d+ vs ${SMALL_REQUEST_BYTES}\\)`), 'refused by grpc-js from the prefix, unread');
    const pingRejections = t.recorded.rejections.filter((r) => r.rpc === 'Ping');
    assert.equal(pingRejections.length, 1, 'counted');
    assert.match(pingRejections[0]?.detail ?? '', /over this RPC's bound of 16384 bytes/);

    const closing = await rawCall(t.addr, 'Closing', padded(encodeRequest('Closing', { header, name: 'member-9', incarnation: '1' }), 64 * 1024));
    assert.equal(closing.err?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(t.recorded.closings.length, 0);

    assert.equal((await rawCall(t.addr, 'Ping', padded(encodeRequest('Ping', { header }), 1024))).err, null, 'a Ping within its bound');
    const negotiate = padded(encodeRequest('Negotiate', { header, members: [] }), 100 * 1024);
    assert.ok(negotiate.length > 100 * 1024 && negotiate.length < limits.maxMessageBytes);
    assert.equal((await rawCall(t.addr, 'Negotiate', negotiate)).err, null, 'a Negotiate of the same size is within its bound');
    assert.equal(t.recorded.negotiations.length, 1);

    const huge = await rawCall(t.addr, 'Negotiate', padded(encodeRequest('Negotiate', { header, members: [] }), limits.maxMessageBytes));
    assert.equal(huge.err?.code, grpc.status.RESOURCE_EXHAUSTED, 'beyond what a cluster of 64 needs');
    assert.match(huge.err?.details ?? '', new RegExp(`vs ${limits.maxMessageBytes}\\)`));
  } finally {
    await t.server.close();
  }
});

test('where grpc-js offers no bound to set, the request is still refused by its size before it is decoded', () => {
  assert.equal(limitReceive({}, 1024), false, 'a call object of another shape is left alone');
  let decoded = 0;
  const deserialize = boundedBody('Ping', 1024, () => {
    decoded++;
    return { ok: true, value: {} };
  });
  const refused = deserialize(Buffer.alloc(1025)) as { ok: boolean; rejection?: { code: number; reason: string; message: string } };
  assert.equal(refused.ok, false);
  assert.equal(refused.rejection?.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.equal(refused.rejection?.reason, 'too-large');
  assert.match(refused.rejection?.message ?? '', /Ping request of 1025 bytes; this RPC takes at most 1024/);
  assert.equal(decoded, 0);
  deserialize(Buffer.alloc(1024));
  assert.equal(decoded, 1);
});

test('an RPC whose need does not scale with the cluster brings its own bound: a 200 KiB Apply passes a member sized for 16 members', async () => {
  const limits = limitsForClusterSize(16);
  const apply = applyMethod({ maxBodyBytes: 256 * 1024, maxKeyBytes: 1024 });
  assert.ok((apply.maxRequestBytes ?? 0) > 256 * 1024 && limits.maxMessageBytes < 200 * 1024);
  const served: number[] = [];
  const handler: grpc.handleUnaryCall<{ ok: boolean; value?: { messages: { value: Buffer }[] } }, object> = (call, callback) => {
    served.push(call.request.value?.messages[0]?.value.length ?? -1);
    callback(null, { accepted: true });
  };
  const t = await startTestServer({ limits, extraMethods: { Apply: { requestDeserialize: apply.requestDeserialize, handler: handler as grpc.UntypedHandleCall, maxRequestBytes: apply.maxRequestBytes } } });
  const client = new ControlPlaneClient({ limits });
  const request = (bytes: number) => (header: RequestHeader) => ({
    header,
    id: 'key-1',
    requestId: 'r1',
    messages: [{ type_url: 'type.googleapis.com/swimring.v1.AppMessage', value: Buffer.alloc(bytes, 1) }],
    tableVersion: '',
  });
  try {
    const reply = await client.unary(apply, t.addr, request(200 * 1024), 5000);
    assert.equal(reply.accepted, true);
    assert.deepEqual(served, [200 * 1024]);
    const over = await rejectionOf(client.unary(apply, t.addr, request(300 * 1024), 5000));
    assert.equal(over.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(over.message, /this RPC sends at most/, 'the client holds it to the same bound, unsent');
    assert.deepEqual(served, [200 * 1024]);
  } finally {
    client.close();
    await t.server.close();
  }
});

test('claims announcements are sized by the claim bounds, above what a small cluster needs for member lists', () => {
  assert.ok(MAX_ANNOUNCEMENT_BYTES > limitsForClusterSize(16).maxMessageBytes);
  assert.equal(ownershipMethods().AnnounceOwnership.maxRequestBytes, MAX_ANNOUNCEMENT_BYTES);
  assert.equal(ownershipMethods().AnnounceExpiry.maxRequestBytes, MAX_ANNOUNCEMENT_BYTES);
});
