// The shell around the SWIM core: owns the real clock, the one timer, the UDP socket and the gRPC
// server/client; feeds the core and carries out the effects it returns; keeps the ownership table in step
// with the membership view and tells watchers what moved.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { wireMeasure } from '../codec/index.js';
import type { SwimConfig } from '../core/config.js';
import { seededRandom } from '../core/random.js';
import { SwimCore } from '../core/swim.js';
import type { Effect, MemberMeta, MemberRecord, MembershipEvent } from '../core/types.js';
import { ControlPlaneCallError, ControlPlaneClient } from '../grpc/client.js';
import type { CallCredentials } from '../grpc/auth-gate.js';
import { reject, type Rejection } from '../grpc/errors.js';
import { checkAddress } from '../grpc/convert.js';
import { ControlPlaneError, startControlPlaneServer, type CallContext, type ExtraMethods } from '../grpc/server.js';
import type { NegotiateRateLimiter } from '../grpc/rate-limit.js';
import type { ClientTls } from '../grpc/tls.js';
import type { ServerCredentials } from '@grpc/grpc-js';
import { status as grpcStatus } from '@grpc/grpc-js';
import { formatHostPort, mustParseHostPort } from '../net/address.js';
import type { PlacementTable } from '../placement/index.js';
import { startUdpTransport, type PacketTransport, type UdpSocketFactory } from '../transport/udp.js';
import { AppHealthChecker, type AppHealthTarget } from './app-health.js';
import { closingRefusal } from './closing-check.js';
import { SeedResolver } from './discovery.js';
import { compactTableOf } from './compact-table.js';
import { RouteIndex } from './route-index.js';
import { TableBuilder, type BuiltTable } from './table-builder.js';
import { ReadinessRule } from './readiness.js';
import type { AgentView, CompactTableView, ForceLeaveResult, HealthView, PeerHealth, MemberView, RouteAnswer, RouteEncoder, TableView, WatchEvent } from './view.js';
import type { AgentStats } from './stats.js';
import { GossipEnvelope } from '../security/envelope.js';
import { KeyProver } from '../security/key-proof.js';
import { fanOutKeyOp } from '../security/key-fanout.js';
import type { KeyOp, KeyOpSummary, LocalKeyring } from '../security/key-ops.js';
import { callKeyringOp, keyringServerMethods } from '../security/grpc-keyring.js';
import { callForceLeave, fanOutForceLeave, FORCE_LEAVE_CALL_MAX_MS, forceLeaveServerMethods, type ForceLeaveSummary } from './force-leave.js';
import { newAgentStats } from './stats.js';
import { AgentClaims } from '../ownership/agent-claims.js';
import { agentClaimsOptions, DEFAULT_CLAIM_CONFIG, type ClaimConfig } from '../ownership/config.js';
import { AntiEntropy, type AntiEntropyMode } from '../antientropy/runtime.js';
import { watchServer, type WatchServer } from '../grpc/watch.js';
import { DEFAULT_LIMITS, type ControlPlaneLimits } from '../grpc/limits.js';
import type { ClaimStoreView } from '../ownership/types.js';
import { NO_OBSERVERS, type RuntimeObservers } from '../ops-metrics.js';
import { ProbeTimer } from './probe-timer.js';
import { pingPeers } from './peer-health.js';

export interface AgentOptions {
  readonly name: string;
  readonly gossipBind: string;
  readonly grpcBind: string;
  /** Host peers use to reach this member; the bound ports are appended. */
  readonly advertiseHost: string;
  readonly appAddr: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly seeds: readonly string[];
  /** With seeds: form a new cluster alone when none answers (the first pod of a headless Service). */
  readonly bootstrap: boolean;
  readonly swim: SwimConfig;
  readonly shards: number;
  readonly replicas: number;
  /** Readiness needs the member view unchanged this long. */
  readonly settleMs: number;
  /** Bound on the wait for leave news to spread before the process may exit. */
  readonly leaveTimeoutMs: number;
  readonly joinRetryInitialMs: number;
  readonly joinRetryMaxMs: number;
  /** With bootstrap: how long to try the seeds before forming a cluster alone. */
  readonly joinTimeoutMs: number;
  readonly rpcTimeoutMs: number;
  readonly dnsServers?: readonly string[];
  /** The co-located app's readiness check; null: the app is taken as ready. */
  readonly appHealth: AppHealthTarget | null;
  readonly appCheck: { readonly intervalMs: number; readonly timeoutMs: number; readonly failureThreshold: number; readonly successThreshold: number };
  /** On leave: time between giving up shards (serving=false) and announcing the leave, for in-flight work. */
  readonly drainMs: number;
  /** Cluster label: control-plane calls carrying another label are refused. */
  readonly label: string | null;
  /** Gossip encryption (src/security); absent: no keyring, plaintext. */
  readonly gossipSecurity?: { readonly keyring: LocalKeyring | null; readonly verifyIncoming: boolean; readonly verifyOutgoing: boolean };
  readonly logger: Logger;
  /** --- apply: RPCs implemented outside the runtime (Apply: src/apply/service.ts). */
  readonly grpcMethods?: (peers: PeerChecks) => ExtraMethods;
  // --- sec-edge: control-plane TLS (src/grpc/tls.ts) and the Negotiate rate limit
  readonly grpcTls?: { readonly server: ServerCredentials; readonly client: ClientTls };
  readonly negotiateRate?: NegotiateRateLimiter;
  // --- digest-watch: periodic anti-entropy mode (default digest), gRPC watch queue bound
  readonly antiEntropy?: AntiEntropyMode;
  // --- claims: ownership claims (src/ownership); default DEFAULT_CLAIM_CONFIG
  readonly claims?: ClaimConfig;
  readonly watchQueueEvents?: number;
  /** Measurements taken as events happen (probe round trips, table builds, gRPC calls); default none. */
  readonly observers?: RuntimeObservers;
  /** /livez fails once the gossip socket has not been receiving this long; default RECEIVE_DOWN_LIMIT_MS. */
  readonly receiveDownLimitMs?: number;
  /** Makes the gossip socket (tests inject socket errors through it). */
  readonly udpSocketFactory?: UdpSocketFactory;
  /** Control-plane limits (limitsForClusterSize); default DEFAULT_LIMITS. */
  readonly grpcLimits?: ControlPlaneLimits;
}

