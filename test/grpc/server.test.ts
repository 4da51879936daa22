// The control-plane server over real gRPC on 127.0.0.1 (port 0): each RPC, the health service, and
// every way a request is refused (and that the server keeps serving afterwards).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { ControlPlaneClient, ControlPlaneCallError } from '../../src/grpc/client.js';
import { membersToProto } from '../../src/grpc/convert.js';
import { ControlPlaneError } from '../../src/grpc/server.js';
import { controlPlaneDefinition } from '../../src/grpc/proto.js';
import type { MemberRecord } from '../../src/core/types.js';
import { encodeRequest, member, rawCall, rejectionOf, startTestServer, type TestServer } from './helpers.js';

describe('control plane server', () => {
  let t: TestServer;
  let client: ControlPlaneClient;
  const local = [member(0), member(1, { state: 'suspect', meta: { appAddr: '', serving: false, tags: {} } })];

  before(async () => {
    t = await startTestServer({ local });
    client = new ControlPlaneClient({ label: 'prod', sender: 'member-9' });
  });
  after(async () => {
    client.close();
    await t.server.close();
  });

  test('Negotiate delivers the caller records intact and returns the callee state intact', async () => {
    const sent: MemberRecord[] = [
      member(9),
      member(10, {
        state: 'dead',
        incarnation: 2 ** 50,
        gossipAddr: '[fd00::1]:7946',
        meta: { appAddr: '', serving: false, tags: { 'κλειδί': 'τιμή', empty: '' } },
      }),
      member(11, { state: 'left' }),
    ];
    const before = t.recorded.negotiations.length;
    const reply = await client.negotiate(t.addr, sent, true, 5000);
    assert.deepEqual(reply, local);
    const got = t.recorded.negotiations[before];
    assert.ok(got, 'handler called');
    assert.deepEqual(got.remote, sent);
    assert.equal(got.join, true);
    assert.equal(got.context.label, 'prod');
    assert.equal(got.context.sender, 'member-9');
    assert.equal(got.context.protocolVersion, 1);
    assert.match(got.context.peer, /127\.0\.0\.1/);
  });

  test('Negotiate with join = false and an empty state passes both through', async () => {
    const before = t.recorded.negotiations.length;
    await client.negotiate(t.addr, [], false, 5000);
    assert.equal(t.recorded.negotiations[before]?.join, false);
    assert.deepEqual(t.recorded.negotiations[before]?.remote, []);
  });

  test('Closing delivers name and incarnation', async () => {
    await client.closing(t.addr, 'member-7', 1_700_000_000_123, 5000);
    assert.deepEqual(
      t.recorded.closings.map((c) => [c.name, c.incarnation]),
      [['member-7', 1_700_000_000_123]],
    );
  });

  test('Ping answers name, time, member count, health score and table version', async () => {
    const before = Date.now();
    const p = await client.ping(t.addr, 5000);
    assert.equal(p.name, 'member-0');
    assert.equal(p.members, 2);
    assert.equal(p.healthScore, 2);
    assert.equal(p.tableVersion, 'v-abc123');
    // Same host, so the callee's clock is ours: the answer was taken during the call.
    assert.ok(p.unixTimeMs >= before && p.unixTimeMs <= Date.now(), `unixTimeMs ${p.unixTimeMs}`);
  });

  for (const rpc of ['GetLocalActorIds', 'AnnounceOwnership', 'AnnounceExpiry', 'Apply']) {
    test(`${rpc} answers UNIMPLEMENTED`, async () => {
      const { err } = await rawCall(t.addr, rpc, Buffer.alloc(0));
      assert.equal(err?.code, grpc.status.UNIMPLEMENTED);
      assert.match(err?.details ?? '', new RegExp(`${rpc} is not implemented`));
    });
  }

  test('an invalid record is refused with INVALID_ARGUMENT naming the field', async () => {
    const cases: [MemberRecord, RegExp][] = [
      [member(2, { name: '' }), /members\[1\]\.name: is empty/],
      [member(2, { name: 'x'.repeat(254) }), /members\[1\]\.name: is longer than 253 bytes/],
      [member(2, { name: 'bad\nname' }), /members\[1\]\.name: contains a control character/],
      [member(2, { incarnation: 2 ** 60 }), /members\[1\]\.incarnation: .*exceeds .*the incarnation ceiling/],
      [member(2, { gossipAddr: 'no-port' }), /members\[1\]\.gossip_addr: .*missing ":port"/],
      [member(2, { grpcAddr: `${'h'.repeat(251)}:7947` }), /members\[1\]\.grpc_addr: is longer than 255 bytes/],
      [member(2, { grpcAddr: '10.0.0.1:0' }), /members\[1\]\.grpc_addr: .*port 0/],
      [member(2, { meta: { appAddr: ':80', serving: true, tags: {} } }), /members\[1\]\.meta\.app_addr: .*missing host/],
      [member(2, { meta: { appAddr: '', serving: true, tags: { big: 'v'.repeat(255), more: 'w'.repeat(255) } } }), /members\[1\]\.meta\.tags: \d+ bytes encoded, limit 512/],
      [member(2, { meta: { appAddr: '', serving: true, tags: { '': 'v' } } }), /members\[1\]\.meta\.tags\[""\]: key is empty/],
      [member(2, { lifeId: '' }), /members\[1\]\.life_id: is empty/],
      [member(0), /members\[1\]\.name: "member-0" repeats members\[0\]/],
    ];
    for (const [bad, expected] of cases) {
      const before = t.recorded.negotiations.length;
      const err = await rejectionOf(client.negotiate(t.addr, [member(0), bad], false, 5000));
      assert.ok(err instanceof ControlPlaneCallError);
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.message);
      assert.match(err.message, expected);
      assert.equal(t.recorded.negotiations.length, before, 'handler not called');
      assert.deepEqual(t.recorded.rejections.at(-1)?.rpc, 'Negotiate');
      assert.deepEqual(t.recorded.rejections.at(-1)?.reason, bad.incarnation > 2 ** 50 ? 'incarnation-out-of-range' : 'invalid');
    }
  });

  test('an unknown or unspecified state is refused naming the field', async () => {
    // 9 is no MemberState value; the cast lets the test send what a newer or broken peer might.
    for (const state of [0, 'MEMBER_STATE_UNSPECIFIED', 9 as 0] as const) {
      const body = encodeRequest('Negotiate', {
        members: [{ name: 'a', lifeId: 'l', incarnation: 1, state, gossipAddr: 'h:1', grpcAddr: 'h:2' }],
      });
      const { err } = await rawCall(t.addr, 'Negotiate', body);
      assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err?.details ?? '', /members\[0\]\.state: .* is not a member state/);
    }
  });

  test('a missing meta reads as no app address, not serving, no tags', async () => {
    const body = encodeRequest('Negotiate', {
      members: [{ name: 'a', lifeId: 'l', incarnation: '5', state: 'MEMBER_STATE_ALIVE', gossipAddr: 'h:1', grpcAddr: 'h:2' }],
    });
    const before = t.recorded.negotiations.length;
    const { err } = await rawCall(t.addr, 'Negotiate', body);
    assert.equal(err, null);
    assert.deepEqual(t.recorded.negotiations[before]?.remote, [
      { name: 'a', lifeId: 'l', incarnation: 5, state: 'alive', gossipAddr: 'h:1', grpcAddr: 'h:2', meta: { appAddr: '', serving: false, tags: {} } },
    ]);
  });

  test('bytes that are not protobuf are refused INVALID_ARGUMENT (malformed), not INTERNAL', async () => {
    for (const rpc of ['Negotiate', 'Ping', 'Closing']) {
      const { err } = await rawCall(t.addr, rpc, Buffer.from([0x12, 0xff, 0xff, 0xff, 0x0f, 0x01]));
      assert.equal(err?.code, grpc.status.INVALID_ARGUMENT, `${rpc}: ${err?.details}`);
      assert.match(err?.details ?? '', /not a valid swimring\.v1\.\w+Request/);
      assert.equal(t.recorded.rejections.at(-1)?.reason, 'malformed');
    }
  });

  test('an unsupported protocol version is refused FAILED_PRECONDITION', async () => {
    const body = encodeRequest('Ping', { header: { protocolVersion: 2 } });
    const { err } = await rawCall(t.addr, 'Ping', body);
    assert.equal(err?.code, grpc.status.FAILED_PRECONDITION);
    assert.match(err?.details ?? '', /the caller speaks protocol versions 2-2, this member 1-1/);
    assert.equal(t.recorded.rejections.at(-1)?.reason, 'unsupported-version');
  });

  test('a request without a header is accepted as protocol version 1, no label', async () => {
    const { err } = await rawCall(t.addr, 'Ping', Buffer.alloc(0));
    assert.equal(err, null);
  });

  test('Closing with a bad name or incarnation is refused naming the field', async () => {
    const a = await rawCall(t.addr, 'Closing', encodeRequest('Closing', { name: '', incarnation: 1 }));
    assert.equal(a.err?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(a.err?.details ?? '', /^name: is empty/);
    const b = await rawCall(t.addr, 'Closing', encodeRequest('Closing', { name: 'n', incarnation: '18446744073709551615' }));
    assert.equal(b.err?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(b.err?.details ?? '', /^incarnation: 18446744073709551615 exceeds/);
  });

  test('Negotiate with 100,000 members is RESOURCE_EXHAUSTED, and the server serves on', async () => {
    // A repeated field's entries are just concatenated on the wire, so 100 copies of a 1,000-member
    // request are one 100,000-member request (built in milliseconds rather than encoded one by one).
    const thousand = encodeRequest('Negotiate', {
      members: membersToProto(Array.from({ length: 1000 }, (_, i) => member(i, { meta: { appAddr: '', serving: true, tags: {} } }))),
    });
    const body = Buffer.concat(Array.from({ length: 100 }, () => thousand));
    const before = t.recorded.negotiations.length;
    const { err } = await rawCall(t.addr, 'Negotiate', body);
    assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED, err?.details);
    assert.equal(err?.details, 'members: 100000 member records, limit 65536');
    assert.equal(t.recorded.negotiations.length, before, 'handler not called');
    assert.deepEqual(t.recorded.rejections.at(-1), {
      rpc: 'Negotiate',
      reason: 'too-many-members',
      detail: 'members: 100000 member records, limit 65536',
    });
    assert.equal((await client.ping(t.addr, 5000)).name, 'member-0');
    assert.deepEqual(await client.negotiate(t.addr, [member(3)], false, 5000), local);
  });

  test('a member record too large to be valid is refused before decoding', async () => {
    const huge = encodeRequest('Negotiate', {
      members: [{ name: 'a'.repeat(9000), lifeId: 'l', incarnation: 1, state: 'MEMBER_STATE_ALIVE', gossipAddr: 'h:1', grpcAddr: 'h:2' }],
    });
    const { err } = await rawCall(t.addr, 'Negotiate', huge);
    assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err?.details ?? '', /members\[0\]: record of \d+ bytes, limit 8192/);
  });

  test('health reports SERVING, then NOT_SERVING after setServing(false), then SERVING again', async () => {
    const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
    const health = new Health(t.addr, grpc.credentials.createInsecure());
    const check = (service: string) =>
      new Promise<string>((resolve, rejectCheck) => {
        const method = healthService.Check;
        if (!method) throw new Error('grpc-health-check has no Check method');
        health.makeUnaryRequest(
          method.path,
          method.requestSerialize,
          (bytes: Buffer) => method.responseDeserialize(bytes) as { status?: string },
          { service },
          (err, reply) => (err ? rejectCheck(err) : resolve(reply?.status ?? '')),
        );
      });
    try {
      assert.equal(await check(''), 'SERVING');
      assert.equal(await check('swimring.v1.ControlPlane'), 'SERVING');
      t.server.setServing(false);
      assert.equal(await check(''), 'NOT_SERVING');
      assert.equal(await check('swimring.v1.ControlPlane'), 'NOT_SERVING');
      t.server.setServing(true);
      assert.equal(await check(''), 'SERVING');
      const unknown = await rejectionOf(check('no.such.Service'));
      assert.equal(unknown.code, grpc.status.NOT_FOUND);
    } finally {
      health.close();
    }
  });

  test('health Watch sends the current status, then each change; List names every service (grpc-health-check client)', async () => {
    const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
    const health = new Health(t.addr, grpc.credentials.createInsecure());
    try {
      const watch = healthService.Watch;
      const list = healthService.List;
      if (!watch || !list) throw new Error('grpc-health-check has no Watch or List method');
      const seen: string[] = [];
      const unknownSeen: string[] = [];
      const stream = health.makeServerStreamRequest(watch.path, watch.requestSerialize, (b: Buffer) => watch.responseDeserialize(b) as { status: string }, { service: '' });
      const other = health.makeServerStreamRequest(watch.path, watch.requestSerialize, (b: Buffer) => watch.responseDeserialize(b) as { status: string }, { service: 'no.such.Service' });
      stream.on('error', () => {});
      other.on('error', () => {});
      other.on('data', (m: { status: string }) => unknownSeen.push(m.status));
      const next = (): Promise<string> => new Promise((resolve) => stream.once('data', (m: { status: string }) => { seen.push(m.status); resolve(m.status); }));
      assert.equal(await next(), 'SERVING');
      const second = next();
      t.server.setServing(false);
      assert.equal(await second, 'NOT_SERVING');
      const third = next();
      t.server.setServing(true);
      assert.equal(await third, 'SERVING');
      assert.deepEqual(seen, ['SERVING', 'NOT_SERVING', 'SERVING']);
      const listed = await new Promise<{ statuses: Record<string, { status: string }> }>((resolve, rejectList) =>
        health.makeUnaryRequest(list.path, list.requestSerialize, (b: Buffer) => list.responseDeserialize(b) as { statuses: Record<string, { status: string }> }, {}, (err, reply) => (err || !reply ? rejectList(err) : resolve(reply))),
      );
      assert.deepEqual(listed.statuses, { '': { status: 'SERVING' }, 'swimring.v1.ControlPlane': { status: 'SERVING' } });
      assert.deepEqual(unknownSeen, ['SERVICE_UNKNOWN']);
      stream.cancel();
      other.cancel();
    } finally {
      health.close();
    }
  });

  test('a malformed health request is refused, and the server goes on answering', async () => {
    const client = new grpc.Client(t.addr, grpc.credentials.createInsecure());
    try {
      for (const body of [Buffer.from([0x0a, 0x05, 0x61]), Buffer.from([0x0a]), Buffer.from([0x0b]), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])]) {
        const err = await new Promise<grpc.ServiceError | null>((resolve) =>
          client.makeUnaryRequest<Buffer, Buffer>('/grpc.health.v1.Health/Check', (b) => b, (b) => b, body, (e) => resolve(e)),
        );
        assert.ok(err, body.toString('hex'));
        assert.notEqual(err.code, grpc.status.OK);
      }
      // A valid request with an unknown field (wire type 0) before the service name still answers.
      const reply = await new Promise<Buffer | undefined>((resolve, rejectCall) =>
        client.makeUnaryRequest<Buffer, Buffer>('/grpc.health.v1.Health/Check', (b) => b, (b) => b, Buffer.from([0x10, 0x96, 0x01, 0x0a, 0x00]), (e, r) => (e ? rejectCall(e) : resolve(r))),
      );
      assert.deepEqual(reply, Buffer.from([0x08, 0x01]));
    } finally {
      client.close();
    }
  });
});

