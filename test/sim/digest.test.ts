// The simulator's periodic anti-entropy is the agent's digest exchange: the same walk, the same merges,
// and the same bytes as the agent's swimring_antientropy_bytes_total counts over real gRPC.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import pino from 'pino';
import { AntiEntropy } from '../../src/antientropy/runtime.js';
import type { MemberRecord } from '../../src/core/types.js';
import { ControlPlaneClient } from '../../src/grpc/client.js';
import { DEFAULT_LIMITS } from '../../src/grpc/limits.js';
import { startControlPlaneServer, type ControlPlaneServer } from '../../src/grpc/server.js';
import { DigestRounds, digestRound, sameEntries, SimDigest } from '../../src/sim/digest.js';
import { runScenario } from '../../src/sim/index.js';
import type { SimCore } from '../../src/sim/core-port.js';
import { createSwimCore } from '../../src/sim/swim-factory.js';
import { FakeClaimStore, member } from '../antientropy/fakes.js';

const SENDER = 'caller-1';
const handlers = { negotiate: () => [], closing: () => {}, ping: () => ({ name: 'x', members: 0, healthScore: 0, tableVersion: '' }) };

function agentSide(client: ControlPlaneClient, records: () => readonly MemberRecord[], merged: MemberRecord[][]): AntiEntropy {
  const ae = new AntiEntropy({
    mode: 'digest',
    client,
    limits: DEFAULT_LIMITS,
    rpcTimeoutMs: 5000,
    memberState: records,
    mergeMembers: (r) => merged.push([...r]),
    checkContext: () => {},
    onReject: () => {},
    logger: pino({ level: 'silent' }),
  });
  // The agent keeps a claims tree; the simulator has no claims, so both sides keep an empty one.
  ae.attachClaims(new FakeClaimStore());
  return ae;
}

const many = (n: number, inc: (i: number) => number): MemberRecord[] => Array.from({ length: n }, (_, i) => member(`m${i}`, inc(i)));

let peerRecords: MemberRecord[] = [];
let server: ControlPlaneServer;
const client = new ControlPlaneClient({ sender: SENDER });
const serverMerged: MemberRecord[][] = [];

before(async () => {
  const side = agentSide(client, () => peerRecords, serverMerged);
  server = await startControlPlaneServer({ bind: '127.0.0.1:0', handlers, extraMethods: side.serverMethods() });
});

after(async () => {
  client.close();
  await server.close();
});

for (const [label, mine, theirs] of [
  ['in sync', many(40, () => 1), many(40, () => 1)],
  ['three records differ', many(40, (i) => (i % 13 === 0 ? 2 : 1)), many(40, () => 1)],
  ['the peer knows members the caller does not', many(30, () => 1), many(60, () => 1)],
] as const) {
  test(`a simulated round costs the bytes the agent counts over gRPC, and carries the same records (${label})`, async () => {
    peerRecords = [...theirs];
    serverMerged.length = 0;
    const agent = agentSide(client, () => mine, []);
    const agentReply = await agent.round(`127.0.0.1:${server.port}`);
    assert.ok(agentReply !== null);
    const agentBytes = agent.stats.wire.sent + agent.stats.wire.received;

    const simMerged: MemberRecord[][] = [];
    const caller = new SimDigest(() => mine, () => undefined);
    const peer = new SimDigest(() => theirs, (r) => simMerged.push([...r]));
    const round = digestRound(caller, SENDER, peer);
    assert.equal(round.bytes, agentBytes);
    assert.equal(round.calls, agent.stats.wire.calls);
    const names = (rs: readonly MemberRecord[]): string[] => rs.map((r) => `${r.name}@${r.incarnation}`).sort();
    assert.deepEqual(names(round.reply), names(agentReply));
    assert.deepEqual(names(simMerged.flat()), names(serverMerged.flat()));
    // The simulator's model of the round (no trees) costs and carries the same.
    const shortcut = new DigestRounds().round(mine, SENDER, theirs, () => undefined);
    assert.equal(shortcut.bytes, round.bytes);
    assert.equal(shortcut.calls, round.calls);
    assert.deepEqual(names(shortcut.reply), names(round.reply));
    assert.equal(sameEntries(mine, theirs), label === 'in sync');
    if (label === 'in sync') {
      assert.equal(round.calls, 1, 'equal roots: ExchangeRoots only');
      assert.equal(round.reply.length, 0);
    } else assert.ok(round.calls > 1 && round.reply.length > 0);
  });
}