/**
 * A gossip socket that has failed is reopened within about a second (DEFAULT_REOPEN_BACKOFF); one that
 * still cannot receive after this long will not recover by itself, and a restart is the way out.
 */
export const RECEIVE_DOWN_LIMIT_MS = 5000;

/** --- apply: what RPCs implemented outside the runtime need to trust and reach peers as it does. */
export interface PeerChecks {
  /** Throws a ControlPlaneError (label mismatch, missing key proof) for a caller this member refuses. */
  checkContext(ctx: CallContext): void;
  /** For a client's keyProof option; null without a keyring. */
  readonly keyProof: (() => Uint8Array | null) | null;
}

const GRPC_DEFAULT_PORT = 7947;
/** A status page waits at most this long for peers' health scores. */
const PEER_HEALTH_TIMEOUT_MS = 1000;

export class Agent implements AgentView {
  readonly name: string;
  readonly stats: AgentStats = newAgentStats();
  /** 'change' fires after every batch of effects that changed the view (metrics refresh hooks onto it). */
  readonly events = new EventEmitter();

  private core!: SwimCore;
  private udp!: PacketTransport;
  private grpcServer!: Awaited<ReturnType<typeof startControlPlaneServer>>;
  private readonly grpcClient: ControlPlaneClient;
  private readonly seedResolver: SeedResolver;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private current: PlacementTable;
  private readonly tables: TableBuilder;
  /** Readiness waits for the first table built from the member view. */
  private tableBuilt = false;
  /** How many owners the last table asked for had: none (no app serves yet) is answered by the empty table. */
  private ownersWanted = 0;
  private routeIndex: RouteIndex;
  private readonly watchers = new Set<(e: WatchEvent) => void>();
  private joined = false;
  /** When the member joined or bootstrapped (the bound on waiting for a quiet view counts from here). */
  private joinedAt: number | null = null;
  private readonly readinessRule: ReadinessRule;
  private leaving = false;
  /** Leave started: not serving any more, Closing not yet announced. */
  private draining = false;
  private appReady: boolean;
  private appChecker: AppHealthChecker | null = null;
  private closed = false;
  private lastViewChangeAt = 0;
  private viewDirty = false;
  private joinTimer: NodeJS.Timeout | null = null;
  private loopLagMs = 0;
  private lagTimer: NodeJS.Timeout | null = null;
  gossipAddr = '';
  grpcAddr = '';
  /** --- digest-watch: Merkle-digest anti-entropy and the gRPC watch stream. */
  antiEntropy!: AntiEntropy;
  watch!: WatchServer;
  private claimStore: ClaimStoreView | null = null;
  /** --- claims: ownership claims, their RPCs and the route override (src/ownership). */
  readonly claims: AgentClaims;
  /** Label and encryption around every UDP packet (docs/wire.md "Envelope"). */
  private readonly envelope: GossipEnvelope;
  /** With a keyring: proves (and checks) holding the gossip key on gRPC calls. */
  private readonly keyProver: KeyProver | null;
  private readonly observers: RuntimeObservers;
  private readonly probeTimer: ProbeTimer;

  constructor(private readonly opts: AgentOptions) {
    this.name = opts.name;
    this.observers = opts.observers ?? NO_OBSERVERS;
    this.probeTimer = new ProbeTimer((seconds) => this.observers.probeRoundTrip(seconds));
    this.envelope = new GossipEnvelope({
      label: opts.label ?? '',
      keyring: opts.gossipSecurity?.keyring?.keyring ?? null,
      verifyIncoming: opts.gossipSecurity?.verifyIncoming ?? true,
      verifyOutgoing: opts.gossipSecurity?.verifyOutgoing ?? true,
    });
    const keyring = opts.gossipSecurity?.keyring?.keyring;
    this.keyProver = keyring ? new KeyProver(keyring, opts.label ?? '') : null;
    this.appReady = opts.appHealth === null;
    this.grpcClient = new ControlPlaneClient({
      sender: opts.name,
      ...(opts.grpcLimits ? { limits: opts.grpcLimits } : {}),
      ...(opts.label ? { label: opts.label } : {}),
      ...(opts.grpcTls ? { tls: opts.grpcTls.client } : {}),
      ...(this.keyProver ? { keyProof: () => this.keyProver?.current() ?? null } : {}),
    });
    this.seedResolver = new SeedResolver({
      defaultPort: GRPC_DEFAULT_PORT,
      ...(opts.dnsServers ? { dnsServers: opts.dnsServers } : {}),
    });
    this.readinessRule = new ReadinessRule(opts.settleMs);
    this.tables = new TableBuilder(
      { shards: opts.shards, replicas: opts.replicas },
      (built) => this.onTableBuilt(built),
      (message) => opts.logger.error(message),
    );
    this.current = this.tables.emptyTable();
    this.routeIndex = new RouteIndex(this.current, new Map());
    // --- claims
    this.claims = new AgentClaims({
      self: () => ({ name: this.name, lifeId: this.core.self.lifeId, incarnation: this.core.self.incarnation, serving: this.wantServing() && !this.closed }),
      ringRoute: (key) => this.routeIndex.route(key),
      tableVersion: () => this.current.version,
      client: this.grpcClient,
      checkContext: (ctx) => {
        this.checkLabel(ctx.label);
        this.checkKeyProof(ctx.keyProof);
      },
      options: agentClaimsOptions(opts.claims ?? DEFAULT_CLAIM_CONFIG, opts.rpcTimeoutMs),
      logger: opts.logger,
      publish: (event) => this.publish(event),
    });
    this.setClaimStore(this.claims.service.store);
  }

