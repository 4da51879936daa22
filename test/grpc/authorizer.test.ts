// One authorizer for every RPC (src/grpc/authorizer.ts): an RPC a feature registers (src/grpc/registry.ts)
// is checked like Negotiate without a check of its own, label from the metadata and from the header, the
// protocol version through one swappable function; Ping stays open; the docs name the codes the code sends.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { credentialMetadata } from '../../src/grpc/auth-gate.js';
import { CallAuthorizer, checkedByAuthorizer, type HeaderCheck } from '../../src/grpc/authorizer.js';
import { contextFromHeader } from '../../src/grpc/convert.js';
import { reject } from '../../src/grpc/errors.js';
import type { GetLocalActorIdsReply } from '../../src/grpc/generated/swimring/v1/GetLocalActorIdsReply.js';
import type { GetLocalActorIdsRequest__Output } from '../../src/grpc/generated/swimring/v1/GetLocalActorIdsRequest.js';
import { guardedUnary } from '../../src/grpc/guarded-unary.js';
import { controlPlaneDefinition } from '../../src/grpc/proto.js';
import { RpcRegistry } from '../../src/grpc/registry.js';
import { bounded } from '../../src/grpc/service.js';
import { encodeRequest, rawCall, startTestServer } from './helpers.js';

/** A feature serving GetLocalActorIds with no caller check of its own; records who got through. */
function uncheckedFeature(served: string[]): RpcRegistry {
  const method = bounded('GetLocalActorIds', controlPlaneDefinition().GetLocalActorIds, ['GetLocalActorIdsRequest', 'GetLocalActorIdsReply']);
  const handler = guardedUnary<GetLocalActorIdsRequest__Output, GetLocalActorIdsReply>(
    'GetLocalActorIds',
    { checkContext: checkedByAuthorizer, onReject: () => undefined },
    (_request, ctx) => {
      served.push(ctx.sender);
      return { ids: [] };
    },
  );
  return new RpcRegistry().register('test-feature', { GetLocalActorIds: { requestDeserialize: method.requestDeserialize, handler: handler as grpc.UntypedHandleCall } });
}

async function blueServer(served: string[], checkHeader?: HeaderCheck) {
  const counted: string[] = [];
  const authorizer = new CallAuthorizer({
    label: 'blue',
    keyProver: null,
    requireKeyProof: false,
    count: (what, reason) => counted.push(`${what}:${reason}`),
    ...(checkHeader ? { checkHeader } : {}),
  });
  const t = await startTestServer({ gate: { check: (rpc, credentials) => authorizer.check(rpc, credentials) }, extraMethods: uncheckedFeature(served).methods() });
  return { ...t, counted };
}

const actorIds = (label: string, sender: string, protocolVersion = 1): Buffer => encodeRequest('GetLocalActorIds', { header: { protocolVersion, label, sender } });

test('an RPC registered without checks of its own is authorized like every other: label from metadata and header, version; Ping stays open', async () => {
  const served: string[] = [];
  const t = await blueServer(served);
  try {
    const fromMetadata = await rawCall(t.addr, 'GetLocalActorIds', actorIds('blue', 'a'), {}, credentialMetadata('red', null));
    assert.equal(fromMetadata.err?.code, grpc.status.PERMISSION_DENIED);
    assert.match(fromMetadata.err?.details ?? '', /cluster label "red" does not match this member's label "blue"/);
    const fromHeader = await rawCall(t.addr, 'GetLocalActorIds', actorIds('red', 'b'));
    assert.equal(fromHeader.err?.code, grpc.status.PERMISSION_DENIED, 'a caller without metadata is checked on its header');
    const headerDisagrees = await rawCall(t.addr, 'GetLocalActorIds', actorIds('red', 'c'), {}, credentialMetadata('blue', null));
    assert.equal(headerDisagrees.err?.code, grpc.status.PERMISSION_DENIED, 'the header is checked even after good metadata');
    const version = await rawCall(t.addr, 'GetLocalActorIds', actorIds('blue', 'd', 7), {}, credentialMetadata('blue', null));
    assert.equal(version.err?.code, grpc.status.FAILED_PRECONDITION);
    assert.match(version.err?.details ?? '', /speaks protocol versions 7-7, this member 1-1; no version in common/);
    assert.deepEqual(served, [], 'no refused call reached the feature');
    assert.deepEqual(t.counted, ['label:mismatch', 'label:mismatch', 'label:mismatch']);

    assert.equal((await rawCall(t.addr, 'GetLocalActorIds', actorIds('blue', 'e'), {}, credentialMetadata('blue', null))).err, null);
    assert.deepEqual(served, ['e']);

    const ping = encodeRequest('Ping', { header: { protocolVersion: 1, label: 'red', sender: '' } });
    assert.equal((await rawCall(t.addr, 'Ping', ping, {}, credentialMetadata('red', null))).err, null, 'Ping answers any label (metadata)');
    assert.equal((await rawCall(t.addr, 'Ping', ping)).err, null, 'and any label in the header');
  } finally {
    await t.server.close();
  }
});

test('the header check is one function the authorizer calls: swapping it changes what every RPC accepts', async () => {
  const served: string[] = [];
  const onlyVersionTwo: HeaderCheck = (header, peer) =>
    header?.protocolVersion === 2 ? contextFromHeader({ ...header, protocolVersion: 1 }, peer) : reject(grpc.status.FAILED_PRECONDITION, 'unsupported-version', 'version 2 only');
  const t = await blueServer(served, onlyVersionTwo);
  try {
    const v1 = await rawCall(t.addr, 'GetLocalActorIds', actorIds('blue', 'a', 1), {}, credentialMetadata('blue', null));
    assert.equal(v1.err?.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(v1.err?.details, 'version 2 only');
    assert.deepEqual(served, []);
  } finally {
    await t.server.close();
  }
});

test('the registry refuses an RPC served twice, one the service lacks, and the built-in ones', () => {
  const handler = (() => undefined) as unknown as grpc.UntypedHandleCall;
  const m = { requestDeserialize: () => ({}), handler };
  const registry = new RpcRegistry().register('claims', { GetLocalActorIds: m });
  assert.throws(() => registry.register('apply', { GetLocalActorIds: m }), /GetLocalActorIds registered by both claims and apply/);
  assert.throws(() => registry.register('x', { Teleport: m }), /not a method of swimring.v1.ControlPlane/);
  assert.throws(() => registry.register('x', { Negotiate: m }), /serves itself/);
  assert.deepEqual([...registry.features()], [['GetLocalActorIds', 'claims']]);
});

test('the docs name the codes the authorizer answers: a label mismatch is PERMISSION_DENIED, Ping answers any label', () => {
  const grpcDoc = readFileSync(new URL('../../docs/grpc.md', import.meta.url), 'utf8');
  const row = (code: string): string => grpcDoc.split('\n').find((line) => line.startsWith(`| \`${code}\``)) ?? '';
  assert.match(row('PERMISSION_DENIED'), /label/);
  assert.doesNotMatch(row('FAILED_PRECONDITION'), /label/);
  assert.match(row('FAILED_PRECONDITION'), /protocol version/);
  const security = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');
  assert.match(security, /another label is refused `PERMISSION_DENIED`/);
  assert.match(security, /except `Ping`, a\s+reachability check answered whatever the label/);
});
