// Digest anti-entropy vs full-state exchange after a healed partition: 10 members, 100,000 claims.
//
// Each member is a real control-plane gRPC server on 127.0.0.1 with the real digest RPCs, the real
// claim store (src/ownership/store.ts) and the real tree; members run in this one process and their
// claim stores are seeded directly (the claim path of real sidecar processes was not wired when this
// was written). A "partition" is seeded as what it leaves behind: the two halves' stores diverge, then
// rounds run as the agent runs them (every member, once per push-pull interval, with one random peer)
// until every member holds the same claims. Two divergence scenarios:
//   churn  - during the partition each side claims new ids and releases some (nobody declared dead)
//   death  - each side also dropped every claim of the other side's members (released on death)
//
//   node --import tsx bench/antientropy/run.ts [--claims 100000] [--members 10] [--churn 2000]
//        [--scenarios churn,death] [--modes digest,full] [--json]
import { performance } from 'node:perf_hooks';
import { digestServerMethods, GrpcDigestPeer, type WireCounter } from '../../src/antientropy/grpc.js';
import { DigestResponder } from '../../src/antientropy/responder.js';
import { LocalDigest } from '../../src/antientropy/side.js';
import { syncWith, type SyncMode } from '../../src/antientropy/sync.js';
import type { MemberRecord } from '../../src/core/types.js';
import { ControlPlaneClient } from '../../src/grpc/client.js';
import { DEFAULT_LIMITS } from '../../src/grpc/limits.js';
import { startControlPlaneServer, type ControlPlaneServer } from '../../src/grpc/server.js';
import { ClaimStore } from '../../src/ownership/store.js';
import type { ClaimRecord } from '../../src/ownership/types.js';
import { memberRecord } from '../../test/support/member-record.js';
import { mulberry32 } from '../mulberry32.js';

