// The simulator engine on its own (stub cores): event order, latency, loss, partitions, pauses,
// crashes, restarts and RPC outcomes. Protocol behaviour is tested in the other files of test/sim/.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { profileConfig } from '../../src/core/config.js';
import { seededRandom } from '../../src/core/random.js';
import { encodePacket, packetSize } from '../../src/codec/index.js';
import type { Packet, Update } from '../../src/core/types.js';
import { packetBytes } from '../../src/sim/bytes.js';
import { MinHeap } from '../../src/core/min-heap.js';
import { NetworkModel } from '../../src/sim/network.js';
import { Simulator, type SimNode } from '../../src/sim/simulator.js';
import { StubCore, ping } from './stub-core.js';

function build(opts: { loss?: number; jitterMs?: number; socketBufferBytes?: number } = {}): {
  sim: Simulator;
  stubs: Map<string, StubCore>;
  add: (name?: string) => [SimNode, StubCore];
} {
  const stubs = new Map<string, StubCore>();
  const sim = new Simulator({
    seed: 7,
    config: profileConfig('lan'),
    createCore: (o) => {
      const core = new StubCore(o);
      stubs.set(o.lifeId, core);
      return core;
    },
    network: { baseLatencyMs: 1, latencySpread: 0, jitterMs: opts.jitterMs ?? 0, loss: opts.loss ?? 0 },
    rpcTimeoutMs: 500,
    ...(opts.socketBufferBytes === undefined ? {} : { socketBufferBytes: opts.socketBufferBytes }),
  });
  const add = (name?: string): [SimNode, StubCore] => {
    const node = sim.addNode(name === undefined ? {} : { name });
    return [node, stubs.get(node.lifeId) as StubCore];
  };
  return { sim, stubs, add };
}

describe('event queue', () => {
  test('pops in (time, seq) order for any schedule', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (times) => {
        const heap = new MinHeap<{ time: number; seq: number }>();
        times.forEach((time, seq) => heap.push({ time, seq }));
        const out: { time: number; seq: number }[] = [];
        for (let e = heap.pop(); e !== undefined; e = heap.pop()) out.push(e);
        const expected = times.map((time, seq) => ({ time, seq })).sort((a, b) => a.time - b.time || a.seq - b.seq);
        assert.deepEqual(out, expected);
      }),
    );
  });
});

describe('byte counting', () => {
  test('counts exactly the encoded size, also for updates it has measured before', () => {
    const alive: Update = {
      kind: 'alive',
      name: 'member-ü',
      lifeId: '0123456789abcdef',
      incarnation: 1_700_000_000_000,
      gossipAddr: '10.0.0.1:7946',
      grpcAddr: '10.0.0.1:7947',
      meta: { appAddr: '10.0.0.1:8080', serving: true, tags: { zone: 'eu-1' } },
    };
    const suspect: Update = { kind: 'suspect', name: 'member-2', incarnation: 4, from: 'member-1' };
    const packets: Packet[] = [
      { message: { type: 'ping', seq: 1, from: 'member-1', fromAddr: '10.0.0.1:7946', target: 'member-2' }, updates: [alive] },
      { message: { type: 'ack', seq: 1, from: 'member-2' }, updates: [alive, suspect] },
      { message: null, updates: [suspect, { kind: 'left', name: 'x', incarnation: 9 }] },
      { message: { type: 'ping-req', seq: 7, from: 'a', fromAddr: 'b', target: 'c', targetAddr: 'd' }, updates: [] },
    ];
    for (const p of packets) {
      assert.equal(packetBytes(p), encodePacket(p).length);
      assert.equal(packetBytes(p), packetSize(p));
    }
  });
});

