// The shell around the SWIM core: owns the real clock, the one timer, the UDP socket and the gRPC
// server/client; feeds the core and carries out the effects it returns; keeps the ownership table in step
// with the membership view and tells watchers what moved.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { decodePacket, encodePacket, wireMeasure } from '../codec/index.js';
import type { SwimConfig } from '../core/config.js';
import { seededRandom } from '../core/random.js';
import { SwimCore } from '../core/swim.js';
import type { Effect, MemberMeta, MemberRecord, MembershipEvent } from '../core/types.js';
import { ControlPlaneClient } from '../grpc/client.js';
import { ControlPlaneError, startControlPlaneServer } from '../grpc/server.js';
import { status as grpcStatus } from '@grpc/grpc-js';
import { formatHostPort, mustParseHostPort } from '../net/address.js';
import { buildTable, diffTables, type PlacementTable } from '../placement/index.js';
import { startUdpTransport, type PacketTransport } from '../transport/udp.js';
import { SeedResolver } from './discovery.js';
import { RouteIndex } from './route-index.js';
import type { AgentView, HealthView, MemberView, RouteAnswer, TableView, WatchEvent } from './view.js';
import type { AgentStats } from './stats.js';
import { newAgentStats } from './stats.js';

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
  readonly rpcTimeoutMs: number;
  readonly dnsServers?: readonly string[];
  /** Cluster label: control-plane calls carrying another label are refused. */
  readonly label: string | null;
  readonly logger: Logger;
}

