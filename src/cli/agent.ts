// `swimring agent`: load the configuration, start the member, its HTTP listeners and the metrics, and
// handle SIGTERM/SIGINT as a graceful leave.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createLogger } from './logger.js';
import { loadConfig, formatHostPort, type SwimringConfig } from '../config.js';
import { buildAppApi, buildOpsApi } from '../http/index.js';
import { createMetrics, type Metrics } from '../metrics.js';
import { Agent } from '../runtime/agent.js';
import { setupApply } from '../apply/setup.js';
import { DEFAULT_LIMITS as DEFAULT_HTTP_LIMITS } from '../http/limits.js';
import { limitsForClusterSize } from '../grpc/limits.js';
import { setupAdminToken, setupControlPlane, warnIfOpen, type AdminToken } from './edge-setup.js';
import { loadLocalKeyring } from '../security/setup.js';
import { registerDigestWatchMetrics } from '../antientropy/metrics.js';
import { registerClaimMetrics } from '../ownership/metrics.js';
import { testClockOffset } from '../ownership/config.js';
import { registerOpsMetrics } from '../ops-metrics.js';
import { fastPathDescription } from '../placement/fast-path.js';
import { codeCacheOfThisProcess, saveCodeCacheAfterStart } from './code-cache.js';

/** How long after both listeners are up the code cache is written, when this start had none that fitted. */
const CODE_CACHE_SAVE_DELAY_MS = 2000;