describe('network model', () => {
  test('a partition separates groups and unlisted nodes form one more group', () => {
    const net = new NetworkModel(seededRandom(1), 1);
    net.partition([[0, 1], [2]]);
    assert.equal(net.separated(0, 1), false);
    assert.equal(net.separated(0, 2), true);
    assert.equal(net.separated(3, 4), false);
    assert.equal(net.separated(1, 3), true);
    assert.equal(net.dropPacket(0, 2), 'partition');
    assert.equal(net.rpcPossible(0, 2), false);
    net.heal();
    assert.equal(net.separated(0, 2), false);
  });

  test('uniform loss drops close to the configured share', () => {
    const net = new NetworkModel(seededRandom(3), 1, { loss: 0.1 });
    let dropped = 0;
    for (let i = 0; i < 20_000; i++) if (net.dropPacket(0, 1) === 'loss') dropped++;
    assert.ok(dropped > 1700 && dropped < 2300, `dropped ${dropped} of 20000`);
  });

  test('one-way loss drops one direction only and breaks RPCs both ways', () => {
    const net = new NetworkModel(seededRandom(3), 1);
    net.setOutboundLoss(5, 1);
    assert.equal(net.dropPacket(5, 1), 'loss');
    assert.equal(net.dropPacket(1, 5), null);
    assert.equal(net.rpcPossible(1, 5), false);
    net.setOutboundLoss(5, 0);
    assert.equal(net.dropPacket(5, 1), null);
  });

  test('per-link base latency is fixed per direction and jitter stays in bounds', () => {
    const net = new NetworkModel(seededRandom(3), 9, { baseLatencyMs: 1, latencySpread: 1, jitterMs: 0.5 });
    for (let i = 0; i < 100; i++) {
      const d = net.delay(1, 2);
      assert.ok(d >= 1 && d < 2.5, `delay ${d}`);
    }
    net.setLinkLatency(1, 2, 40);
    const d = net.delay(1, 2);
    assert.ok(d >= 40 && d < 40.5);
  });

  test('rejects a loss outside [0, 1]', () => {
    assert.throws(() => new NetworkModel(seededRandom(1), 1, { loss: 1.5 }), /probability/);
  });
});