describe('control plane server: handler failures', () => {
  test('a ControlPlaneError answers its status; any other throw answers INTERNAL without its text', async () => {
    let mode: 'refuse' | 'crash' = 'refuse';
    const t = await startTestServer({
      handlers: {
        negotiate() {
          if (mode === 'refuse') throw new ControlPlaneError(grpc.status.FAILED_PRECONDITION, 'label "a" is not "b"');
          throw new Error('secret internals');
        },
      },
    });
    const client = new ControlPlaneClient();
    try {
      const refused = await rejectionOf(client.negotiate(t.addr, [member(1)], true, 5000));
      assert.equal(refused.code, grpc.status.FAILED_PRECONDITION);
      assert.match(refused.message, /label "a" is not "b"/);
      assert.equal(t.recorded.rejections.at(-1)?.reason, 'refused');
      mode = 'crash';
      const crashed = await rejectionOf(client.negotiate(t.addr, [member(1)], true, 5000));
      assert.equal(crashed.code, grpc.status.INTERNAL);
      assert.doesNotMatch(crashed.message, /secret/);
      assert.equal(t.recorded.rejections.at(-1)?.reason, 'internal');
      assert.match(t.recorded.rejections.at(-1)?.detail ?? '', /secret internals/);
    } finally {
      client.close();
      await t.server.close();
    }
  });
});

