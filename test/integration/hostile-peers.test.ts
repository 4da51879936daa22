// Hostile peers against real sidecar processes on 127.0.0.60-70 (local profile, no keyring: what the
// shipped manifests ran with). Each test sends well-formed messages a member could decode, with values
// chosen to hurt, and checks that every member keeps running, answering, and holding the truth.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { converged as allAlive, metricValue, randomPortBase, sendUdp, SidecarProcess, sumMetric, viewOf as members, waitFor } from './harness.js';
import { decodePacket, encodePacket } from '../../src/codec/index.js';
import { MAX_INCARNATION } from '../../src/core/limits.js';
import type { Packet, Update } from '../../src/core/types.js';
import { encodeRequest, rawCall } from '../grpc/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'swimring-hostile-'));
const all: SidecarProcess[] = [];
after(async () => {
  await Promise.all(all.map((n) => n.stop()));
  rmSync(dir, { recursive: true, force: true });
});

function start(name: string, host: string, portBase: number, seeds: readonly string[]): SidecarProcess {
  const args = ['--admin-token-file', join(dir, `${name}.token`), '--drain-ms', '0'];
  const p = new SidecarProcess({ name, host, portBase, seeds, extraArgs: args, shards: 1024 });
  all.push(p);
  return p;
}


/** Samples every view until stopped; returns each record seen above the incarnation ceiling. */
function watchForForgeries(nodes: readonly SidecarProcess[]): { stop(): Promise<string[]> } {
  const seen = new Set<string>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const n of nodes.filter((x) => x.running)) {
        for (const m of await members(n).catch(() => [])) {
          if (m.incarnation > MAX_INCARNATION) seen.add(`${n.name} held ${m.name} ${m.state} at ${m.incarnation}`);
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return [...seen];
    },
  };
}


const CEILING_BYTES = '0004000000000000';

/**
 * A gossip packet carrying `updates`, encoded at the ceiling and then patched to `incarnation` (the
 * encoder refuses anything above the ceiling, but an attacker writes the bytes by hand).
 */
function craftedPacket(updates: readonly Update[], incarnation: bigint): Buffer {
  const packet: Packet = { message: null, updates: updates.map((u) => ({ ...u, incarnation: MAX_INCARNATION })) };
  const hex = Buffer.from(encodePacket(packet)).toString('hex');
  const patched = incarnation.toString(16).padStart(16, '0');
  assert.equal(hex.split(CEILING_BYTES).length - 1, updates.length, 'the ceiling bytes appear once per update');
  return Buffer.from(hex.split(CEILING_BYTES).join(patched), 'hex');
}

function protoRecord(name: string, lifeId: string, incarnation: string, state: string, host: string, base: number): Record<string, unknown> {
  return { name, lifeId, incarnation, state, gossipAddr: `${host}:${base}`, grpcAddr: `${host}:${base + 1}`, meta: { appAddr: '', serving: true, tags: {} } };
}


const TOP = 2n ** 53n - 1n;

