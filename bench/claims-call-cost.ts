// What one claim announcement costs in CPU, split into the call and the records it carries: two claim
// services in this process, each with its gRPC server and client on loopback (the agent's code path:
// ClaimService, per-peer queues, grpcClaimTransport, the ownership handlers), one announcing to the
// other. For each batch size, claims are made and sent one batch per call, each call waited for; the
// process CPU (client and server side together) is divided by the calls and by the records.
// A claim reaches every other member in its own call unless that member's queue already holds others
// (docs/ownership.md, "Broadcast"), so at N members a claim costs about N - 1 calls cluster-wide.
// Run: node --import tsx bench/claims-call-cost.ts [--calls 1000] [--batches 1,10,100]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ControlPlaneClient } from '../src/grpc/client.js';
import { startControlPlaneServer } from '../src/grpc/server.js';
import { DEFAULT_CLAIM_CONFIG, FOREIGN_EXPIRY_GRACE_MS } from '../src/ownership/config.js';
import { grpcClaimTransport, ownershipExtraMethods } from '../src/ownership/grpc.js';
import { ClaimService, type Peer } from '../src/ownership/service.js';
import { realClock } from '../src/shell/real-clock.js';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '1000' }, batches: { type: 'string', default: '1,10,100' } } });

let peers: Peer[] = [];

async function member(name: string): Promise<{ service: ClaimService; close(): Promise<void>; addr(): string }> {
  const client = new ControlPlaneClient({ sender: name });
  const service = new ClaimService({
    self: () => ({ name, lifeId: `L${name}`, incarnation: 1, serving: true }),
    peers: () => peers.filter((p) => p.name !== name),
    memberStatus: () => 'live',
    transport: grpcClaimTransport(client),
    timers: realClock,
    options: { ...DEFAULT_CLAIM_CONFIG, defaultTtlMs: null, foreignExpiryGraceMs: FOREIGN_EXPIRY_GRACE_MS, rpcTimeoutMs: 5000 },
  });
  const server = await startControlPlaneServer({
    bind: '127.0.0.1:0',
    handlers: { negotiate: () => [], closing: () => undefined, ping: () => ({ name, members: 2, healthScore: 0, tableVersion: 'v' }) },
    extraMethods: ownershipExtraMethods({ service, checkContext: () => undefined, tableVersion: () => 'v', defaultPageSize: 1000, onReject: () => undefined }),
  });
  return {
    service,
    addr: () => `127.0.0.1:${server.port}`,
    close: async () => {
      service.close();
      client.close();
      await server.close();
    },
  };
}

const a = await member('a');
const b = await member('b');
peers = [
  { name: 'a', grpcAddr: a.addr() },
  { name: 'b', grpcAddr: b.addr() },
];
let next = 0;
const calls = Number(values.calls);
// The first round warms the code paths up and is not reported.
for (const [i, perCall] of [1, ...values.batches.split(',').map(Number)].entries()) {
  const before = process.cpuUsage();
  const startedAt = performance.now();
  for (let c = 0; c < calls; c++) {
    a.service.claim(Array.from({ length: perCall }, () => `id-${next++}`));
    a.service.flush();
    await a.service.drained();
  }
  const used = process.cpuUsage(before);
  const cpuMs = (used.user + used.system) / 1000;
  if (i === 0) continue;
  console.log(
    `${perCall} records per call, ${calls} calls: CPU ${(cpuMs / calls).toFixed(3)} ms per call (client and server), ` +
      `${(cpuMs / calls / perCall).toFixed(3)} ms per record; wall ${((performance.now() - startedAt) / calls).toFixed(2)} ms per call`,
  );
}
await a.close();
await b.close();