describe('simulator engine', () => {
  test('delivers a packet after the link latency, from the sender address', () => {
    const { sim, add } = build();
    const [a, coreA] = add();
    const [b, coreB] = add();
    coreA.next = [{ type: 'send', to: b.gossipAddr, packet: ping(a.name, 1) }];
    sim.join(a, []);
    sim.runUntil(10);
    const got = coreB.calls.find((c) => c.kind === 'receive');
    assert.deepEqual(got && { now: got.now, from: got.kind === 'receive' ? got.from : '' }, { now: 1, from: a.gossipAddr });
    assert.equal(a.packetsSent, 1);
    assert.equal(b.packetsReceived, 1);
    assert.ok(a.bytesSent > 0 && a.bytesSent === b.bytesReceived);
  });

  test('wakes a core exactly at its deadline and re-reads the deadline after each call', () => {
    const { sim, add } = build();
    const [a, core] = add();
    core.deadlines = [100, 250];
    sim.join(a, []); // any interaction makes the simulator re-read the deadline
    sim.runUntil(1000);
    assert.deepEqual(
      core.calls.filter((c) => c.kind === 'tick').map((c) => c.now),
      [100, 250],
    );
  });

  test('a paused node buffers packets up to the socket buffer and reads them after its timers on resume', () => {
    const { sim, add } = build({ socketBufferBytes: 100 });
    const [a, coreA] = add();
    const [b, coreB] = add();
    sim.pause(b, 50);
    coreA.next = [1, 2, 3, 4, 5].map((seq) => ({ type: 'send' as const, to: b.gossipAddr, packet: ping(a.name, seq) }));
    sim.join(a, []);
    sim.runUntil(40);
    assert.equal(coreB.calls.length, 0, 'a paused node processes nothing');
    sim.runUntil(100);
    const kinds = coreB.calls.map((c) => (c.kind === 'receive' && c.packet.message?.type === 'ping' ? `ping${c.packet.message.seq}@${c.now}` : `${c.kind}@${c.now}`));
    const size = a.bytesSent / 5;
    const fits = Math.floor(100 / size);
    assert.deepEqual(kinds, ['tick@50', ...[1, 2, 3, 4, 5].slice(0, fits).map((s) => `ping${s}@50`)]);
    assert.equal(sim.drops.buffer, 5 - fits);
  });

  test('packets to a crashed node are dropped as unroutable', () => {
    const { sim, add } = build();
    const [a, coreA] = add();
    const [b] = add();
    sim.crash(b);
    coreA.next = [{ type: 'send', to: b.gossipAddr, packet: ping(a.name, 1) }];
    sim.join(a, []);
    sim.runUntil(10);
    assert.equal(sim.drops.unroutable, 1);
    assert.equal(b.running, false);
  });

  test('negotiate gets the reply from a live peer and fails after the timeout against a crashed one', () => {
    const { sim, add } = build();
    const [a, coreA] = add();
    const [b, coreB] = add();
    const [c] = add();
    sim.crash(c);
    coreA.next = [
      { type: 'negotiate', to: b.grpcAddr, requestId: 11, state: [coreA.self()], join: true },
      { type: 'negotiate', to: c.grpcAddr, requestId: 12, state: [coreA.self()], join: true },
    ];
    sim.join(a, [b, c]);
    sim.runUntil(2000);
    assert.deepEqual(coreB.calls.filter((x) => x.kind === 'negotiate'), [{ kind: 'negotiate', now: 1, records: 1, join: true }]);
    assert.deepEqual(
      coreA.calls.filter((x) => x.kind === 'reply' || x.kind === 'failed'),
      [
        { kind: 'reply', now: 2, requestId: 11, records: 1 },
        { kind: 'failed', now: 500, requestId: 12 },
      ],
    );
  });

  test('a partition blocks packets and RPCs until healed', () => {
    const { sim, add } = build();
    const [a, coreA] = add();
    const [b, coreB] = add();
    sim.network.partition([[a.id]]);
    coreA.next = [
      { type: 'send', to: b.gossipAddr, packet: ping(a.name, 1) },
      { type: 'negotiate', to: b.grpcAddr, requestId: 1, state: [], join: false },
    ];
    sim.join(a, []);
    sim.runUntil(1000);
    assert.equal(coreB.calls.length, 0);
    assert.deepEqual(coreA.calls.at(-1), { kind: 'failed', now: 500, requestId: 1 });
    sim.network.heal();
    coreA.next = [{ type: 'send', to: b.gossipAddr, packet: ping(a.name, 2) }];
    sim.join(a, []);
    sim.runUntil(2000);
    assert.equal(coreB.calls.filter((x) => x.kind === 'receive').length, 1);
  });

  test('closing notices arrive with latency', () => {
    const { sim, add } = build();
    const [a, coreA] = add();
    const [b, coreB] = add();
    coreA.next = [{ type: 'closing', to: b.grpcAddr, name: a.name, incarnation: 9 }];
    sim.join(a, []);
    sim.runUntil(10);
    assert.deepEqual(coreB.calls, [{ kind: 'closing', now: 1, name: a.name, incarnation: 9 }]);
  });

  test('a restart starts a new life: new lifeId, incarnation = boot time, optionally a new address', () => {
    const { sim, stubs, add } = build();
    const [a] = add();
    const firstLife = a.lifeId;
    const firstAddr = a.gossipAddr;
    sim.runUntil(1234);
    sim.restart(a, { newAddress: true });
    assert.notEqual(a.lifeId, firstLife);
    assert.notEqual(a.gossipAddr, firstAddr);
    const core = stubs.get(a.lifeId) as StubCore;
    assert.equal(core.options.incarnation, 1234);
    assert.equal(core.options.gossipAddr, a.gossipAddr);
    assert.equal(a.life, 2);
  });

  test('the same seed replays the same delays and losses; another seed does not', () => {
    const trace = (seed: number): string => {
      const sim = new Simulator({
        seed,
        config: profileConfig('lan'),
        createCore: (o) => new StubCore(o),
        network: { loss: 0.3, jitterMs: 2 },
      });
      const nodes = [sim.addNode(), sim.addNode()];
      const times: string[] = [];
      const [a, b] = nodes as [SimNode, SimNode];
      const core = a.core as StubCore;
      core.next = Array.from({ length: 50 }, (_, i) => ({ type: 'send' as const, to: b.gossipAddr, packet: ping(a.name, i) }));
      sim.join(a, []);
      sim.runUntil(100);
      for (const c of (b.core as StubCore).calls) if (c.kind === 'receive') times.push(`${c.packet.message?.type === 'ping' ? c.packet.message.seq : -1}@${c.now}`);
      return times.join(',');
    };
    assert.equal(trace(1), trace(1));
    assert.notEqual(trace(1), trace(2));
  });
});
