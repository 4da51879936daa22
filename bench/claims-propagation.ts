// Claim -> known by every member: how long an ownership claim takes to reach every healthy member when
// one peer hangs (a real gRPC server that takes AnnounceOwnership calls and never answers them).
// N claim services run in this process, each with its own gRPC server and client on loopback, each
// announcing to every other member and to the hung peer, through the agent's code path (ClaimService,
// per-peer queues, grpcClaimTransport). Claims are made at --rate per second on members in turn for
// --seconds; a claim's latency is from the claim call to the moment the last healthy member stores it.
// Target: p99 <= 1 s at 10 and 50 members with one hung peer.
// Run: node --import tsx bench/claims-propagation.ts [--sizes 10,50] [--rate 50] [--seconds 20] [--timeout-ms 2000]
// [--relay-group-sizes 0,16]: each size runs once per relay group size (0: every peer called directly,
// docs/ownership.md "Relays"), and reports the calls and this process's CPU (the whole cluster's) per claim.
// With --processes, every member is a real sidecar in its own process instead (after `npm run build`):
// bench/claims-propagation-processes.ts, which also takes [--members N] [--shards 16384] [--settle-s 30]
// [--start-timeout-s 240] [--idle-s 10] [--main other/dist/main.js] [--cpu-prof-dir D [--cpu-prof-members 3]]
// [--hung-phase dead|stopped] [--warm-claims 1] (claims per member before the window: an owner's first
// claim goes to every peer directly, its acks tell it who relays; 0 measures that cold start too).
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { ControlPlaneClient } from '../src/grpc/client.js';
import { controlPlaneDefinition } from '../src/grpc/proto.js';
import { startControlPlaneServer, type ControlPlaneServer } from '../src/grpc/server.js';
import { DEFAULT_CLAIM_CONFIG, FOREIGN_EXPIRY_GRACE_MS } from '../src/ownership/config.js';
import { grpcClaimTransport, ownershipExtraMethods } from '../src/ownership/grpc.js';
import { ClaimService, type Peer } from '../src/ownership/service.js';
import { realClock } from '../src/shell/real-clock.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10,50' },
    /** One size: the same as --sizes N. */
    members: { type: 'string' },
    rate: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '20' },
    'timeout-ms': { type: 'string', default: '2000' },
    processes: { type: 'boolean', default: false },
    shards: { type: 'string', default: '16384' },
    'settle-s': { type: 'string', default: '30' },
    'start-timeout-s': { type: 'string', default: '240' },
    'idle-s': { type: 'string', default: '10' },
    main: { type: 'string' },
    'cpu-prof-dir': { type: 'string' },
    'cpu-prof-members': { type: 'string', default: '3' },
    'hung-phase': { type: 'string', default: 'dead' },
    'warm-claims': { type: 'string', default: '1' },
    'relay-group-sizes': { type: 'string', default: String(DEFAULT_CLAIM_CONFIG.relayGroupSize) },
  },
});

interface Member {
  readonly name: string;
  readonly service: ClaimService;
  readonly server: ControlPlaneServer;
  readonly client: ControlPlaneClient;
}