export async function runAgent(argv: string[]): Promise<number> {
  const loaded = loadConfig({ argv, env: process.env });
  if (!loaded.ok) {
    console.error(`swimring agent: invalid configuration (${loaded.problems.length} problem${loaded.problems.length === 1 ? '' : 's'}):`);
    for (const p of loaded.problems) console.error(`  - ${p}`);
    return 2;
  }
  const config = loaded.config;
  // Keys come from the keyring file or SWIMRING_KEYRING, never a flag; a bad keyring is a config error.
  const keyring = loadLocalKeyring(config.keyringFile, process.env);
  if (!keyring.ok) {
    console.error(`swimring agent: invalid configuration (1 problem):\n  - ${keyring.problem}`);
    return 2;
  }
  const logger = await createLogger(config);
  const localKeyring = keyring.local === null ? null : keyring.local(logger);
  // Reloads happen seconds after start, once `metrics` below exists.
  const controlPlane = setupControlPlane(config, logger, (result) => metrics.tlsReloads.inc({ result }));
  if ('problem' in controlPlane) {
    console.error(`swimring agent: invalid configuration (1 problem):\n  - ${controlPlane.problem}`);
    return 2;
  }
  // --- apply: built before the agent, which serves its RPC; routes through the agent once it runs.
  const apply = setupApply({
    name: config.name,
    label: config.label,
    config: config.apply,
    route: (key) => agent.route(key),
    maxKeyBytes: DEFAULT_HTTP_LIMITS.maxKeyBytes,
    ...(controlPlane.grpcTls ? { tls: controlPlane.grpcTls.client } : {}),
    logger,
  });
  const metrics = createMetrics({ defaultMetrics: 'deferred' });
  // Owned shards and the table version are read from the agent at scrape time, after it exists.
  const observers = registerOpsMetrics(metrics, { table: () => agent.table(false) });
  const agent = new Agent({
    observers,
    grpcMethods: (peers) => apply.grpcMethods(peers),
    name: config.name,
    gossipBind: formatHostPort(config.gossipAddr),
    grpcBind: formatHostPort(config.grpcAddr),
    advertiseHost: config.advertiseHost,
    appAddr: config.appAddr ? formatHostPort(config.appAddr) : '',
    tags: config.tags,
    seeds: config.seeds.map((s) => formatHostPort(s)),
    bootstrap: config.bootstrap,
    swim: { ...config.swim },
    shards: config.shards,
    replicas: config.replicas,
    settleMs: config.settleMs,
    leaveTimeoutMs: config.leaveTimeoutMs,
    joinRetryInitialMs: config.joinRetryInitialMs,
    joinRetryMaxMs: config.joinRetryMaxMs,
    joinTimeoutMs: config.joinTimeoutMs,
    rpcTimeoutMs: config.rpcTimeoutMs,
    ...(config.dnsServers.length > 0 ? { dnsServers: config.dnsServers.map((d) => formatHostPort(d)) } : {}),
    label: config.label,
    gossipSecurity: {
      keyring: localKeyring,
      verifyIncoming: config.gossipVerifyIncoming,
      verifyOutgoing: config.gossipVerifyOutgoing,
      keyProofV1: config.keyProofV1,
    },
    appHealth: config.appHealth,
    appCheck: config.appCheck,
    drainMs: config.drainMs,
    // --- digest-watch
    antiEntropy: config.antiEntropy,
    watchQueueEvents: config.watchQueueEvents,
    claims: { ...config.claims, ...testClockOffset(process.env) },
    logger,
    ...(controlPlane.grpcTls ? { grpcTls: controlPlane.grpcTls } : {}),
    negotiateRate: controlPlane.negotiateRate,
    grpcLimits: limitsForClusterSize(config.maxClusterSize),
  });

  wireMetrics(agent, metrics);
  metrics.onScrape(() => {
    for (const [key, n] of localKeyring?.keyring.sealedCounts() ?? []) metrics.advance(metrics.keySeals, n, { key });
  });
  // --- digest-watch
  registerClaimMetrics(metrics, () => ({ service: agent.claims.service, self: agent.name }));
  registerDigestWatchMetrics(metrics, { antiEntropy: () => agent.antiEntropy?.stats, watch: () => agent.watch });
  const applyMetrics = apply.attachMetrics(metrics);
  agent.events.on('change', () => apply.peersChanged(agent.members().members));
  let app: FastifyInstance | null = null;
  let ops: FastifyInstance | null = null;
  let adminToken: AdminToken | null = null;
  try {
    adminToken = await setupAdminToken(config, logger);
    await agent.startMember();
    const httpLogger = logger.child({ component: 'http' }, { level: 'warn' });
    app = buildAppApi(agent, { metrics, logger: httpLogger, token: config.httpToken, trustLoopback: config.httpTrustLoopback, adminToken: adminToken.token, keyOps: (op) => agent.keyOp(op), apply: { applier: apply.service, metrics: applyMetrics }, listeners: () => listenerAddrs(agent, app, ops) });
    // The app API first: the co-located app waits on it, and loading grpc-js or building the ops server
    // before it listens would only delay that. The member already runs (its gRPC port is bound, calls to
    // it wait unread until the server below takes them), so /v1 answers from the first request. Kubelet's
    // first probe comes later (a probe period), so /readyz loses nothing.
    await app.listen({ host: config.httpAddr.host, port: config.httpAddr.port });
    // One turn of the event loop first, so a request that is already waiting is answered before the build.
    await new Promise((resolve) => setImmediate(resolve));
    await agent.serveControlPlane();
    metrics.addDefaultMetrics();
    ops = buildOpsApi(agent, metrics, { logger: httpLogger });
    await ops.listen({ host: config.opsAddr.host, port: config.opsAddr.port });
  } catch (err) {
    logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'could not start');
    await Promise.allSettled([agent.close(), app?.close(), ops?.close(), adminToken?.release()]);
    controlPlane.close();
    apply.close();
    return 1;
  }
  logger.info(
    {
      gossip: `udp://${agent.gossipAddr}`,
      grpc: agent.grpcAddr,
      http: `http://${listenAddr(app)}`,
      ops: `http://${listenAddr(ops)}`,
      profile: config.profile,
      seeds: config.seeds.length ? config.seeds.map((s) => formatHostPort(s)) : 'none (bootstrapping alone)',
      lookup: fastPathDescription(),
      codeCache: codeCacheOfThisProcess()?.state ?? 'off',
    },
    'swimring is running',
  );
  saveCodeCacheAfterStart(logger, CODE_CACHE_SAVE_DELAY_MS);
  warnIfOpen(config, localKeyring !== null, logger);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        // A second Ctrl-C means "now"; a repeated SIGTERM (some supervisors signal the whole process
        // group) changes nothing, and a supervisor that has run out of patience sends SIGKILL anyway.
        if (signal === 'SIGINT') {
          logger.warn({ signal }, 'second interrupt: exiting without waiting for the leave to spread');
          resolve(1);
        }
        return;
      }
      stopping = true;
      logger.info({ signal }, 'leaving gracefully');
      void gracefulStop(agent, app, ops, logger, config)
        .then(() => Promise.allSettled([adminToken?.release()]))
        .then(() => {
          controlPlane.close();
          apply.close();
          resolve(0);
        });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