  private now(): number {
    return performance.now();
  }

  async start(): Promise<void> {
    const log = this.opts.logger;
    this.udp = await startUdpTransport({
      bind: this.opts.gossipBind,
      onPacket: (from, bytes) => this.onDatagram(from, bytes),
      onSendError: (to, err) => {
        this.stats.sendErrors++;
        log.debug({ to, err: err.message }, 'udp send failed');
      },
      onOversize: () => this.stats.countReject('too-large'),
      onReceiveError: (err, retryInMs) => {
        this.stats.udpReceiveErrors++;
        log.warn({ err: err.message, retryInMs }, 'gossip socket failed: reopening it (until then no probe is heard)');
      },
      onReopened: (attempts) => {
        this.stats.udpReopens++;
        log.warn({ attempts, gossip: this.udp.localAddress }, 'gossip socket reopened: receiving again');
      },
      ...(this.opts.udpSocketFactory ? { createSocket: this.opts.udpSocketFactory } : {}),
    });
    const onDigestReject = (rpc: string, rejection: { reason: string; message: string }): void => {
      this.countGrpcReject(rpc, rejection.reason, rejection.message);
    };
    this.antiEntropy = new AntiEntropy({
      mode: this.opts.antiEntropy ?? 'digest',
      client: this.grpcClient,
      limits: this.opts.grpcLimits ?? DEFAULT_LIMITS,
      rpcTimeoutMs: this.opts.rpcTimeoutMs,
      memberState: () => this.core.fullState(),
      mergeMembers: (records) => this.run((now) => this.core.onNegotiate(records, false, now).effects),
      // FetchEntries merges members and claims like Negotiate does: the same label and key-proof gate.
      checkContext: (ctx) => {
        this.checkLabel(ctx.label);
        this.checkKeyProof(ctx.keyProof);
      },
      onReject: onDigestReject,
      logger: log,
    });
    if (this.claimStore) this.antiEntropy.attachClaims(this.claimStore);
    this.watch = watchServer({
      view: this,
      maxQueuedEvents: this.opts.watchQueueEvents ?? 1024,
      maxStreams: 64,
      // Names, addresses and tags of every member: the same label and key-proof gate as Negotiate.
      checkContext: (ctx) => {
        this.checkLabel(ctx.label);
        this.checkKeyProof(ctx.keyProof);
      },
      onReject: onDigestReject,
      onEnd: (reason) => {
        if (reason !== 'client_closed') log.info({ reason }, 'gRPC watch stream ended');
      },
    });
    this.grpcServer = await startControlPlaneServer({
      bind: this.opts.grpcBind,
      ...(this.opts.grpcLimits ? { limits: this.opts.grpcLimits } : {}),
      ...(this.opts.grpcTls ? { credentials: this.opts.grpcTls.server } : {}),
      ...(this.opts.negotiateRate ? { negotiateRate: this.opts.negotiateRate } : {}),
      onCall: (rpc, code, seconds) => this.observers.grpcCall(rpc, code, seconds),
      handlers: {
        // Label and key proof before the rate limit and the handlers (authorize), and, from callers
        // that send them as metadata, before the body is read (gate below).
        authorize: (ctx) => {
          this.checkLabel(ctx.label);
          this.checkKeyProof(ctx.keyProof);
        },
        negotiate: (remote, join) => this.handleNegotiate(remote, join),
        closing: (name, incarnation, ctx) => {
          this.checkClosingCaller(name, ctx);
          this.run((now) => this.core.onClosing(name, incarnation, now));
        },
        ping: () => ({
          name: this.name,
          members: this.core.members().length,
          liveMembers: this.core.aliveCount(),
          healthScore: this.core.healthScore(),
          tableVersion: this.current.version,
          claims: this.claimStore?.claimCount() ?? 0,
        }),
      },
      onReject: (rpc, reason) => {
        this.countGrpcReject(rpc, reason);
      },
      gate: { check: (rpc, credentials) => this.checkCallCredentials(rpc, credentials) },
      extraMethods: {
        ...keyringServerMethods({
          local: this.opts.gossipSecurity?.keyring ?? null,
          label: this.opts.label ?? '',
          checkContext: (ctx) => this.checkLabel(ctx.label),
          onReject: (rpc, rejection) => {
            this.countGrpcReject(rpc, rejection.reason, rejection.message);
          },
          onApplied: (op, sender, result) => log.info({ op, by: sender, ok: result.ok, error: result.error, keys: result.keys.length }, 'keyring operation'),
        }),
        ...forceLeaveServerMethods({
          forceLeave: (name) => this.forceLeave(name),
          stateOf: (name) => this.core.member(name)?.state ?? null,
          checkContext: (ctx) => {
            this.checkLabel(ctx.label);
            this.checkKeyProof(ctx.keyProof);
          },
          onReject: (rpc, rejection) => {
            this.countGrpcReject(rpc, rejection.reason, rejection.message);
          },
          onApplied: (name, sender) => log.info({ member: name, by: sender }, 'force-leave asked by another member'),
        }),
        // --- apply: Apply RPC, implemented in src/apply
        ...this.opts.grpcMethods?.({
          checkContext: (ctx) => {
            this.checkLabel(ctx.label);
            this.checkKeyProof(ctx.keyProof);
          },
          keyProof: this.keyProver ? () => this.keyProver?.current() ?? null : null,
        }),
        // --- digest-watch: ExchangeRoots, GetLeaves, FetchEntries, WatchMembership
        ...this.antiEntropy.serverMethods(),
        ...this.watch.methods,
        // --- claims: GetLocalActorIds, AnnounceOwnership, AnnounceExpiry
        ...this.claims.extraMethods((rpc, reason, detail) => {
          this.countGrpcReject(rpc, reason, detail);
        }),
      },
    });
    const gossipPort = mustParseHostPort(this.udp.localAddress).port;
    this.gossipAddr = formatHostPort({ host: this.opts.advertiseHost, port: gossipPort });
    this.grpcAddr = formatHostPort({ host: this.opts.advertiseHost, port: this.grpcServer.port });

    const meta: MemberMeta = { appAddr: this.opts.appAddr, serving: this.wantServing(), tags: this.opts.tags };
    const seed = randomBytes(4).readUInt32LE(0);
    this.core = new SwimCore({
      name: this.name,
      lifeId: randomBytes(8).toString('hex'),
      incarnation: Date.now(),
      gossipAddr: this.gossipAddr,
      grpcAddr: this.grpcAddr,
      meta,
      config: this.opts.swim,
      random: seededRandom(seed),
      now: this.now(),
      // The envelope (label, nonce, tag) rides on every packet: the core fills only what is left.
      measure: { ...wireMeasure, packetOverhead: wireMeasure.packetOverhead + this.envelope.overhead },
      // Only addresses Negotiate can carry, or one gossiped record would make every join reply be refused.
      acceptsAddress: (addr) => typeof checkAddress(addr, 'address') === 'string',
    });
    this.lastViewChangeAt = this.now();
    this.rebuildTable();
    this.startLagMonitor();
    this.claims.start();
    if (this.opts.appHealth) {
      const target = this.opts.appHealth;
      this.appChecker = new AppHealthChecker({
        target,
        ...this.opts.appCheck,
        onChange: (ready, reason) => {
          this.appReady = ready;
          log.info({ app: target.kind === 'http' ? target.url : `tcp://${target.host}:${target.port}`, ready, reason }, 'app readiness changed');
          this.updateServing();
        },
      });
      this.appChecker.start();
    }
    log.info(
      { name: this.name, gossip: this.gossipAddr, grpc: this.grpcAddr, lifeId: this.core.self.lifeId, incarnation: this.core.self.incarnation },
      'member started',
    );
    if (this.opts.seeds.length === 0) {
      this.markJoined();
      log.info('no seeds configured: bootstrapping a new cluster alone');
    } else {
      void this.joinLoop(0, this.opts.joinRetryInitialMs);
      this.startSeedWatch();
    }
    this.schedule();
  }