test('a simulated cluster runs the digest exchange: far fewer RPC bytes than full-state Negotiate, same answers on a rerun', () => {
  const options = { members: 30, seed: 5, profile: 'local' as const, loss: 0, crash: 0, pauseCount: 0, pauseSeconds: 0, durationS: 60 };
  // A core that cannot give its full state keeps the periodic exchange a Negotiate (the old model).
  const negotiateOnly = (o: Parameters<typeof createSwimCore>[0]): SimCore => {
    const core = createSwimCore(o);
    return {
      tick: (now) => core.tick(now),
      receive: (from, packet, now) => core.receive(from, packet, now),
      join: (seeds, now) => core.join(seeds, now),
      onNegotiate: (remote, join, now) => core.onNegotiate(remote, join, now),
      onNegotiateReply: (id, remote, now) => core.onNegotiateReply(id, remote, now),
      onNegotiateFailed: (id, now) => core.onNegotiateFailed(id, now),
      onClosing: (name, inc, now) => core.onClosing(name, inc, now),
      leave: (now) => core.leave(now),
      nextDeadline: () => core.nextDeadline(),
      members: () => core.members(),
      member: (name) => core.member(name),
      pendingBroadcasts: () => core.pendingBroadcasts(),
    };
  };
  const digest = runScenario(options);
  const negotiate = runScenario({ ...options, createCore: negotiateOnly });
  assert.ok(digest.convergence_s !== null && negotiate.convergence_s !== null);
  assert.ok(digest.rpc_bytes_per_member_per_s !== null && negotiate.rpc_bytes_per_member_per_s !== null);
  assert.ok(digest.rpc_bytes_per_member_per_s > 0, 'the digest rounds are counted');
  assert.ok(
    digest.rpc_bytes_per_member_per_s * 5 < negotiate.rpc_bytes_per_member_per_s,
    `digest ${digest.rpc_bytes_per_member_per_s} B/s vs negotiate ${negotiate.rpc_bytes_per_member_per_s} B/s`,
  );
  assert.equal(digest.false_dead, 0);
  const strip = (r: object): string => JSON.stringify(r, (k, v: unknown) => (/^(wall|steady_wall|cpu|steady_cpu)/.test(k) ? undefined : v));
  assert.equal(strip(runScenario(options)), strip(digest));
});

test('the simulator\'s round (no trees) walks, swaps, merges and costs exactly what a round over real trees does', () => {
  const recordArb = fc.record({ name: fc.integer({ min: 0, max: 300 }), incarnation: fc.integer({ min: 1, max: 3 }) });
  const shared = Array.from({ length: 301 }, (_, i) => member(`m${i}`, 1));
  // Mostly the same (shared) record objects on both sides, as in a simulation; some differ or are missing.
  const state = (picks: { name: number; incarnation: number }[]): MemberRecord[] =>
    picks.map((p) => (p.incarnation === 1 ? shared[p.name]! : member(`m${p.name}`, p.incarnation)));
  const rounds = new DigestRounds();
  fc.assert(
    fc.property(fc.array(recordArb, { maxLength: 120 }), fc.array(recordArb, { maxLength: 120 }), (a, b) => {
      const mine = state(a);
      const theirs = state(b);
      const treeMerged: MemberRecord[][] = [];
      const modelMerged: MemberRecord[][] = [];
      const real = digestRound(new SimDigest(() => mine, () => undefined), SENDER, new SimDigest(() => theirs, (r) => treeMerged.push([...r])));
      const model = rounds.round(mine, SENDER, theirs, (r) => modelMerged.push([...r]));
      assert.equal(model.bytes, real.bytes);
      assert.equal(model.calls, real.calls);
      assert.deepEqual(model.reply, real.reply);
      assert.deepEqual(modelMerged, treeMerged);
    }),
    { numRuns: 150 },
  );
});