async function startHungPeer(): Promise<{ addr: string; stop(): void }> {
  const server = new grpc.Server();
  server.addService(controlPlaneDefinition(), { AnnounceOwnership: () => undefined, AnnounceExpiry: () => undefined });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { addr: `127.0.0.1:${port}`, stop: () => server.forceShutdown() };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function run(size: number, rate: number, seconds: number, timeoutMs: number, relayGroupSize: number): Promise<void> {
  const hung = await startHungPeer();
  let peers: Peer[] = [];
  const members: Member[] = [];
  /** claim id -> [claimed at, members that have it] */
  const seen = new Map<string, { at: number; count: number; doneAt: number | null }>();
  for (let i = 0; i < size; i++) {
    const name = `m${i}`;
    const client = new ControlPlaneClient({ sender: name });
    const service = new ClaimService({
      timers: realClock,
      self: () => ({ name, lifeId: `L${name}`, incarnation: 1, serving: true }),
      peers: () => peers.filter((p) => p.name !== name),
      memberStatus: () => 'live',
      transport: grpcClaimTransport(client),
      options: { ...DEFAULT_CLAIM_CONFIG, defaultTtlMs: null, foreignExpiryGraceMs: FOREIGN_EXPIRY_GRACE_MS, rpcTimeoutMs: timeoutMs, relayGroupSize },
    });
    service.store.onChange((change) => {
      if (change.kind !== 'set' || change.record.released) return;
      const s = seen.get(change.record.id);
      if (s === undefined || change.previous !== undefined) return;
      s.count++;
      if (s.count === size && s.doneAt === null) s.doneAt = performance.now();
    });
    const server = await startControlPlaneServer({
      bind: '127.0.0.1:0',
      handlers: { negotiate: () => [], closing: () => undefined, ping: () => ({ name, members: size, healthScore: 0, tableVersion: 'v' }) },
      extraMethods: ownershipExtraMethods({ service, checkContext: () => undefined, tableVersion: () => 'v', defaultPageSize: 1000, onReject: () => undefined }),
    });
    client.fitPeers(size + 1);
    members.push({ name, service, server, client });
  }
  peers = [...members.map((m) => ({ name: m.name, grpcAddr: `127.0.0.1:${m.server.port}` })), { name: 'hung', grpcAddr: hung.addr }];
  const total = Math.round(rate * seconds);
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  for (let n = 0; n < total; n++) {
    const due = start + (n * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const id = `cart-${size}-${n}`;
    seen.set(id, { at: performance.now(), count: 0, doneAt: null });
    members[n % size]!.service.claim([id]);
  }
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline && [...seen.values()].some((s) => s.doneAt === null)) await sleep(50);
  const cpu = process.cpuUsage(cpuBefore);
  const latencies = [...seen.values()].filter((s) => s.doneAt !== null).map((s) => s.doneAt! - s.at).sort((a, b) => a - b);
  const sum = (f: (c: ClaimService['counters']) => number): number => members.reduce((t, m) => t + f(m.service.counters), 0);
  const calls = sum((c) => c.announcementsSent + c.expiryAnnouncementsSent);
  const missing = total - latencies.length;
  const dropped = members.reduce((sum, m) => sum + m.service.propagation.counters.dropped, 0);
  const hungPending = members.reduce((sum, m) => sum + m.service.propagation.pendingFor('hung'), 0);
  console.log(
    `members ${size} (+1 hung), ${total} claims at ${rate}/s: known by every member p50 ${percentile(latencies, 50).toFixed(1)} ms, ` +
      `p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${(latencies[latencies.length - 1] ?? NaN).toFixed(1)} ms; ` +
      `never everywhere ${missing}; dropped for the hung peer ${dropped}, still queued for it ${hungPending}`,
  );
  console.log(
    `  relay group size ${relayGroupSize}: ${(calls / total).toFixed(1)} calls per claim (${size} peers to reach, the hung one included); ` +
      `relay batches ${sum((c) => c.relayBatches)}, fallbacks ${sum((c) => c.relayFallbacks)}, records forwarded ${sum((c) => c.recordsRelayed)}; ` +
      `CPU of the whole cluster (this process) ${((cpu.user + cpu.system) / 1000 / total).toFixed(2)} ms per claim, ` +
      `${((cpu.user + cpu.system) / 1000 / total / size).toFixed(3)} ms per claim per member`,
  );
  for (const m of members) {
    m.service.close();
    m.client.close();
    await m.server.close();
  }
  hung.stop();
}

const sizes = (values.members ?? values.sizes).split(',').map(Number);
if (values.processes) {
  const { runProcessBench } = await import('./claims-propagation-processes.js');
  const { HUNG_PHASES } = await import('./claims-propagation-phases.js');
  const hungPhase = (v: string): (typeof HUNG_PHASES)[number] => {
    const phase = HUNG_PHASES.find((p) => p === v);
    if (phase === undefined) throw new RangeError(`--hung-phase: one of ${HUNG_PHASES.join(', ')}, got ${v}`);
    return phase;
  };
  await runProcessBench({
    sizes,
    rate: Number(values.rate),
    seconds: Number(values.seconds),
    shards: Number(values.shards),
    settleS: Number(values['settle-s']),
    startTimeoutS: Number(values['start-timeout-s']),
    idleS: Number(values['idle-s']),
    cpuProfMembers: Number(values['cpu-prof-members']),
    hungPhase: hungPhase(values['hung-phase']),
    warmClaims: ((v: number) => {
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`--warm-claims: an integer >= 0, got ${values['warm-claims']}`);
      return v;
    })(Number(values['warm-claims'])),
    ...(values.main === undefined ? {} : { main: resolve(values.main) }),
    ...(values['cpu-prof-dir'] === undefined ? {} : { cpuProfDir: resolve(values['cpu-prof-dir']) }),
  });
} else {
  for (const size of sizes) {
    for (const group of values['relay-group-sizes'].split(',').map(Number)) await run(size, Number(values.rate), Number(values.seconds), Number(values['timeout-ms']), group);
  }
}