  // ---- join ---------------------------------------------------------------------------------

  private joinStartedAt = 0;
  /** A seed refused a join with RESOURCE_EXHAUSTED: a cluster is there, so --bootstrap must not form another. */
  private seedAnsweredBusy = false;
  private busySeedLogged = false;

  /**
   * Tries the seeds with exponential backoff until a Negotiate is answered. With --bootstrap, a member
   * that has heard from nobody within joinTimeoutMs forms a cluster alone; every member with seeds keeps
   * checking them afterwards (seedWatch), so pods that all started at once, or sides of a partition that
   * outlived the tombstones, still merge.
   */
  private async joinLoop(attempt: number, delayMs: number): Promise<void> {
    if (this.closed || this.joined) return;
    const log = this.opts.logger;
    if (attempt === 0) this.joinStartedAt = this.now();
    const others = await this.resolveOtherSeeds();
    if (this.closed) return;
    if (others.length > 0) {
      log.info({ attempt, seeds: others }, 'joining through seeds');
      this.run((now) => this.core.join(others, now));
    } else {
      log.warn({ attempt, seeds: this.opts.seeds }, 'no seed other than this member resolved');
    }
    // Success is learned from the core (a Negotiate answered); look again after the backoff.
    this.joinTimer = setTimeout(() => {
      this.joinTimer = null;
      if (this.closed || this.joined) return;
      if (this.core.isJoined()) {
        this.markJoined();
        this.markViewChanged();
      } else if (this.opts.bootstrap && !this.seedAnsweredBusy && this.now() - this.joinStartedAt >= this.opts.joinTimeoutMs) {
        this.markJoined();
        log.warn({ seeds: this.opts.seeds, waitedMs: Math.round(this.now() - this.joinStartedAt) }, 'no seed answered: bootstrapping a new cluster alone (--bootstrap)');
        this.markViewChanged();
        this.schedule();
      } else {
        if (this.opts.bootstrap && this.seedAnsweredBusy && !this.busySeedLogged) {
          this.busySeedLogged = true;
          log.warn({ seeds: this.opts.seeds }, 'a seed answered busy (RESOURCE_EXHAUSTED): a cluster is there, so no bootstrap alone; retrying');
        }
        void this.joinLoop(attempt + 1, Math.min(delayMs * 2, this.opts.joinRetryMaxMs));
      }
    }, delayMs);
    this.joinTimer.unref();
  }

  /** Seeds that are not this member and not a live member already: the ones worth a Negotiate. */
  private async resolveOtherSeeds(): Promise<string[]> {
    const { addresses, problems } = await this.seedResolver.resolve(this.opts.seeds);
    if (problems.length > 0) this.opts.logger.warn({ problems }, 'some seeds did not resolve');
    return addresses.filter((a) => a !== this.grpcAddr && !this.isOwnAddress(a));
  }

  private startSeedWatch(): void {
    if (this.opts.seeds.length === 0) return;
    const period = Math.max(this.opts.swim.pushPullIntervalMs, 1000);
    this.seedWatchTimer = setInterval(() => {
      if (this.closed || !this.joined || this.leaving) return;
      void this.resolveOtherSeeds().then((addrs) => {
        const known = new Set(this.core.members().filter((m) => m.state === 'alive' || m.state === 'suspect').map((m) => m.grpcAddr));
        const strangers = addrs.filter((a) => !known.has(a));
        if (strangers.length === 0 || this.closed) return;
        this.opts.logger.info({ seeds: strangers }, 'seeds not in the member list: negotiating with them');
        this.run((now) => this.core.join(strangers, now));
      });
    }, period);
    this.seedWatchTimer.unref();
  }