describe('control plane server: version refusals', () => {
  test("a handler's refusal is counted under its own reason (a joiner with no version in common)", async () => {
    const t = await startTestServer({
      handlers: {
        negotiate() {
          throw new ControlPlaneError(grpc.status.FAILED_PRECONDITION, 'member m speaks 1-1', 'unsupported-version');
        },
      },
    });
    const client = new ControlPlaneClient();
    try {
      const refused = await rejectionOf(client.negotiate(t.addr, [member(1)], true, 5000));
      assert.equal(refused.code, grpc.status.FAILED_PRECONDITION);
      assert.equal(t.recorded.rejections.at(-1)?.reason, 'unsupported-version');
    } finally {
      client.close();
      await t.server.close();
    }
  });

  test('Ping answers the version it talks with the caller and the range it speaks', async () => {
    const t = await startTestServer({});
    try {
      const { err, reply } = await rawCall(t.addr, 'Ping', encodeRequest('Ping', { header: { protocolVersion: 1, minProtocolVersion: 1, maxProtocolVersion: 2 } }));
      assert.equal(err, null);
      assert.ok(reply);
      const decoded = controlPlaneDefinition().Ping.responseDeserialize(reply);
      // This process speaks 1-1 (no test switch): the caller's 1-2 is talked to in 1.
      assert.equal(decoded.protocolVersion, 1);
      assert.equal(decoded.minProtocolVersion, 1);
      assert.equal(decoded.maxProtocolVersion, 1);
    } finally {
      await t.server.close();
    }
  });
});