interface Args {
  claims: number;
  members: number;
  churn: number;
  json: boolean;
  scenarios: ('churn' | 'death')[];
  modes: SyncMode[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { claims: 100_000, members: 10, churn: 2000, json: false, scenarios: ['churn', 'death'], modes: ['digest', 'full'] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') args.json = true;
    else if (a === '--claims') args.claims = Number(argv[++i]);
    else if (a === '--members') args.members = Number(argv[++i]);
    else if (a === '--churn') args.churn = Number(argv[++i]);
    else if (a === '--scenarios') args.scenarios = (argv[++i] ?? '').split(',').filter((x): x is 'churn' | 'death' => x === 'churn' || x === 'death');
    else if (a === '--modes') args.modes = (argv[++i] ?? '').split(',').filter((x): x is SyncMode => x === 'digest' || x === 'full');
  }
  return args;
}


interface Member {
  readonly name: string;
  readonly store: ClaimStore;
  readonly digest: LocalDigest;
  readonly server: ControlPlaneServer;
  readonly addr: string;
}

const memberRecords = (n: number): MemberRecord[] =>
  Array.from({ length: n }, (_, i) => memberRecord(`m${i}`, { lifeId: `life-${i}`, gossipAddr: `10.0.0.${i + 1}:7946`, grpcAddr: `10.0.0.${i + 1}:7947` }));

async function startMember(name: string, records: MemberRecord[]): Promise<Member> {
  const store = new ClaimStore({ limits: { maxRecords: 1_000_000, maxClaimsPerOwner: 1_000_000 } });
  const digest = new LocalDigest({ memberState: () => records, claims: store });
  const responder = new DigestResponder(digest, { mergeMembers: () => {}, mergeClaims: (r) => void store.merge(r) });
  const server = await startControlPlaneServer({
    bind: '127.0.0.1:0',
    handlers: { negotiate: () => [], closing: () => {}, ping: () => ({ name, members: 0, healthScore: 0, tableVersion: '' }) },
    extraMethods: digestServerMethods({ responder, limits: DEFAULT_LIMITS, checkContext: () => {}, onReject: () => {} }),
  });
  return { name, store, digest, server, addr: `127.0.0.1:${server.port}` };
}

function claim(id: string, owner: string, at: number, released = false): ClaimRecord {
  return { id, owner, ownerLifeId: `life-${owner.slice(1)}`, ownerIncarnation: 1, claimedAtMs: at, claimedAtLogical: 0, expiresAtMs: null, ttlMs: null, fence: BigInt(at) << 16n, released };
}

/** Seeds every store with the shared claims, then the partition's divergence. */
function seed(members: readonly Member[], args: Args, scenario: 'churn' | 'death'): void {
  const random = mulberry32(42);
  const base: ClaimRecord[] = [];
  for (let i = 0; i < args.claims; i++) base.push(claim(`actor-${i}`, `m${i % args.members}`, 1_000 + i));
  for (const m of members) m.store.merge(base);
  const half = Math.floor(members.length / 2);
  const sides = [members.slice(0, half), members.slice(half)];
  for (let s = 0; s < 2; s++) {
    const side = sides[s]!;
    const owners = side.map((m) => m.name);
    const changes: ClaimRecord[] = [];
    for (let k = 0; k < args.churn; k++) {
      const owner = owners[Math.floor(random() * owners.length)]!;
      changes.push(claim(`new-${s}-${k}`, owner, 2_000_000 + k));
      // A release of one of the owner's existing claims (same run: release beats the live claim).
      const idx = Math.floor(random() * args.claims);
      const victim = base[idx]!;
      if (owners.includes(victim.owner)) changes.push({ ...victim, released: true });
    }
    for (const m of side) m.store.merge(changes);
    if (scenario === 'death') {
      const others = sides[1 - s]!.map((m) => m.name);
      for (const m of side) for (const o of others) m.store.dropOwner(o);
    }
  }
}

function claimRoots(members: readonly Member[]): Set<string> {
  const out = new Set<string>();
  for (const m of members) {
    const r = m.digest.tree('claims')!.root();
    out.add(`${r.hi}:${r.lo}`);
  }
  return out;
}

interface Outcome {
  scenario: string;
  mode: SyncMode;
  rounds: number;
  exchanges: number;
  bytesSent: number;
  bytesReceived: number;
  wallMs: number;
  claimsReceived: number;
  steadyBytesPerExchange: number;
}

async function run(args: Args, scenario: 'churn' | 'death', mode: SyncMode): Promise<Outcome> {
  const records = memberRecords(args.members);
  const members = await Promise.all(records.map((r) => startMember(r.name, records)));
  const client = new ControlPlaneClient({ sender: 'bench' });
  try {
    seed(members, args, scenario);
    const random = mulberry32(7);
    const wire: WireCounter = { sent: 0, received: 0, calls: 0 };
    let rounds = 0;
    let exchanges = 0;
    let claimsReceived = 0;
    const started = performance.now();
    // One round = every member, once, with one random other member (one push-pull interval).
    while (claimRoots(members).size > 1 && rounds < 50) {
      rounds++;
      await Promise.all(
        members.map(async (m, i) => {
          let j = Math.floor(random() * (members.length - 1));
          if (j >= i) j++;
          const peer = new GrpcDigestPeer(client, members[j]!.addr, 60_000, DEFAULT_LIMITS, wire);
          const result = await syncWith(m.digest, peer, mode);
          exchanges++;
          claimsReceived += result.claims.length;
          m.store.merge(result.claims);
        }),
      );
    }
    const wallMs = performance.now() - started;
    // Steady state: one exchange between members that agree.
    const steady: WireCounter = { sent: 0, received: 0, calls: 0 };
    await syncWith(members[0]!.digest, new GrpcDigestPeer(client, members[1]!.addr, 60_000, DEFAULT_LIMITS, steady), mode);
    return {
      scenario,
      mode,
      rounds,
      exchanges,
      bytesSent: wire.sent,
      bytesReceived: wire.received,
      wallMs: Math.round(wallMs),
      claimsReceived,
      steadyBytesPerExchange: steady.sent + steady.received,
    };
  } finally {
    client.close();
    await Promise.all(members.map((m) => m.server.close()));
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const outcomes: Outcome[] = [];
  for (const scenario of args.scenarios) {
    for (const mode of args.modes) {
      const o = await run(args, scenario, mode);
      outcomes.push(o);
      process.stderr.write(`${scenario}/${mode}: ${o.rounds} rounds, ${o.bytesSent + o.bytesReceived} bytes, ${o.wallMs} ms\n`);
    }
  }
  if (args.json) {
    console.log(JSON.stringify({ args, outcomes }, null, 2));
    return;
  }
  const fmt = (n: number): string => n.toLocaleString('en-US');
  console.log(`${args.members} members, ${fmt(args.claims)} claims, churn ${fmt(args.churn)} claims + releases per side\n`);
  console.log('| scenario | exchange | rounds to one view | bytes sent + received (all members) | exchange work, wall ms | claims received | bytes per exchange once in sync |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const o of outcomes) {
    console.log(`| ${o.scenario} | ${o.mode} | ${o.rounds} | ${fmt(o.bytesSent + o.bytesReceived)} | ${fmt(o.wallMs)} | ${fmt(o.claimsReceived)} | ${fmt(o.steadyBytesPerExchange)} |`);
  }
  for (const scenario of args.scenarios) {
    const d = outcomes.find((o) => o.scenario === scenario && o.mode === 'digest');
    const f = outcomes.find((o) => o.scenario === scenario && o.mode === 'full');
    if (!d || !f) continue;
    const ratio = (a: number, b: number): string => (b === 0 ? '-' : (a / b).toFixed(3));
    console.log(
      `\n${scenario}: digest/full bytes ${ratio(d.bytesSent + d.bytesReceived, f.bytesSent + f.bytesReceived)}, wall ${ratio(d.wallMs, f.wallMs)}, rounds ${d.rounds} vs ${f.rounds}; in sync: ${fmt(d.steadyBytesPerExchange)} vs ${fmt(f.steadyBytesPerExchange)} bytes per exchange`,
    );
  }
}

await main();