  private seedWatchTimer: NodeJS.Timeout | null = null;

  /** A seed list (or a headless Service) usually includes this member itself. */
  private isOwnAddress(addr: string): boolean {
    const hp = mustParseHostPort(addr);
    if (hp.port !== mustParseHostPort(this.grpcAddr).port) return false;
    const bindHost = mustParseHostPort(this.opts.grpcBind).host;
    if (hp.host === bindHost || hp.host === this.opts.advertiseHost) return true;
    return (bindHost === '0.0.0.0' || bindHost === '::') && localAddresses().has(hp.host);
  }

  // ---- driving the core ---------------------------------------------------------------------

  /** Runs one core step with the current time and carries out what it returns. */
  private run(step: (now: number) => Effect[]): void {
    if (this.closed) return;
    let effects: Effect[];
    try {
      effects = step(this.now());
    } catch (err) {
      // A core bug must not take the process down from a timer or a socket callback.
      this.countEffectFailure('core', err);
      this.schedule();
      return;
    }
    this.apply(effects);
  }

  /** An effect (or core step) that threw: counted in swimring_effect_failures_total and logged; the member lives. */
  private countEffectFailure(effect: string, err: unknown): void {
    this.stats.effectFailures.set(effect, (this.stats.effectFailures.get(effect) ?? 0) + 1);
    this.opts.logger.error({ effect, err: errorMessage(err) }, 'carrying out a membership effect failed');
  }

  private onDatagram(from: string, bytes: Uint8Array): void {
    this.stats.packetsIn++;
    this.stats.bytesIn += bytes.length;
    const decoded = this.envelope.open(bytes);
    if (!decoded.ok) {
      this.stats.countReject(decoded.reason);
      this.opts.logger.debug({ from, reason: decoded.reason, detail: decoded.detail }, 'packet rejected');
      return;
    }
    this.run((now) => {
      this.probeTimer.received(decoded.packet, now);
      return this.core.receive(from, decoded.packet, now);
    });
  }

  /** Two clusters must never merge by accident (pod IPs are reused): a foreign label is refused. */
  private checkLabel(label: string): void {
    const mine = this.opts.label ?? '';
    if (label !== mine) {
      this.bumpGrpcReject('label', 'mismatch');
      throw new ControlPlaneError(grpcStatus.PERMISSION_DENIED, `cluster label "${label}" does not match this member's label "${mine}"`);
    }
  }

  /** Counted in swimring_grpc_rejections_total by "rpc:reason", and logged. */
  private countGrpcReject(rpc: string, reason: string, detail?: string): void {
    this.bumpGrpcReject(rpc, reason);
    this.opts.logger.warn({ rpc, reason, ...(detail === undefined ? {} : { detail }) }, 'grpc request rejected');
  }

  private bumpGrpcReject(rpc: string, reason: string): void {
    const key = `${rpc}:${reason}`;
    this.stats.grpcRejects.set(key, (this.stats.grpcRejects.get(key) ?? 0) + 1);
  }

  /** A member that refuses plaintext gossip refuses gRPC peers that cannot prove they hold a key too. */
  private checkKeyProof(proof: Uint8Array | undefined): void {
    if (this.keyProver === null || !this.envelope.verifyIncoming) return;
    const problem = this.keyProver.verify(proof);
    if (problem === null) return;
    this.bumpGrpcReject('key-proof', 'refused');
    throw new ControlPlaneError(grpcStatus.PERMISSION_DENIED, problem);
  }

  /**
   * The label and key proof a caller sent as metadata, checked before its body is read. A caller that
   * sent no label metadata (an earlier version, a tool) is checked in the body instead (authorize).
   * Ping stays open: health probes and `swimring client ping` carry no label.
   */
  private checkCallCredentials(rpc: string, credentials: CallCredentials): Rejection | null {
    if (rpc === 'Ping' || credentials.label === null) return null;
    const mine = this.opts.label ?? '';
    if (credentials.label !== mine) {
      this.bumpGrpcReject('label', 'mismatch');
      return reject(grpcStatus.PERMISSION_DENIED, 'refused', `cluster label "${credentials.label}" does not match this member's label "${mine}"`);
    }
    if (this.keyProver === null || !this.envelope.verifyIncoming) return null;
    const problem = this.keyProver.verify(credentials.keyProof ?? undefined);
    if (problem === null) return null;
    this.bumpGrpcReject('key-proof', 'refused');
    return reject(grpcStatus.PERMISSION_DENIED, 'refused', problem);
  }

  /** Closing only for the caller's own name, from its known address or with the key (closing-check.ts). */
  private checkClosingCaller(name: string, ctx: CallContext): void {
    const provedKey = this.keyProver !== null && ctx.keyProof !== undefined && this.keyProver.verify(ctx.keyProof) === null;
    const problem = closingRefusal(name, { sender: ctx.sender, peer: ctx.peer, provedKey }, this.core.member(name));
    if (problem === null) return;
    this.bumpGrpcReject('Closing', 'not-own-identity');
    throw new ControlPlaneError(grpcStatus.PERMISSION_DENIED, problem);
  }

  private handleNegotiate(remote: MemberRecord[], join: boolean): MemberRecord[] {
    const { reply, effects } = this.core.onNegotiate(remote, join, this.now());
    this.apply(effects);
    return reply;
  }

  private apply(effects: readonly Effect[]): void {
    for (const effect of effects) {
      try {
        this.carryOut(effect);
      } catch (err) {
        this.countEffectFailure(effect.type, err);
      }
    }
    if (this.viewDirty) {
      this.viewDirty = false;
      try {
        this.rebuildTable();
      } catch (err) {
        this.countEffectFailure('view', err);
      }
      this.emitChange();
    }
    this.schedule();
  }

