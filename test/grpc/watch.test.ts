// WatchMembership over a real gRPC server on 127.0.0.1 with a fixed view: snapshot first, events in
// publish order, the same events the SSE watch sends, and a slow consumer ended with the reason.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import { startControlPlaneServer, type ControlPlaneServer } from '../../src/grpc/server.js';
import { controlPlaneDefinition } from '../../src/grpc/proto.js';
import { watchServer, type WatchServer } from '../../src/grpc/watch.js';
import { watchMembership } from '../../src/grpc/watch-client.js';
import { watchEventFromProto, watchEventToProto } from '../../src/grpc/watch-convert.js';
import type { MemberView, WatchEvent } from '../../src/runtime/view.js';

class FixedView {
  readonly listeners = new Set<(e: WatchEvent) => void>();
  readonly memberList: MemberView[] = [
    { name: 'a', state: 'alive', incarnation: 7, serving: true, addresses: { gossip: '10.0.0.1:7946', grpc: '10.0.0.1:7947', app: '' }, tags: { zone: 'x' }, self: true },
  ];
  members(): { version: string; members: MemberView[] } {
    return { version: 'v1', members: this.memberList };
  }
  subscribe(listener: (e: WatchEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  publish(e: WatchEvent): void {
    for (const l of this.listeners) l(e);
  }
}

const memberEvent = (i: number): WatchEvent => ({ type: 'member', version: `v${i}`, name: `m${i}`, from: 'alive', to: 'suspect', incarnation: i, reason: 'probe-failed', serving: true });
const bigMoves = (i: number): WatchEvent => ({
  type: 'moves',
  version: `v${i}`,
  previousVersion: `v${i - 1}`,
  ownerMoves: 2000,
  replicaMoves: 0,
  // Every other shard, so no two neighbour: 2,000 ranges of one shard, a large message.
  moves: [{ role: 'owner', from: 'a', to: null, count: 2000, ranges: Array.from({ length: 2000 }, (_, s): [number, number] => [100_000 + 2 * s, 100_000 + 2 * s]) }],
});

describe('gRPC WatchMembership', () => {
  const view = new FixedView();
  let server: ControlPlaneServer;
  let watch: WatchServer;
  let addr = '';
  const rejected: string[] = [];

  before(async () => {
    watch = watchServer({
      view,
      maxQueuedEvents: 16,
      maxStreams: 4,
      checkContext: () => {},
      onReject: (rpc, r) => rejected.push(`${rpc}:${r.message}`),
    });
    server = await startControlPlaneServer({
      bind: '127.0.0.1:0',
      handlers: { negotiate: () => [], closing: () => {}, ping: () => ({ name: 'a', members: 1, healthScore: 0, tableVersion: 'v1' }) },
      extraMethods: watch.methods,
    });
    addr = `127.0.0.1:${server.port}`;
  });

  after(async () => {
    await server.close();
  });

  test('every event kind survives the protobuf round trip unchanged', () => {
    const events: WatchEvent[] = [
      { type: 'snapshot', version: 'v', members: view.memberList },
      memberEvent(1),
      { type: 'member', version: 'v', name: 'n', from: null, to: 'alive', incarnation: 3, reason: 'joined', serving: false },
      bigMoves(2),
      { type: 'moves', version: 'v', previousVersion: 'u', ownerMoves: 1, replicaMoves: 1, moves: [{ role: 'replica', from: null, to: 'b', count: 3, ranges: [[1, 1], [5, 6]] }] },
      { type: 'claim', version: 'v', id: 'actor-1', change: 'lost', owner: 'b', fence: '117964800000000001' },
      { type: 'claim', version: 'v', id: 'actor-2', change: 'expired', owner: null, fence: '18446744073709551615' },
    ];
    const def = controlPlaneDefinition().WatchMembership;
    for (const e of events) {
      // Through the real protobuf encoder and decoder, as on the wire.
      const decoded = def.responseDeserialize(def.responseSerialize(watchEventToProto(e)));
      assert.deepEqual(watchEventFromProto(decoded), e);
    }
  });

  test('the snapshot comes first, then events in publish order', async () => {
    const got: WatchEvent[] = [];
    const stream = watchMembership(addr, (e) => got.push(e));
    await until(() => got.length >= 1);
    assert.equal(got[0]?.type, 'snapshot');
    assert.deepEqual(got[0], { type: 'snapshot', version: 'v1', members: view.memberList });
    for (let i = 1; i <= 5; i++) view.publish(memberEvent(i));
    await until(() => got.length >= 6);
    assert.deepEqual(got.slice(1).map((e) => (e.type === 'member' ? e.name : e.type)), ['m1', 'm2', 'm3', 'm4', 'm5']);
    stream.close();
    const end = await stream.ended;
    assert.equal(end.code, status.CANCELLED);
    await until(() => view.listeners.size === 0);
  });

  test('a consumer that stops reading is ended RESOURCE_EXHAUSTED with how far behind it was, and unsubscribed', async () => {
    const got: WatchEvent[] = [];
    const stream = watchMembership(addr, (e) => got.push(e));
    await until(() => got.length >= 1);
    stream.pause();
    // Paced publishing: a reader that kept up would never be 16 events behind; this one reads nothing.
    let published = 0;
    while (view.listeners.size > 0 && published < 5000) {
      view.publish(bigMoves(++published));
      await tick();
    }
    assert.equal(view.listeners.size, 0, 'the server unsubscribed the slow stream');
    assert.ok(published < 5000, `dropped after ${published} events`);
    stream.resume();
    const end = await stream.ended;
    assert.equal(end.code, status.RESOURCE_EXHAUSTED);
    assert.match(end.details, /^consumer too slow, \d+ events behind/);
    assert.ok(got.length < published + 1, `received ${got.length} of ${published + 1}: the backlog was not kept`);
    assert.equal(watch.endings.get('slow_consumer'), 1);
  });

  test('streams beyond the limit are refused; closeAll ends the rest UNAVAILABLE', async () => {
    const streams = Array.from({ length: 5 }, () => watchMembership(addr, () => {}));
    const refused = await Promise.race(streams.map((s) => s.ended));
    assert.equal(refused.code, status.RESOURCE_EXHAUSTED);
    assert.match(refused.details, /at most 4 watch streams/);
    await until(() => watch.open() === 4);
    watch.closeAll();
    const ends = await Promise.all(streams.map((s) => s.ended));
    assert.equal(ends.filter((e) => e.code === status.UNAVAILABLE).length, 4);
  });
});

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