describe('the packet of death', { timeout: 240_000 }, () => {
  const base = randomPortBase();
  const seed = [`127.0.0.60:${base + 1}`];
  const nodes: SidecarProcess[] = [];

  test('three members converge', async () => {
    nodes.push(start('pod-0', '127.0.0.60', base, []));
    nodes.push(start('pod-1', '127.0.0.61', base, seed));
    nodes.push(start('pod-2', '127.0.0.62', base, seed));
    await waitFor('3 members converge', 60_000, () => allAlive(nodes));
  });

  test('records at 2^53-1 over UDP and gRPC, and accusations at the ceiling: every member lives, answers, and holds the victim alive', async () => {
    const [peer, victim, other] = nodes as [SidecarProcess, SidecarProcess, SidecarProcess];
    const victimView = (await members(peer)).find((m) => m.name === victim.name);
    assert.ok(victimView);
    const watch = watchForForgeries(nodes);

    // UDP: every accusation kind, and an alive under another life id, naming the victim at 2^53-1,
    // sent to the victim itself and to a peer.
    const atTop: Update[] = [
      { kind: 'suspect', name: victim.name, incarnation: 0, from: other.name },
      { kind: 'dead', name: victim.name, incarnation: 0, from: other.name },
      { kind: 'left', name: victim.name, incarnation: 0 },
      { kind: 'alive', name: victim.name, lifeId: 'forged-life', incarnation: 0, gossipAddr: '127.0.0.69:1', grpcAddr: '127.0.0.69:2', meta: { appAddr: '', serving: true, tags: {} } },
    ];
    for (const u of atTop) {
      await sendUdp(victim, craftedPacket([u], TOP));
      await sendUdp(peer, craftedPacket([u], TOP));
    }

    // gRPC: Negotiate holding the victim dead at 2^53-1, and Closing naming it at 2^53-1.
    const negotiate = encodeRequest('Negotiate', {
      members: [protoRecord(victim.name, 'forged-life', TOP.toString(), 'MEMBER_STATE_DEAD', '127.0.0.69', 1)],
    } as never);
    for (const target of [peer, victim]) {
      const reply = await rawCall(target.grpcAddr, 'Negotiate', negotiate);
      assert.equal(reply.err?.code, grpc.status.INVALID_ARGUMENT, `Negotiate to ${target.name}`);
      const closing = await rawCall(target.grpcAddr, 'Closing', encodeRequest('Closing', { name: victim.name, incarnation: TOP.toString() } as never));
      assert.equal(closing.err?.code, grpc.status.INVALID_ARGUMENT, `Closing to ${target.name}`);
    }

    // At the ceiling itself (accepted: an honest refutation must be able to reach it): the victim
    // refutes at the ceiling and its peers take that over the accusation.
    await sendUdp(victim, craftedPacket([{ kind: 'suspect', name: victim.name, incarnation: 0, from: other.name }], BigInt(MAX_INCARNATION)));
    await sendUdp(peer, craftedPacket([{ kind: 'dead', name: victim.name, incarnation: 0, from: other.name }], BigInt(MAX_INCARNATION)));

    await waitFor('every member holds the victim alive at the ceiling', 60_000, async () => {
      if (!(await allAlive(nodes))) return false;
      for (const n of nodes) {
        const v = (await members(n)).find((m) => m.name === victim.name);
        if (v?.incarnation !== MAX_INCARNATION) return false;
      }
      return true;
    });
    const forgeries = await watch.stop();

    for (const n of nodes) assert.ok(n.running, `${n.name} exited: ${n.exitCode ?? n.exitSignal}\n${n.logs.slice(-20).join('\n')}`);
    assert.equal((await victim.json('/livez')).status, 200);
    assert.deepEqual(forgeries, [], 'no view ever held a record above the ceiling');
    assert.ok(metricValue(await victim.metrics(), 'swimring_decode_rejections_total', 'reason="number-out-of-range"') >= atTop.length);
    assert.ok(metricValue(await peer.metrics(), 'swimring_grpc_rejections_total', 'reason="incarnation-out-of-range"') >= 2);
    assert.equal(await sumMetric(nodes, 'swimring_effect_failures_total'), 0);
  });

  test('a member that joins afterwards is handed no record above the ceiling and stays up', async () => {
    const late = start('pod-3', '127.0.0.63', base, seed);
    nodes.push(late);
    await waitFor('4 members converge', 60_000, () => allAlive(nodes));
    for (const n of nodes) assert.ok(n.running, `${n.name} exited`);
    for (const m of await members(late)) assert.ok(m.incarnation <= MAX_INCARNATION, `${m.name} at ${m.incarnation}`);
  });
});

describe('forged Closing', { timeout: 240_000 }, () => {
  const base = randomPortBase();
  const seed = [`127.0.0.64:${base + 1}`];
  const nodes: SidecarProcess[] = [];

  const closing = (to: SidecarProcess, sender: string, name: string): Promise<{ err: { code: number; details: string } | null }> =>
    rawCall(to.grpcAddr, 'Closing', encodeRequest('Closing', { header: { sender, label: '', protocolVersion: 1 }, name, incarnation: String(MAX_INCARNATION) } as never));

  test('three members converge', async () => {
    nodes.push(start('cl-0', '127.0.0.64', base, []));
    nodes.push(start('cl-1', '127.0.0.65', base, seed));
    nodes.push(start('cl-2', '127.0.0.66', base, seed));
    await waitFor('3 members converge', 60_000, () => allAlive(nodes));
  });

  test('a Closing naming another member, or sent from an address that is not the member\'s, is refused; a real leave still spreads', async () => {
    const [seedNode, victim, leaver] = nodes as [SidecarProcess, SidecarProcess, SidecarProcess];
    for (const sender of ['intruder', '', seedNode.name]) {
      const reply = await closing(seedNode, sender, victim.name);
      assert.equal(reply.err?.code, grpc.status.PERMISSION_DENIED, `sender "${sender}": ${reply.err?.details}`);
    }
    // A member known at a non-loopback address cannot be closed from here, even under its own name.
    const ghost: Update = { kind: 'alive', name: 'ghost', lifeId: 'g-1', incarnation: 1, gossipAddr: '10.255.255.1:7946', grpcAddr: '10.255.255.1:7947', meta: { appAddr: '', serving: false, tags: {} } };
    await sendUdp(seedNode, Buffer.from(encodePacket({ message: null, updates: [ghost] })));
    await waitFor('the seed learns ghost', 10_000, async () => (await members(seedNode)).some((m) => m.name === 'ghost'));
    const ghostReply = await closing(seedNode, 'ghost', 'ghost');
    assert.equal(ghostReply.err?.code, grpc.status.PERMISSION_DENIED, ghostReply.err?.details);
    assert.match(ghostReply.err?.details ?? '', /not from its known address \(10\.255\.255\.1\)/);

    await new Promise((r) => setTimeout(r, 1000));
    for (const n of nodes) {
      const v = (await members(n)).find((m) => m.name === victim.name);
      assert.equal(v?.state, 'alive', `${n.name} holds ${victim.name} ${v?.state}`);
    }
    assert.notEqual((await members(seedNode)).find((m) => m.name === 'ghost')?.state, 'left');
    assert.equal(metricValue(await seedNode.metrics(), 'swimring_grpc_rejections_total', 'reason="not-own-identity"'), 4);

    // The member's own graceful leave (its Closing comes from its own address) is still taken at once.
    leaver.signal('SIGTERM');
    await waitFor('the others hold the leaver left', 30_000, async () => {
      for (const n of [seedNode, victim]) if ((await members(n)).find((m) => m.name === leaver.name)?.state !== 'left') return false;
      return true;
    });
    await leaver.exited;
    assert.equal(await sumMetric([seedNode, victim], 'swimring_grpc_rejections_total', 'reason="not-own-identity"'), 4, 'the real Closing was not refused');
  });
});