  /** One effect; may throw (a packet the encoder refuses, a listener's bug), which apply() contains. */
  private carryOut(effect: Effect): void {
    switch (effect.type) {
      case 'send': {
        const bytes = this.envelope.seal(effect.packet);
        this.probeTimer.sent(effect.packet, this.now());
        this.stats.packetsOut++;
        this.stats.bytesOut += bytes.length;
        this.udp.send(effect.to, bytes);
        break;
      }
      case 'negotiate':
        // --- digest-watch: periodic exchanges go by digest; join (and old peers) by Negotiate.
        if (!effect.join && this.antiEntropy.mode !== 'negotiate') {
          this.digestRound(effect.to, effect.requestId, effect.state);
          break;
        }
        this.grpcClient.negotiate(effect.to, effect.state, effect.join, this.opts.rpcTimeoutMs).then(
          (records: MemberRecord[]) => {
            this.run((now) => this.core.onNegotiateReply(effect.requestId, records, now));
            if (effect.join && !this.joined) {
              this.markJoined();
              this.opts.logger.info({ via: effect.to, members: records.length }, 'joined the cluster');
              this.markViewChanged();
            }
          },
          (err: unknown) => {
            this.opts.logger.debug({ to: effect.to, err: errorMessage(err) }, 'negotiate failed');
            // A seed that answers "busy" (rate limit, in-flight bound) is a cluster that exists: never
            // bootstrap alone beside it.
            if (effect.join && err instanceof ControlPlaneCallError && err.code === grpcStatus.RESOURCE_EXHAUSTED) this.seedAnsweredBusy = true;
            this.run((now) => this.core.onNegotiateFailed(effect.requestId, now));
          },
        );
        break;
      case 'closing':
        this.grpcClient.closing(effect.to, effect.name, effect.incarnation, this.opts.rpcTimeoutMs).catch((err: unknown) => {
          this.opts.logger.debug({ to: effect.to, err: errorMessage(err) }, 'closing notice failed');
        });
        break;
      case 'event':
        this.onEvent(effect.event);
        break;
    }
  }

  /**
   * A periodic exchange by digest, answered to the core like a Negotiate: the peer's records of the
   * differing buckets go to onNegotiateReply (empty when the roots agree). A peer that does not speak
   * the digest RPCs gets the full-state Negotiate instead.
   */
  private digestRound(to: string, requestId: number, state: readonly MemberRecord[]): void {
    this.antiEntropy.round(to).then(
      (records) => {
        if (records !== null) {
          this.run((now) => this.core.onNegotiateReply(requestId, records, now));
          return;
        }
        this.grpcClient.negotiate(to, state, false, this.opts.rpcTimeoutMs).then(
          (full) => this.run((now) => this.core.onNegotiateReply(requestId, full, now)),
          () => this.run((now) => this.core.onNegotiateFailed(requestId, now)),
        );
      },
      (err: unknown) => {
        this.opts.logger.debug({ to, err: errorMessage(err) }, 'digest anti-entropy failed');
        this.run((now) => this.core.onNegotiateFailed(requestId, now));
      },
    );
  }

  /** --- digest-watch: the claim store the digest covers and Ping counts (set by the ownership wiring). */
  setClaimStore(store: ClaimStoreView): void {
    this.claimStore = store;
    // Before start() the anti-entropy object does not exist yet; start() attaches the store then.
    if (this.antiEntropy) this.antiEntropy.attachClaims(store);
  }

  private onEvent(event: MembershipEvent): void {
    const log = this.opts.logger;
    // --- claims: a departed member's claims are released; a new one is told ours.
    this.claims.onMembershipEvent(event);
    switch (event.type) {
      case 'member':
        log.info(
          { member: event.name, from: event.from, to: event.to, incarnation: event.incarnation, reason: event.reason },
          'membership change',
        );
        this.markViewChanged();
        this.publish({
          type: 'member',
          version: this.current.version,
          name: event.name,
          from: event.from,
          to: event.to,
          incarnation: event.incarnation,
          reason: event.reason,
          serving: event.member.meta.serving,
        });
        break;
      case 'reaped':
        log.info({ member: event.name }, 'member reaped');
        this.markViewChanged();
        break;
      case 'name-conflict':
        this.stats.nameConflicts++;
        log.error(
          { member: event.name, localLifeId: event.localLifeId, otherLifeId: event.otherLifeId, otherAddr: event.otherAddr },
          'two live processes claim one member name',
        );
        break;
      case 'refuted':
        log.warn({ incarnation: event.incarnation, accusation: event.accusation }, 'refuted an accusation about this member');
        break;
    }
  }

  private markJoined(): void {
    this.joined = true;
    this.joinedAt = this.now();
  }

  private markViewChanged(): void {
    this.viewDirty = true;
    this.lastViewChangeAt = this.now();
  }

