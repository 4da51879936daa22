// Two in-process members, each with its ApplyService behind a real gRPC server and a real test app; their
// views are fixed tables the test edits, so disagreements are set up on purpose.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { ApplyService, type ApplyConfig } from '../../src/apply/service.js';
import { applyMethod } from '../../src/apply/grpc-apply.js';
import { ControlPlaneClient } from '../../src/grpc/client.js';
import { startControlPlaneServer, type ControlPlaneServer } from '../../src/grpc/server.js';
import type { RouteAnswer } from '../../src/runtime/view.js';
import { ApplyTestApp } from '../support/apply-app.js';
import { NO_TRACE } from '../../src/apply/trace-context.js';

interface Member {
  name: string;
  app: ApplyTestApp;
  service: ApplyService;
  server: ControlPlaneServer;
  client: ControlPlaneClient;
  addr: string;
  /** key -> owner name, in this member's view. */
  owners: Map<string, string>;
}

const config = (url: URL | null): ApplyConfig => ({
  handlerUrl: url,
  timeoutMs: 3000,
  maxBodyBytes: 1024,
  maxAttempts: 3,
  dedupTtlMs: 60_000,
  dedupEntries: 100,
  dedupMaxBytes: 1 << 20,
  maxChannels: 64,
});

describe('ApplyService over real gRPC', () => {
  const members = new Map<string, Member>();
  const addrOf = (name: string): string => members.get(name)?.addr ?? '';

  async function member(name: string): Promise<Member> {
    const app = new ApplyTestApp(`app-${name}`);
    await app.listen('127.0.0.1', 0);
    const owners = new Map<string, string>();
    const route = (key: string): RouteAnswer => {
      const owner = owners.get(key) ?? name;
      return { key, shard: 0, owner: { name: owner, addresses: { gossip: '', grpc: addrOf(owner), app: '' }, serving: true }, replicas: [], version: `v-${name}` };
    };
    const client = new ControlPlaneClient({ sender: name });
    const service = new ApplyService({ config: config(new URL(`http://127.0.0.1:${app.port}/apply`)), view: { name, route }, client, label: '', maxKeyBytes: 1024 });
    const server = await startControlPlaneServer({ bind: '127.0.0.1:0', handlers: { negotiate: () => [], closing: () => {}, ping: () => ({ name, members: 1, healthScore: 0, tableVersion: '' }) }, extraMethods: service.grpcMethods() });
    const m = { name, app, service, server, client, addr: `127.0.0.1:${server.port}`, owners };
    members.set(name, m);
    return m;
  }

  let a: Member;
  let b: Member;
  before(async () => {
    a = await member('a');
    b = await member('b');
  });
  after(async () => {
    for (const m of members.values()) {
      m.client.close();
      await m.server.close();
      await m.app.close();
    }
  });

  const call = (key: string, requestId: string, body = '{}') => ({ key, requestId, message: { body: Buffer.from(body), contentType: 'application/json', trace: NO_TRACE } });

  test('forwarded to the owner; a retry with the same id is answered from its record, flagged duplicate', async () => {
    a.owners.set('k1', 'b');
    const first = await a.service.apply(call('k1', 'id-1'));
    assert.ok(first.result.ok);
    assert.equal(first.path, 'forwarded');
    assert.equal(first.result.ok && first.result.owner, 'b');
    const again = await a.service.apply(call('k1', 'id-1'));
    assert.ok(again.result.ok && again.result.duplicate);
    assert.equal(b.app.count('id-1'), 1);
    assert.equal(b.service.deliverer.counters.duplicatesSuppressed, 1);
  });

  test('the callee says NOT_OWNER with a hint; the caller follows it (here: back to itself)', async () => {
    a.owners.set('k2', 'b');
    b.owners.set('k2', 'a');
    const out = await a.service.apply(call('k2', 'id-2'));
    // a asks b (a's view), b names a, a delivers locally only if its own view agrees: it does not, so the
    // attempts run out with not_owner and a hint.
    assert.ok(!out.result.ok);
    assert.equal(!out.result.ok && out.result.error.code, 'not_owner');
    assert.equal(out.attempts, 3);
    assert.equal(a.app.count('id-2') + b.app.count('id-2'), 0);
    // Views agree again: delivered.
    b.owners.set('k2', 'b');
    const ok = await a.service.apply(call('k2', 'id-2'));
    assert.ok(ok.result.ok);
  });

  test('an owner that cannot be reached: retriable error, nothing delivered', async () => {
    a.owners.set('k3', 'ghost');
    members.set('ghost', { ...a, name: 'ghost', addr: '127.0.0.1:1' });
    const out = await a.service.apply(call('k3', 'id-3'));
    members.delete('ghost');
    assert.ok(!out.result.ok);
    assert.equal(!out.result.ok && out.result.error.code, 'owner_unavailable');
    assert.equal(!out.result.ok && out.result.error.retriable, true);
    assert.equal(!out.result.ok && out.result.error.mayHaveBeenDelivered, false);
  });

  test('hostile Apply requests are refused with INVALID_ARGUMENT, never reach the app', async () => {
    const method = applyMethod({ maxBodyBytes: 1024, maxKeyBytes: 1024 });
    const raw = new grpc.Client(b.addr, grpc.credentials.createInsecure());
    const send = (req: object) =>
      new Promise<grpc.ServiceError | null>((resolve) => {
        raw.makeUnaryRequest(method.path, (v: object) => method.requestSerialize(v as never), (x: Buffer) => x, req, (err) => resolve(err));
      });
    const twoMessages = await send({ id: 'k', requestId: 'r', messages: [{ type_url: 'x', value: Buffer.alloc(0) }, { type_url: 'x', value: Buffer.alloc(0) }] });
    assert.equal(twoMessages?.code, grpc.status.INVALID_ARGUMENT);
    const wrongType = await send({ id: 'k', requestId: 'r', messages: [{ type_url: 'type.googleapis.com/other', value: Buffer.alloc(0) }] });
    assert.equal(wrongType?.code, grpc.status.INVALID_ARGUMENT);
    const badId = await send({ id: 'k', requestId: 'has space', messages: [] });
    assert.equal(badId?.code, grpc.status.INVALID_ARGUMENT);
    raw.close();
    assert.equal(b.app.received.filter((r) => r.requestId === 'r' || r.requestId === 'has space').length, 0);
  });
});