describe('control plane server: message size', () => {
  test('a message over maxMessageBytes is RESOURCE_EXHAUSTED, counted, and the server serves on', async () => {
    const t = await startTestServer({ limits: { maxMessageBytes: 64 * 1024 } });
    // The client's own limit is higher, so the oversized request reaches the server.
    const client = new ControlPlaneClient({ limits: { maxMessageBytes: 16 * 1024 * 1024 } });
    try {
      const many: MemberRecord[] = [];
      for (let i = 0; i < 2000; i++) many.push(member(i));
      const err = await rejectionOf(client.negotiate(t.addr, many, false, 10_000));
      assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED, err.message);
      assert.equal(t.recorded.negotiations.length, 0);
      assert.equal(t.recorded.rejections.at(-1)?.rpc, 'Negotiate');
      assert.equal(t.recorded.rejections.at(-1)?.reason, 'no-request');
      assert.deepEqual(await client.negotiate(t.addr, [member(5)], false, 5000), [member(0)]);
    } finally {
      client.close();
      await t.server.close();
    }
  });

  test('a client will not send more than its own maxMessageBytes', async () => {
    const t = await startTestServer();
    const client = new ControlPlaneClient({ limits: { maxMessageBytes: 4096 } });
    try {
      const many = Array.from({ length: 200 }, (_, i) => member(i));
      const err = await rejectionOf(client.negotiate(t.addr, many, false, 5000));
      assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED, err.message);
      assert.equal(t.recorded.negotiations.length, 0);
    } finally {
      client.close();
      await t.server.close();
    }
  });
});

