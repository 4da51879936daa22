// The shell that wires a Member (src/member/) to real sockets: binds the gossip socket and the gRPC
// server, gives the member the real ports (clock, packets, control-plane calls, table builder), and
// serves its state to the HTTP API (AgentView). What a member decides lives in the member; what is
// served from it in served-view.ts; the control plane's assembly in agent-grpc.ts.
import { EventEmitter } from 'node:events';
import type { MemberRecord } from '../core/types.js';
import type { SwimCore } from '../core/swim.js';
import { ControlPlaneClient } from '../grpc/client.js';
import { Member } from '../member/member.js';
import { formatHostPort, mustParseHostPort } from '../net/address.js';
import { NO_OBSERVERS, type RuntimeObservers } from '../ops-metrics.js';
import { AgentClaims } from '../ownership/agent-claims.js';
import { agentClaimsOptions, DEFAULT_CLAIM_CONFIG } from '../ownership/config.js';
import { grpcClaimTransport } from '../ownership/grpc.js';
import { callPortOf } from '../ownership/service-types.js';
import { GossipEnvelope } from '../security/envelope.js';
import type { KeyOp, KeyOpSummary } from '../security/key-ops.js';
import { GrpcControlPlanePort, openGossipSocket, realClock, UdpPacketPort } from '../shell/real-ports.js';
import { lagReportingClock } from '../shell/loop-lag.js';
import { errorMessage, MemberRunner } from '../shell/runner.js';
import type { PacketTransport } from '../transport/udp.js';
import { callGuards, startAgentControlPlane, type CallGuards, type ControlPlane } from './agent-grpc.js';
import { checkedByAuthorizer } from '../grpc/authorizer.js';
import { withProtocolTag } from '../codec/protocol-version.js';
import { memberConfigOf, RECEIVE_DOWN_LIMIT_MS, type AgentOptions } from './agent-options.js';
import { startAppChecker, type AppHealthChecker } from './app-health.js';
import { livenessOf } from './liveness.js';
import { otherSeeds } from './discovery.js';
import type { ForceLeaveSummary } from './force-leave.js';
import { PeerFanOuts } from './peer-fan-outs.js';
import { ServedView } from './served-view.js';
import { newAgentStats, type AgentStats } from './stats.js';
import { TableBuilder } from './table-builder.js';
import { DebouncedTables } from './table-debounce.js';
import type { AgentView, CompactTableView, ForceLeaveResult, HealthView, MemberView, PeerHealth, RouteAnswer, RouteEncoder, TableView, WatchEvent } from './view.js';

export { RECEIVE_DOWN_LIMIT_MS, type AgentOptions } from './agent-options.js';
export type { PeerChecks } from './agent-rpcs.js';

/** What exists once start() has bound the sockets. */
interface Running {
  readonly runner: MemberRunner;
  readonly udp: PacketTransport;
  readonly control: ControlPlane;
  readonly stopLagWatch: () => void;
}

export class Agent implements AgentView {
  readonly name: string;
  readonly stats: AgentStats = newAgentStats();
  /** 'change' fires after every batch of effects that changed the view (metrics refresh hooks onto it). */
  readonly events = new EventEmitter();
  /** --- claims: ownership claims, their RPCs and the route override (src/ownership). */
  readonly claims: AgentClaims;
  gossipAddr = '';
  grpcAddr = '';
  private running: Running | null = null;
  private readonly client: ControlPlaneClient;
  private readonly tables: TableBuilder;
  private readonly served: ServedView;
  private readonly fanOuts: PeerFanOuts;
  private readonly envelope: GossipEnvelope;
  private readonly guards: CallGuards;
  private readonly observers: RuntimeObservers;
  private appChecker: AppHealthChecker | null = null;
  private loopLagMs = 0;
  private closed = false;

  constructor(private readonly opts: AgentOptions) {
    this.name = opts.name;
    this.observers = opts.observers ?? NO_OBSERVERS;
    this.envelope = new GossipEnvelope({
      label: opts.label ?? '',
      keyring: opts.gossipSecurity?.keyring?.keyring ?? null,
      verifyIncoming: opts.gossipSecurity?.verifyIncoming ?? true,
      verifyOutgoing: opts.gossipSecurity?.verifyOutgoing ?? true,
    });
    this.guards = callGuards(opts, this.stats, this.envelope);
    const { keyProver } = this.guards;
    this.client = new ControlPlaneClient({
      sender: opts.name,
      ...(opts.grpcLimits ? { limits: opts.grpcLimits } : {}),
      ...(opts.label ? { label: opts.label } : {}),
      ...(opts.grpcTls ? { tls: opts.grpcTls.client } : {}),
      ...(keyProver ? { keyProof: () => keyProver } : {}),
    });
    this.tables = new TableBuilder({ shards: opts.shards, replicas: opts.replicas }, (built) => this.running?.runner.tableBuilt(built), (message) => opts.logger.error(message), {
      groupMoves: () => this.served.watched,
    });
    const emptyTable = this.tables.emptyTable();
    const table = () => this.running?.runner.table ?? emptyTable;
    this.claims = new AgentClaims({
      self: () => {
        const member = this.runner().member;
        return { name: this.name, lifeId: member.core.self.lifeId, incarnation: member.core.self.incarnation, serving: member.wantServing() && !this.closed };
      },
      ringRoute: (key) => this.served.ringRoute(key),
      tableVersion: () => table().version,
      checkContext: checkedByAuthorizer,
      options: agentClaimsOptions(opts.claims ?? DEFAULT_CLAIM_CONFIG, opts.rpcTimeoutMs),
      logger: opts.logger,
      publish: (event) => this.served.publish(event),
    });
    this.fanOuts = new PeerFanOuts(opts, this.client, () => this.running?.runner ?? null);
    const records = () => this.running?.runner.member.core.members() ?? [];
    this.served = new ServedView({ name: this.name, stats: this.stats, logger: opts.logger, observers: this.observers, claims: this.claims, records, table, changed: () => this.emitChange() });
  }