describe('name takeover', { timeout: 240_000 }, () => {
  const base = randomPortBase();
  const seed = [`127.0.0.67:${base + 1}`];
  const nodes: SidecarProcess[] = [];

  test('three members converge', async () => {
    nodes.push(start('nt-0', '127.0.0.67', base, []));
    nodes.push(start('nt-1', '127.0.0.68', base, seed));
    nodes.push(start('nt-2', '127.0.0.69', base, seed));
    await waitFor('3 members converge', 60_000, () => allAlive(nodes));
  });

  test('forged alives for a member\'s name, under fresh and repeated life ids, from a peer that answers probes: the member keeps its name', async () => {
    const [peerA, victim, peerB] = nodes as [SidecarProcess, SidecarProcess, SidecarProcess];
    // The attacker listens on its own address and acks every probe in the victim's name.
    const attacker = createSocket('udp4');
    await new Promise<void>((resolve) => attacker.bind(0, '127.0.0.70', resolve));
    const attackerAddr = `127.0.0.70:${attacker.address().port}`;
    attacker.on('message', (bytes, rinfo) => {
      const decoded = decodePacket(bytes);
      if (!decoded.ok || decoded.packet.message?.type !== 'ping') return;
      const ack = encodePacket({ message: { type: 'ack', seq: decoded.packet.message.seq, from: victim.name }, updates: [] });
      attacker.send(ack, rinfo.port, rinfo.address);
    });
    try {
      const claim = async (lifeId: string): Promise<void> => {
        const held = Math.max(...(await Promise.all(nodes.map(async (n) => (await members(n)).find((m) => m.name === victim.name)?.incarnation ?? 0))));
        const forged: Update = {
          kind: 'alive',
          name: victim.name,
          lifeId,
          incarnation: held + 1000,
          gossipAddr: attackerAddr,
          grpcAddr: '127.0.0.70:1',
          meta: { appAddr: '127.0.0.70:2', serving: true, tags: { owner: 'attacker' } },
        };
        const bytes = Buffer.from(encodePacket({ message: null, updates: [forged] }));
        for (const n of nodes) await sendUdp(n, bytes);
        await new Promise((r) => setTimeout(r, 300));
      };
      // A fresh life id on every claim: each is refuted, and together they are reported as a conflict.
      for (let i = 0; i < 5; i++) await claim(`fresh-${i}`);
      await waitFor('the victim reports the name conflict', 10_000, async () => metricValue(await victim.metrics(), 'swimring_name_conflicts_total') >= 1);
      // One foreign life id, again and again: still refuted after the conflict was reported.
      for (let i = 0; i < 6; i++) await claim('repeated');

      await waitFor('every view holds the victim at its own address again', 30_000, async () => {
        for (const n of nodes) {
          const v = (await members(n)).find((m) => m.name === victim.name);
          if (v?.state !== 'alive' || v.addresses.gossip !== victim.gossipAddr) return false;
        }
        return true;
      });
      // And it stays so: the last claim does not come back once refuted.
      await new Promise((r) => setTimeout(r, 2000));
      for (const n of nodes) {
        const v = (await members(n)).find((m) => m.name === victim.name);
        assert.equal(v?.addresses.gossip, victim.gossipAddr, `${n.name} holds ${victim.name} at ${v?.addresses.gossip}`);
        assert.equal(v?.tags['owner'], undefined);
      }
      for (const n of [peerA, victim, peerB]) assert.ok(n.running);
    } finally {
      attacker.close();
    }
  });
});