describe('control plane server: member limit', () => {
  test('more members than maxMembers through the client is RESOURCE_EXHAUSTED naming the count', async () => {
    const t = await startTestServer({ limits: { maxMembers: 100 } });
    const client = new ControlPlaneClient();
    try {
      const err = await rejectionOf(client.negotiate(t.addr, Array.from({ length: 101 }, (_, i) => member(i)), false, 5000));
      assert.ok(err instanceof ControlPlaneCallError);
      assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.equal(err.rpc, 'Negotiate');
      assert.match(err.message, /members: 101 member records, limit 100/);
      assert.equal(t.recorded.negotiations.length, 0);
      const exactly = Array.from({ length: 100 }, (_, i) => member(i));
      await client.negotiate(t.addr, exactly, false, 5000);
      assert.deepEqual(t.recorded.negotiations[0]?.remote, exactly);
    } finally {
      client.close();
      await t.server.close();
    }
  });
});

describe('control plane server: start and close', () => {
  test('a bad bind address is refused with the reason', async () => {
    const err = await rejectionOf(startTestServer({ bind: '::1:0' }));
    assert.match(err.message, /control plane bind address: .*\[addr\]:port/);
  });

  test('a port already in use is refused with the address', async () => {
    const first = await startTestServer();
    try {
      const err = await rejectionOf(startTestServer({ bind: first.addr }));
      assert.match(err.message, new RegExp(`control plane cannot listen on ${first.addr}`));
    } finally {
      await first.server.close();
    }
  });

  test('close() resolves, is idempotent, and the port stops answering', async () => {
    const t = await startTestServer();
    const client = new ControlPlaneClient();
    try {
      await client.ping(t.addr, 5000);
      await Promise.all([t.server.close(), t.server.close()]);
      const err = await rejectionOf(client.ping(t.addr, 5000));
      assert.equal(err.code, grpc.status.UNAVAILABLE, err.message);
    } finally {
      client.close();
    }
  });
});