  /** Binds the sockets, starts the member and serves the control plane. */
  async start(): Promise<void> {
    await this.startMember();
    await this.serveControlPlane();
  }

  /**
   * Loads grpc-js and serves the control plane's port, the calls that waited first (startMember bound
   * it). The agent's command calls it once its app API listens: grpc-js is a large part of a start.
   */
  async serveControlPlane(): Promise<void> {
    if (this.running === null) throw new Error('the agent has not started');
    await this.running.control.serve();
  }

  /** Binds the gossip socket and the control plane's port and starts the member; serveControlPlane() serves the port. */
  async startMember(): Promise<void> {
    const { opts } = this;
    const log = opts.logger;
    const udp = await openGossipSocket(opts.gossipBind, opts.udpSocketFactory, this.stats, log, this.envelope, (from, packet) => this.running?.runner.receive(from, packet), (version) => this.guards.peerVersions.received(version));
    const control = await startAgentControlPlane({ opts, name: this.name, guards: this.guards, client: this.client, observers: this.observers, claims: this.claims, claimStore: this.claims.storeView(), view: this, runner: () => this.runner(), forceLeave: (name) => this.forceLeave(name) });
    this.gossipAddr = formatHostPort({ host: opts.advertiseHost, port: mustParseHostPort(udp.localAddress).port });
    this.grpcAddr = formatHostPort({ host: opts.advertiseHost, port: control.port });
    const resolveSeeds = otherSeeds(opts.seeds, opts.dnsServers, { grpcAddr: this.grpcAddr, grpcBind: opts.grpcBind, advertiseHost: opts.advertiseHost }, log);
    const config = memberConfigOf(opts, { gossipAddr: this.gossipAddr, grpcAddr: this.grpcAddr, envelopeOverhead: this.envelope.overhead, antiEntropy: control.antiEntropy.mode });
    // The range this build speaks rides on its alive record (absent for version 1 only: the old bytes).
    const member = new Member({ ...config, tags: withProtocolTag(config.tags, this.envelope.spoken), claims: this.claims.memberClaims }, realClock.now());
    const packets = new UdpPacketPort(udp, this.envelope, this.stats, (to) => this.guards.peerVersions.versionFor(to));
    // The member's timers measure the event loop's lag for /livez and the metrics as they fire (no timer of its own).
    const lag = lagReportingClock(realClock, (ms) => {
      this.loopLagMs = ms;
      this.observers.loopLag(ms);
    });
    const calls = new GrpcControlPlanePort(this.client, () => control.antiEntropy, opts.rpcTimeoutMs, this.guards.joinRefusals);
    const ports = { clock: lag.clock, packets, control: calls, tables: new DebouncedTables(this.tables, realClock), resolveSeeds, claimCalls: callPortOf(grpcClaimTransport(this.client)) };
    const runner = new MemberRunner(member, ports, {
      log: (level, message, fields) => log[level](fields, message),
      event: (event) => {
        if (event.type === 'member') this.guards.peerVersions.observe(event.member);
        else if (event.type === 'reaped') this.guards.peerVersions.forget(event.name);
        this.served.event(event);
      },
      viewChanged: () => {
        this.served.refresh();
        this.emitChange();
      },
      tableBuilt: (built, previous) => this.served.tableBuilt(built, previous),
      failure: (kind, err) => this.countEffectFailure(kind, err),
      roundTrip: (seconds) => this.observers.probeRoundTrip(seconds),
    });
    this.running = { runner, udp, control, stopLagWatch: lag.stop };
    this.claims.runBy((op) => runner.withClaims(op));
    if (opts.appHealth) this.appChecker = startAppChecker(opts.appHealth, opts.appCheck, log, (ready) => runner.appHealth(ready));
    log.info({ name: this.name, gossip: this.gossipAddr, grpc: this.grpcAddr, lifeId: member.core.self.lifeId, incarnation: member.core.self.incarnation }, 'member started');
    runner.start();
  }

  private runner(): MemberRunner {
    if (this.running === null) throw new Error('the agent has not started');
    return this.running.runner;
  }

  get antiEntropy(): ControlPlane['antiEntropy'] | undefined {
    return this.running?.control.antiEntropy;
  }