  private schedule(): void {
    if (this.closed) return;
    const at = this.core.nextDeadline();
    if (at === this.timerAt && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = at;
    if (!Number.isFinite(at)) return;
    const delay = Math.max(0, Math.ceil(at - this.now()));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.run((now) => this.core.tick(now));
    }, delay);
  }

  // ---- ownership table ----------------------------------------------------------------------

  /**
   * Called after every change of the view: asks the worker for the table of the members that own shards
   * (alive or suspect, and serving), and refreshes the addresses in route answers at once.
   */
  private rebuildTable(): void {
    const records = this.core.members();
    const owners: string[] = [];
    let live = 0;
    for (const r of records) {
      if (r.state !== 'alive' && r.state !== 'suspect') continue;
      live++;
      if (r.meta.serving) owners.push(r.name);
    }
    this.grpcClient.fitPeers(live);
    this.ownersWanted = owners.length;
    this.tables.request(owners);
    this.routeIndex = this.routeIndex.next(this.current, this.recordsByName());
    this.claims.refreshMembers(records);
  }

  private recordsByName(): Map<string, MemberRecord> {
    const byName = new Map<string, MemberRecord>();
    for (const r of this.core.members()) byName.set(r.name, r);
    return byName;
  }

  private onTableBuilt(built: BuiltTable): void {
    if (this.closed) return;
    const previous = this.current;
    const next = built.table;
    this.current = next;
    this.tableBuilt = true;
    this.observers.tableBuilt(built.elapsedMs / 1000, built.where);
    this.routeIndex = this.routeIndex.next(next, this.recordsByName());
    if (previous.version === next.version) return;
    this.stats.tableChanges++;
    this.stats.ownerMoves += built.moves.ownerMoves;
    this.stats.replicaMoves += built.moves.replicaMoves;
    this.opts.logger.info(
      {
        version: next.version,
        previous: previous.version,
        owners: next.members.length,
        ownerMoves: built.moves.ownerMoves,
        replicaMoves: built.moves.replicaMoves,
        buildMs: Math.round(built.elapsedMs),
        builtIn: built.where,
      },
      'ownership table rebuilt',
    );
    this.publish({
      type: 'moves',
      version: next.version,
      previousVersion: previous.version,
      ownerMoves: built.moves.ownerMoves,
      replicaMoves: built.moves.replicaMoves,
      moves: built.moves.groups,
    });
    this.emitChange();
  }

  /** A 'change' listener that throws is counted like a failed effect, never thrown into a timer or callback. */
  private emitChange(): void {
    try {
      this.events.emit('change');
    } catch (err) {
      this.countEffectFailure('view', err);
    }
  }

  private publish(event: WatchEvent): void {
    for (const w of this.watchers) {
      try {
        w(event);
      } catch (err) {
        this.opts.logger.warn({ err: errorMessage(err) }, 'watcher failed; unsubscribing it');
        this.watchers.delete(w);
      }
    }
  }

  // ---- AgentView ----------------------------------------------------------------------------

  route(key: string): RouteAnswer {
    this.stats.routeRequests++;
    // --- claims: a claimed key names its claimant (one size check when nothing is claimed)
    return this.claims.routeAnswer(this.routeIndex.route(key));
  }

  // --- sidecar-perf: pre-encoded ring answers for the HTTP hot path (claims are checked by the caller)
  routeEncoder(): RouteEncoder {
    return this.routeIndex;
  }

  routeMany(keys: readonly string[]): RouteAnswer[] {
    this.stats.routeRequests += keys.length;
    const index = this.routeIndex;
    const out = new Array<RouteAnswer>(keys.length);
    for (let i = 0; i < keys.length; i++) out[i] = index.route(keys[i] as string);
    // --- claims
    if (this.claims.hasClaims()) for (let i = 0; i < out.length; i++) out[i] = this.claims.routeAnswer(out[i] as RouteAnswer);
    return out;
  }

  members(): { version: string; members: MemberView[] } {
    return { version: this.current.version, members: this.core.members().map((r) => toMemberView(r, r.name === this.name)) };
  }

  table(withOwners: boolean): TableView {
    const t = this.current;
    const view: TableView = {
      shards: t.shards,
      replicas: t.replicas,
      version: t.version,
      members: t.members.length,
      shardsPerMember: t.shardsPerMember(),
      ...(withOwners ? { owners: Array.from({ length: t.shards }, (_, s) => t.ownerOf(s)) } : {}),
    };
    return view;
  }

  compactTable(): CompactTableView {
    return compactTableOf(this.current, this.routeIndex, this.claims.routedClaims());
  }

  subscribe(listener: (event: WatchEvent) => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  /**
   * Starts a graceful leave and returns once it is under way: this member stops serving at once (its shards
   * move to others and peers see the moves), keeps answering routes through the drain period, then
   * announces the leave (Closing + gossip). Calling it again returns the same leave.
   */
  leave(): Promise<void> {
    if (!this.leavePromise) {
      this.draining = true;
      this.opts.logger.info({ drainMs: this.opts.drainMs }, 'leaving: giving up shards, draining');
      this.updateServing();
      this.leaveDone = this.drainThenAnnounce();
      this.leavePromise = Promise.resolve();
    }
    return this.leavePromise;
  }

  private leavePromise: Promise<void> | null = null;
  private leaveDone: Promise<void> = Promise.resolve();

  private async drainThenAnnounce(): Promise<void> {
    if (this.opts.drainMs > 0) await new Promise((r) => setTimeout(r, this.opts.drainMs));
    if (this.closed) return;
    this.leaving = true;
    this.opts.logger.info('leaving the cluster');
    this.run((now) => this.core.leave(now));
  }

  /** Leaves (drain, announce), waits (bounded) until the news has been gossiped out, then stops everything. */
  async leaveAndClose(): Promise<void> {
    await this.leave();
    await this.leaveDone;
    const deadline = this.now() + this.opts.leaveTimeoutMs;
    while (this.core.pendingBroadcasts() > 0 && this.hasLivePeers() && this.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    // One more gossip round so the last transmissions leave the socket.
    await new Promise((r) => setTimeout(r, Math.min(this.opts.swim.gossipIntervalMs * 2, 500)));
    await this.close();
  }

  private wantServing(): boolean {
    return this.appReady && !this.draining && !this.leaving;
  }

  /** Advertises a change of the serving flag (app readiness, drain) with a raised incarnation. */
  private updateServing(): void {
    if (this.closed || !this.core || this.leaving) return;
    const want = this.wantServing();
    const self = this.core.self;
    if (self.meta.serving === want) return;
    this.run((now) => this.core.updateMeta({ ...self.meta, serving: want }, now));
  }

  private hasLivePeers(): boolean {
    return this.core.members().some((m) => m.name !== this.name && (m.state === 'alive' || m.state === 'suspect'));
  }

  /** The readiness rule of src/runtime/readiness.ts, fed this member's state. */
  readiness(): HealthView {
    let peersAlive = 0;
    let peersUnreachable = 0;
    for (const m of this.core?.members() ?? []) {
      if (m.name === this.name) continue;
      if (m.state === 'alive') peersAlive++;
      else if (m.state === 'suspect' || m.state === 'dead') peersUnreachable++;
    }
    return this.readinessRule.check({
      now: this.now(),
      stopped: this.closed,
      leaving: this.leaving || this.draining,
      joinedAt: this.joinedAt,
      // While no member serves (a new cluster whose apps wait for this sidecar's startup probe) the table
      // of no owners, which exists from the start, is the right one; waiting for a build would deadlock.
      tableCurrent: this.tableBuilt || (this.ownersWanted === 0 && !this.tables.busy),
      appReady: this.appReady,
      appReason: this.appChecker?.reason() ?? 'unknown',
      lastViewChangeAt: this.lastViewChangeAt,
      peersAlive,
      peersUnreachable,
    });
  }

  liveness(): HealthView {
    const reasons: string[] = [];
    if (this.closed) reasons.push('stopped');
    if (this.loopLagMs > 5000) reasons.push(`event loop lagging ${Math.round(this.loopLagMs)} ms`);
    const udp = this.udp?.health();
    const limit = this.opts.receiveDownLimitMs ?? RECEIVE_DOWN_LIMIT_MS;
    if (udp && !udp.receiving && udp.downSince !== null && this.now() - udp.downSince > limit) {
      reasons.push(`gossip socket not receiving for ${Math.round(this.now() - udp.downSince)} ms (reopen failing: ${udp.lastError ?? 'unknown'})`);
    }
    return { ok: reasons.length === 0, reasons };
  }

  /** A keyring operation on every live member (`swimring keys`); null when this member has no keyring. */
  keyOp(op: KeyOp): Promise<KeyOpSummary> | null {
    const local = this.opts.gossipSecurity?.keyring;
    if (!local) return null;
    return fanOutKeyOp(op, {
      local,
      label: this.opts.label ?? '',
      selfName: this.name,
      peers: this.livePeers(),
      call: (addr, sealed) => callKeyringOp(this.grpcClient, addr, sealed, this.opts.rpcTimeoutMs),
    });
  }

  isLeaving(): boolean {
    return this.leaving || this.draining;
  }

  forceLeave(name: string): ForceLeaveResult {
    const { refused, effects } = this.core.forceLeave(name, this.now());
    if (refused !== null) return { refused };
    this.opts.logger.warn({ member: name }, 'member force-left by an operator');
    this.apply(effects);
    return { refused: null, state: this.core.member(name)?.state ?? 'left' };
  }

  /** Members other than this one that it holds alive or suspect: the targets of a fan-out. */
  private livePeers(): { name: string; grpcAddr: string }[] {
    return this.core
      .members()
      .filter((m) => m.name !== this.name && (m.state === 'alive' || m.state === 'suspect'))
      .map((m) => ({ name: m.name, grpcAddr: m.grpcAddr }));
  }

  /** After a local force-leave: the same on every other live member, answered per member. */
  forceLeaveEverywhere(name: string, local: ForceLeaveResult & { readonly refused: null }): Promise<ForceLeaveSummary> {
    return fanOutForceLeave(name, {
      selfName: this.name,
      local,
      peers: this.livePeers(),
      call: (member, addr) => callForceLeave(this.grpcClient, member, addr, name, Math.min(this.opts.rpcTimeoutMs, FORCE_LEAVE_CALL_MAX_MS)),
    });
  }

  async peerHealth(): Promise<Record<string, PeerHealth | null>> {
    const peers = await pingPeers(this.grpcClient, this.core.members(), this.name, Math.min(this.opts.rpcTimeoutMs, PEER_HEALTH_TIMEOUT_MS));
    return { ...peers, [this.name]: { healthScore: this.core.healthScore(), tableVersion: this.current.version } };
  }

  healthScore(): number {
    return this.core.healthScore();
  }

  claimCount(): number {
    return this.claimStore?.claimCount() ?? 0;
  }

  coreSnapshot(): { healthScore: number; pendingBroadcasts: number; counters: SwimCore['counters']; records: MemberRecord[] } {
    return {
      healthScore: this.core.healthScore(),
      pendingBroadcasts: this.core.pendingBroadcasts(),
      counters: this.core.counters,
      records: this.core.members(),
    };
  }

  private startLagMonitor(): void {
    let last = this.now();
    this.lagTimer = setInterval(() => {
      const t = this.now();
      this.loopLagMs = Math.max(0, t - last - 1000);
      last = t;
    }, 1000);
    this.lagTimer.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.joinTimer) clearTimeout(this.joinTimer);
    if (this.seedWatchTimer) clearInterval(this.seedWatchTimer);
    if (this.lagTimer) clearInterval(this.lagTimer);
    this.appChecker?.stop();
    void this.tables.close();
    this.grpcServer?.setServing(false);
    this.watch?.closeAll();
    this.antiEntropy?.close();
    this.claims.close();
    this.watchers.clear();
    this.grpcClient.close();
    await Promise.allSettled([this.udp?.close(), this.grpcServer?.close()]);
  }
}

function toMemberView(r: MemberRecord, self: boolean): MemberView {
  return {
    name: r.name,
    state: r.state,
    incarnation: r.incarnation,
    serving: r.meta.serving,
    addresses: { gossip: r.gossipAddr, grpc: r.grpcAddr, app: r.meta.appAddr },
    tags: r.meta.tags,
    self,
  };
}

function localAddresses(): Set<string> {
  const out = new Set<string>(['127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address);
  return out;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