async function gracefulStop(agent: Agent, app: FastifyInstance | null, ops: FastifyInstance | null, logger: Logger, config: SwimringConfig): Promise<void> {
  // The app API keeps answering routes while the leave spreads: the app may still be draining.
  await agent.leaveAndClose();
  await Promise.allSettled([app?.close(), ops?.close()]);
  logger.info({ leaveTimeoutMs: config.leaveTimeoutMs }, 'left the cluster; exiting');
}

/** Where this member listens, for GET /v1/info (the HTTP listeners once they are bound). */
function listenerAddrs(agent: Agent, app: FastifyInstance | null, ops: FastifyInstance | null): Record<string, string> {
  const out: Record<string, string> = { gossip: agent.gossipAddr, grpc: agent.grpcAddr };
  if (app?.server.listening === true) out['http'] = listenAddr(app);
  if (ops?.server.listening === true) out['ops'] = listenAddr(ops);
  return out;
}

function listenAddr(app: FastifyInstance): string {
  const a = app.server.address();
  if (a === null || typeof a === 'string') return String(a);
  return formatHostPort({ host: a.address, port: a.port });
}

/** The agent's counters and view, read into the Prometheus registry at every scrape. */
export function wireMetrics(agent: Agent, metrics: Metrics): void {
  metrics.onScrape(() => {
    const snap = agent.coreSnapshot();
    metrics.syncCoreCounters(snap.counters);
    const counts: Record<string, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
    for (const r of snap.records) counts[r.state] = (counts[r.state] ?? 0) + 1;
    metrics.setMemberCounts(counts);
    metrics.healthScore.set(snap.healthScore);
    metrics.gossipQueueDepth.set(snap.pendingBroadcasts);
    const s = agent.stats;
    metrics.advance(metrics.packetsIn, s.packetsIn);
    metrics.advance(metrics.packetsOut, s.packetsOut);
    metrics.advance(metrics.bytesIn, s.bytesIn);
    metrics.advance(metrics.bytesOut, s.bytesOut);
    metrics.advance(metrics.udpReceiveErrors, s.udpReceiveErrors);
    metrics.advance(metrics.udpReopens, s.udpReopens);
    metrics.advance(metrics.tableVersionChanges, s.tableChanges);
    metrics.advance(metrics.shardMoves, s.ownerMoves, { role: 'owner' });
    metrics.advance(metrics.shardMoves, s.replicaMoves, { role: 'replica' });
    for (const [reason, n] of s.rejects) metrics.advance(metrics.decodeRejections, n, { reason });
    for (const [effect, n] of s.effectFailures) metrics.advance(metrics.effectFailures, n, { effect });
    for (const [key, n] of s.packetsByVersion) {
      const [direction, version] = key.split(':');
      metrics.advance(metrics.gossipPacketsByVersion, n, { direction: direction ?? '', version: version ?? '' });
    }
    for (const [reason, n] of s.joinRefusals) metrics.advance(metrics.joinRefusals, n, { reason });
    for (const [key, n] of s.grpcRejects) {
      const [rpc, reason] = key.split(':');
      metrics.advance(metrics.grpcRejections, n, { rpc: rpc ?? '', reason: reason ?? '' });
    }
  });
}