  get watch(): ControlPlane['watch'] | undefined {
    return this.running?.control.watch;
  }

  /** A 'change' listener that throws is counted like a failed effect, never thrown into a timer or callback. */
  private emitChange(): void {
    try {
      this.events.emit('change');
    } catch (err) {
      this.countEffectFailure('view', err);
    }
  }

  /** An effect (or member step) that threw: counted in swimring_effect_failures_total and logged; the member lives. */
  private countEffectFailure(effect: string, err: unknown): void {
    this.stats.effectFailures.set(effect, (this.stats.effectFailures.get(effect) ?? 0) + 1);
    this.opts.logger.error({ effect, err: errorMessage(err) }, 'carrying out a membership effect failed');
  }

  route = (key: string): RouteAnswer => this.served.route(key);
  routeEncoder = (): RouteEncoder => this.served.routeEncoder();
  routeMany = (keys: readonly string[]): RouteAnswer[] => this.served.routeMany(keys);
  members = (): { version: string; members: MemberView[] } => this.served.members();
  table = (withOwners: boolean): TableView => this.served.table(withOwners);
  compactTable = (): CompactTableView => this.served.compactTable();
  subscribe = (listener: (event: WatchEvent) => void): (() => void) => this.served.subscribe(listener);

  /**
   * Starts a graceful leave: this member stops serving at once (its shards move to others and peers see
   * the moves), keeps answering routes through the drain period, then announces the leave (Closing +
   * gossip). Resolves once the leave is announced, after the drain. Calling it again returns the same leave.
   */
  leave(): Promise<void> {
    if (this.running === null) return Promise.reject(new Error('the agent has not started: nothing to leave'));
    return this.running.runner.leave();
  }

  /** Leaves (drain, announce), waits (bounded) until the news has been gossiped out, then stops everything. */
  async leaveAndClose(): Promise<void> {
    if (this.running !== null) {
      await this.leave();
      const { core } = this.running.runner.member;
      const deadline = realClock.now() + this.opts.leaveTimeoutMs;
      while (core.pendingBroadcasts() > 0 && this.running.runner.member.livePeers().length > 0 && realClock.now() < deadline) await pause(50);
      // One more gossip round so the last transmissions leave the socket.
      await pause(Math.min(this.opts.swim.gossipIntervalMs * 2, 500));
    }
    await this.close();
  }

  readiness(): HealthView {
    const appReason = this.appChecker?.reason() ?? 'unknown';
    if (this.running === null) return { ok: false, reasons: [this.closed ? 'stopped' : 'not started'] };
    // Refused and alone (the refusal may come after a bootstrap): never serve beside that cluster. A
    // member with peers is in a cluster; a stranger among its seeds refusing it changes nothing.
    const refusal = this.guards.joinRefusals.current;
    if (refusal !== null && this.running.runner.member.livePeers().length === 0) return { ok: false, reasons: [refusal] };
    if (!this.running.control.serving) return { ok: false, reasons: ['control plane starting'] };
    return this.running.runner.readiness(appReason);
  }

  liveness(): HealthView {
    const udp = this.running?.udp.health() ?? null;
    return livenessOf({ now: realClock.now(), stopped: this.closed, loopLagMs: this.loopLagMs, udp, receiveDownLimitMs: this.opts.receiveDownLimitMs ?? RECEIVE_DOWN_LIMIT_MS });
  }

  keyOp = (op: KeyOp): Promise<KeyOpSummary> | null => this.fanOuts.keyOp(op);
  forceLeaveEverywhere = (name: string, local: ForceLeaveResult & { readonly refused: null }): Promise<ForceLeaveSummary> => this.fanOuts.forceLeaveEverywhere(name, local);
  peerHealth = (): Promise<Record<string, PeerHealth | null>> => this.fanOuts.peerHealth();

  isLeaving(): boolean {
    return this.running?.runner.member.isLeaving ?? false;
  }

  forceLeave(name: string): ForceLeaveResult {
    const runner = this.runner();
    const refused = runner.forceLeave(name);
    if (refused !== null) return { refused };
    this.opts.logger.warn({ member: name }, 'member force-left by an operator');
    return { refused: null, state: runner.member.core.member(name)?.state ?? 'left' };
  }

  healthScore(): number {
    return this.runner().member.core.healthScore();
  }

  claimCount(): number {
    return this.claims.service.store.claimCount();
  }

  coreSnapshot(): { healthScore: number; pendingBroadcasts: number; counters: SwimCore['counters']; records: MemberRecord[] } {
    const { core } = this.runner().member;
    return { healthScore: core.healthScore(), pendingBroadcasts: core.pendingBroadcasts(), counters: core.counters, records: core.members() };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const running = this.running;
    running?.runner.stop();
    running?.stopLagWatch();
    this.appChecker?.stop();
    void this.tables.close();
    running?.control.setServing(false);
    running?.control.watch.closeAll();
    running?.control.antiEntropy.close();
    this.claims.close();
    this.served.close();
    this.client.close();
    await Promise.allSettled([running?.udp.close(), running?.control.close()]);
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