const GRPC_DEFAULT_PORT = 7947;

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
  private routeIndex: RouteIndex;
  private readonly watchers = new Set<(e: WatchEvent) => void>();
  private joined = false;
  private leaving = false;
  private closed = false;
  private lastViewChangeAt = 0;
  private viewDirty = false;
  private joinTimer: NodeJS.Timeout | null = null;
  private loopLagMs = 0;
  private lagTimer: NodeJS.Timeout | null = null;
  gossipAddr = '';
  grpcAddr = '';

  constructor(private readonly opts: AgentOptions) {
    this.name = opts.name;
    this.grpcClient = new ControlPlaneClient({ sender: opts.name, ...(opts.label ? { label: opts.label } : {}) });
    this.seedResolver = new SeedResolver({
      defaultPort: GRPC_DEFAULT_PORT,
      ...(opts.dnsServers ? { dnsServers: opts.dnsServers } : {}),
    });
    this.current = buildTable([], { shards: opts.shards, replicas: opts.replicas });
    this.routeIndex = new RouteIndex(this.current, new Map());
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
    });
    this.grpcServer = await startControlPlaneServer({
      bind: this.opts.grpcBind,
      handlers: {
        negotiate: (remote, join, ctx) => {
          this.checkLabel(ctx.label);
          return this.handleNegotiate(remote, join);
        },
        closing: (name, incarnation, ctx) => {
          this.checkLabel(ctx.label);
          this.run((now) => this.core.onClosing(name, incarnation, now));
        },
        ping: () => ({
          name: this.name,
          members: this.core.aliveCount(),
          healthScore: this.core.healthScore(),
          tableVersion: this.current.version,
        }),
      },
      onReject: (rpc, reason) => {
        this.stats.grpcRejects.set(`${rpc}:${reason}`, (this.stats.grpcRejects.get(`${rpc}:${reason}`) ?? 0) + 1);
        log.warn({ rpc, reason }, 'grpc request rejected');
      },
    });
    const gossipPort = mustParseHostPort(this.udp.localAddress).port;
    this.gossipAddr = formatHostPort(this.opts.advertiseHost, gossipPort);
    this.grpcAddr = formatHostPort(this.opts.advertiseHost, this.grpcServer.port);

    const meta: MemberMeta = { appAddr: this.opts.appAddr, serving: true, tags: this.opts.tags };
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
      measure: wireMeasure,
    });
    this.lastViewChangeAt = this.now();
    this.rebuildTable();
    this.startLagMonitor();
    log.info(
      { name: this.name, gossip: this.gossipAddr, grpc: this.grpcAddr, lifeId: this.core.self.lifeId, incarnation: this.core.self.incarnation },
      'member started',
    );
    if (this.opts.seeds.length === 0) {
      this.joined = true;
      log.info('no seeds configured: bootstrapping a new cluster alone');
    } else {
      void this.joinLoop(0, this.opts.joinRetryInitialMs);
    }
    this.schedule();
  }

  // ---- join ---------------------------------------------------------------------------------

  private async joinLoop(attempt: number, delayMs: number): Promise<void> {
    if (this.closed || this.joined) return;
    const log = this.opts.logger;
    const { addresses, problems } = await this.seedResolver.resolve(this.opts.seeds);
    const others = addresses.filter((a) => a !== this.grpcAddr && !this.isOwnAddress(a));
    if (problems.length > 0) log.warn({ problems }, 'some seeds did not resolve');
    if (others.length === 0 && this.opts.bootstrap) {
      this.joined = true;
      log.info({ seeds: this.opts.seeds }, 'no other seed found: bootstrapping a new cluster alone');
      this.markViewChanged();
      return;
    }
    if (others.length > 0) {
      log.info({ attempt, seeds: others }, 'joining through seeds');
      this.run((now) => this.core.join(others, now));
    }
    // Success is learned from the core (a Negotiate answered); check again after the backoff.
    this.joinTimer = setTimeout(() => {
      this.joinTimer = null;
      if (this.core.isJoined()) {
        this.joined = true;
        return;
      }
      if (attempt >= 2 && this.opts.bootstrap && others.length === 0) {
        this.joined = true;
        return;
      }
      void this.joinLoop(attempt + 1, Math.min(delayMs * 2, this.opts.joinRetryMaxMs));
    }, delayMs);
    this.joinTimer.unref();
  }

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
    this.apply(step(this.now()));
  }

  private onDatagram(from: string, bytes: Uint8Array): void {
    this.stats.packetsIn++;
    this.stats.bytesIn += bytes.length;
    const decoded = decodePacket(bytes);
    if (!decoded.ok) {
      this.stats.countReject(decoded.reason);
      this.opts.logger.debug({ from, reason: decoded.reason, detail: decoded.detail }, 'packet rejected');
      return;
    }
    this.run((now) => this.core.receive(from, decoded.packet, now));
  }

  /** Two clusters must never merge by accident (pod IPs are reused): a foreign label is refused. */
  private checkLabel(label: string): void {
    const mine = this.opts.label ?? '';
    if (label !== mine) {
      this.stats.grpcRejects.set('label:mismatch', (this.stats.grpcRejects.get('label:mismatch') ?? 0) + 1);
      throw new ControlPlaneError(grpcStatus.PERMISSION_DENIED, `cluster label "${label}" does not match this member's label "${mine}"`);
    }
  }

  private handleNegotiate(remote: MemberRecord[], join: boolean): MemberRecord[] {
    const { reply, effects } = this.core.onNegotiate(remote, join, this.now());
    this.apply(effects);
    return reply;
  }

  private apply(effects: readonly Effect[]): void {
    for (const effect of effects) {
      switch (effect.type) {
        case 'send': {
          const bytes = encodePacket(effect.packet);
          this.stats.packetsOut++;
          this.stats.bytesOut += bytes.length;
          this.udp.send(effect.to, bytes);
          break;
        }
        case 'negotiate':
          this.grpcClient.negotiate(effect.to, effect.state, effect.join, this.opts.rpcTimeoutMs).then(
            (records: MemberRecord[]) => {
              this.run((now) => this.core.onNegotiateReply(effect.requestId, records, now));
              if (effect.join && !this.joined) {
                this.joined = true;
                this.opts.logger.info({ via: effect.to, members: records.length }, 'joined the cluster');
                this.markViewChanged();
              }
            },
            (err: unknown) => {
              this.opts.logger.debug({ to: effect.to, err: errorMessage(err) }, 'negotiate failed');
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
    if (this.viewDirty) {
      this.viewDirty = false;
      this.rebuildTable();
      this.events.emit('change');
    }
    this.schedule();
  }

  private onEvent(event: MembershipEvent): void {
    const log = this.opts.logger;
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

  private rebuildTable(): void {
    const records = this.core.members();
    const owners: string[] = [];
    const byName = new Map<string, MemberRecord>();
    for (const r of records) {
      byName.set(r.name, r);
      if ((r.state === 'alive' || r.state === 'suspect') && r.meta.serving) owners.push(r.name);
    }
    const next = buildTable(owners, { shards: this.opts.shards, replicas: this.opts.replicas });
    const previous = this.current;
    this.current = next;
    this.routeIndex = new RouteIndex(next, byName);
    if (previous.version !== next.version) {
      const moves = diffTables(previous, next);
      this.stats.tableChanges++;
      for (const m of moves) {
        if (m.role === 'owner') this.stats.ownerMoves++;
        else this.stats.replicaMoves++;
      }
      this.opts.logger.info({ version: next.version, previous: previous.version, owners: owners.length, moves: moves.length }, 'ownership table rebuilt');
      this.publish({ type: 'moves', version: next.version, previousVersion: previous.version, moves });
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
    return this.routeIndex.route(key);
  }

  routeMany(keys: readonly string[]): RouteAnswer[] {
    this.stats.routeRequests += keys.length;
    const index = this.routeIndex;
    const out = new Array<RouteAnswer>(keys.length);
    for (let i = 0; i < keys.length; i++) out[i] = index.route(keys[i] as string);
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

  subscribe(listener: (event: WatchEvent) => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  async leave(): Promise<void> {
    if (this.leaving || this.closed) return;
    this.leaving = true;
    this.opts.logger.info('leaving the cluster');
    this.run((now) => this.core.leave(now));
  }

  /** Waits (bounded) until the leave news has been gossiped out, then stops everything. */
  async leaveAndClose(): Promise<void> {
    await this.leave();
    const deadline = this.now() + this.opts.leaveTimeoutMs;
    while (this.core.pendingBroadcasts() > 0 && this.hasLivePeers() && this.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    // One more gossip round so the last transmissions leave the socket.
    await new Promise((r) => setTimeout(r, Math.min(this.opts.swim.gossipIntervalMs * 2, 500)));
    await this.close();
  }

  private hasLivePeers(): boolean {
    return this.core.members().some((m) => m.name !== this.name && (m.state === 'alive' || m.state === 'suspect'));
  }

  readiness(): HealthView {
    const reasons: string[] = [];
    if (this.closed) reasons.push('stopped');
    if (this.leaving) reasons.push('leaving the cluster');
    if (!this.joined) reasons.push('not joined yet: no seed has answered');
    const quietFor = this.now() - this.lastViewChangeAt;
    if (quietFor < this.opts.settleMs) reasons.push(`member view changed ${Math.round(quietFor)} ms ago (settle window ${this.opts.settleMs} ms)`);
    return { ok: reasons.length === 0, reasons };
  }

  liveness(): HealthView {
    const reasons: string[] = [];
    if (this.closed) reasons.push('stopped');
    if (this.loopLagMs > 5000) reasons.push(`event loop lagging ${Math.round(this.loopLagMs)} ms`);
    return { ok: reasons.length === 0, reasons };
  }

  isLeaving(): boolean {
    return this.leaving;
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
    if (this.lagTimer) clearInterval(this.lagTimer);
    this.grpcServer?.setServing(false);
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
