// A tiny in-process network for driving a handful of cores by hand: a virtual clock, packets delivered
// after a fixed latency, negotiate and closing RPCs answered at once, and switches to silence members.
import { profileConfig } from '../../src/core/config.js';
import type { SwimConfig } from '../../src/core/config.js';
import { seededRandom } from '../../src/core/random.js';
import { SwimCore } from '../../src/core/swim.js';
import type { SwimCoreOptions } from '../../src/core/swim.js';
import { memberRecord } from '../support/member-record.js';
import type { Address, Effect, MemberMeta, MemberRecord, MemberState, MembershipEvent, Message, Packet, Update } from '../../src/core/types.js';

export const META: MemberMeta = { appAddr: '', serving: true, tags: {} };

export function gossipAddr(name: string): Address {
  return `${name}:7946`;
}
export function grpcAddr(name: string): Address {
  return `${name}:7947`;
}

/** One core with test defaults: 'local' profile, seeded randomness, addresses derived from the name. */
export function makeCore(name: string, overrides: Partial<SwimCoreOptions> = {}, config: Partial<SwimConfig> = {}): SwimCore {
  return new SwimCore({
    name,
    lifeId: `${name}-life-1`,
    incarnation: 1000,
    gossipAddr: gossipAddr(name),
    grpcAddr: grpcAddr(name),
    meta: META,
    config: profileConfig('local', config),
    random: seededRandom(hashName(name)),
    now: 0,
    ...overrides,
  });
}

function hashName(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  return h;
}

export function sends(effects: readonly Effect[]): Extract<Effect, { type: 'send' }>[] {
  return effects.filter((e): e is Extract<Effect, { type: 'send' }> => e.type === 'send');
}
export function events(effects: readonly Effect[]): MembershipEvent[] {
  return effects.flatMap((e) => (e.type === 'event' ? [e.event] : []));
}
export function memberEvents(effects: readonly Effect[]): Extract<MembershipEvent, { type: 'member' }>[] {
  return events(effects).filter((e): e is Extract<MembershipEvent, { type: 'member' }> => e.type === 'member');
}

export function alive(name: string, incarnation = 1000, lifeId = `${name}-life-1`, addrSuffix = ''): Extract<Update, { kind: 'alive' }> {
  return {
    kind: 'alive',
    name,
    lifeId,
    incarnation,
    gossipAddr: gossipAddr(name) + addrSuffix,
    grpcAddr: grpcAddr(name) + addrSuffix,
    meta: META,
  };
}
export function suspect(name: string, incarnation = 1000, from = 'accuser'): Update {
  return { kind: 'suspect', name, incarnation, from };
}
export function dead(name: string, incarnation = 1000, from = 'accuser'): Update {
  return { kind: 'dead', name, incarnation, from };
}
export function left(name: string, incarnation = 1000): Update {
  return { kind: 'left', name, incarnation };
}
export function record(name: string, state: MemberState, incarnation = 1000, lifeId = `${name}-life-1`): MemberRecord {
  return memberRecord(name, { lifeId, incarnation, state, gossipAddr: gossipAddr(name), grpcAddr: grpcAddr(name), meta: META });
}

/**
 * Makes `core` hold `name` dead the one way it can: a gossiped verdict only makes it suspect, and its
 * own suspicion timer, run out (runOutSuspicion), declares the death. Returns the time of the verdict
 * (later steps of a test happen after it).
 */
export function heldDead(core: SwimCore, name: string, incarnation = 1000, now = 0, from = 'accuser'): number {
  gossipTo(core, [dead(name, incarnation, from)], now);
  const { at } = runOutSuspicion(core, name);
  if (core.member(name)?.state !== 'dead') throw new Error(`${name} is ${core.member(name)?.state} after its suspicion ran out`);
  return at;
}

/**
 * Ticks `core` at its suspicion deadline for `name` until the suspicion is over: one tick, or a few
 * when the core is unhealthy and has heard nothing, since then it holds the verdict and reminds the
 * suspect once more per probe timeout (Suspicions.holdVerdict). Returns the effects of every tick and
 * the time of the last.
 */
export function runOutSuspicion(core: SwimCore, name: string): { effects: Effect[]; at: number } {
  const effects: Effect[] = [];
  let at = core.suspicionDeadline(name);
  if (at === undefined) throw new Error(`${name} is not suspected`);
  for (let i = 0; i < 1000 && at !== undefined; i++) {
    effects.push(...core.tick(at));
    const next = core.suspicionDeadline(name);
    if (next === undefined) break;
    at = next;
  }
  return { effects, at };
}

/** Delivers updates to `core` as a gossip-only packet from `from`. */
export function gossipTo(core: SwimCore, updates: readonly Update[], now = 0, from = 'gossiper'): Effect[] {
  return core.receive(gossipAddr(from), { message: null, updates }, now);
}

/** A core that already knows `others` as alive (learned by gossip at time 0), effects discarded. */
export function coreKnowing(name: string, others: readonly string[], overrides: Partial<SwimCoreOptions> = {}, config: Partial<SwimConfig> = {}): SwimCore {
  const core = makeCore(name, overrides, config);
  gossipTo(core, others.map((o) => alive(o)));
  return core;
}

/** Ticks `core` at its next deadline; returns [time, effects]. */
export function tickNext(core: SwimCore): [number, Effect[]] {
  const at = core.nextDeadline();
  if (!Number.isFinite(at)) throw new Error('core has no deadline');
  return [at, core.tick(at)];
}

/** A direct ping a core sent, and when. */
export interface SentPing {
  readonly at: number;
  readonly send: Extract<Effect, { type: 'send' }>;
  readonly ping: Extract<Message, { type: 'ping' }>;
}

/** Ticks until a direct ping goes out; returns it with the time it was sent. */
export function nextPing(core: SwimCore, limit = 100): SentPing {
  return untilNextPing(core, limit).next;
}

/** Delivers an ack for probe `seq` from `from`, directly or (with `via`) relayed by another member. */
export function ack(core: SwimCore, seq: number, from: string, now: number, via = from): Effect[] {
  return core.receive(gossipAddr(via), { message: { type: 'ack', seq, from }, updates: [] }, now);
}

/** Delivers a relay's nack for probe `seq`. */
export function nack(core: SwimCore, seq: number, relay: string, now: number): Effect[] {
  return core.receive(gossipAddr(relay), { message: { type: 'nack', seq, from: relay }, updates: [] }, now);
}

/** The ping-reqs among `effects`, with the address each went to. */
export function pingReqs(effects: readonly Effect[]): { to: string; req: Extract<Message, { type: 'ping-req' }> }[] {
  return sends(effects).flatMap((s) => (s.packet.message?.type === 'ping-req' ? [{ to: s.to, req: s.packet.message }] : []));
}

/** Runs the core until its current probe period closes (the next ping goes out); returns all effects. */
export function untilNextPing(core: SwimCore, limit = 100): { effects: Effect[]; next: SentPing } {
  const effects: Effect[] = [];
  for (let i = 0; i < limit; i++) {
    const [at, out] = tickNext(core);
    effects.push(...out);
    for (const s of sends(out)) {
      if (s.packet.message?.type === 'ping') return { effects, next: { at, send: s, ping: s.packet.message } };
    }
  }
  throw new Error('no next ping');
}

/** Every update carried by the sends in `effects`. */
export function carried(effects: readonly Effect[]): Update[] {
  return sends(effects).flatMap((s) => [...s.packet.updates]);
}

interface InFlight {
  readonly at: number;
  readonly order: number;
  readonly from: Address;
  readonly to: Address;
  readonly packet: Packet;
}

export interface ClusterOptions {
  latencyMs?: number;
  config?: Partial<SwimConfig>;
}

/** Several cores on a virtual network. Deterministic: no real time, seeded randomness. */
export class Cluster {
  now = 0;
  readonly cores = new Map<string, SwimCore>();
  readonly log: { at: number; core: string; event: MembershipEvent }[] = [];
  /** Members whose packets (both ways) and RPCs are dropped: crashed or cut off. */
  readonly silenced = new Set<string>();
  /** Drop a packet or RPC between two cores when this says so (after the silenced check). */
  dropIf: (from: string, to: string, packet: Packet | null) => boolean = () => false;
  packetsDelivered = 0;
  private readonly byGossip = new Map<Address, string>();
  private readonly byGrpc = new Map<Address, string>();
  private inFlight: InFlight[] = [];
  private order = 0;
  private readonly latencyMs: number;
  private readonly config: Partial<SwimConfig>;

  constructor(opts: ClusterOptions = {}) {
    this.latencyMs = opts.latencyMs ?? 1;
    this.config = opts.config ?? {};
  }

  /** Adds a core under `id` (also its name and address unless overrides say otherwise). */
  add(name: string, overrides: Partial<SwimCoreOptions> = {}): SwimCore {
    const core = makeCore(name, { now: this.now, ...overrides }, this.config);
    this.cores.set(name, core);
    this.byGossip.set(core.self.gossipAddr, name);
    this.byGrpc.set(core.self.grpcAddr, name);
    return core;
  }

  core(name: string): SwimCore {
    const core = this.cores.get(name);
    if (core === undefined) throw new Error(`no core ${name}`);
    return core;
  }

  /** Starts n cores named n0..n(k-1) and joins each to n0. */
  static started(n: number, opts: ClusterOptions = {}): Cluster {
    const cluster = new Cluster(opts);
    for (let i = 0; i < n; i++) cluster.add(`n${i}`);
    for (let i = 1; i < n; i++) cluster.apply(`n${i}`, cluster.core(`n${i}`).join([grpcAddr('n0')], cluster.now));
    return cluster;
  }

  /** Carries out effects produced by core `name`. */
  apply(name: string, effects: readonly Effect[]): void {
    for (const effect of effects) {
      switch (effect.type) {
        case 'event':
          this.log.push({ at: this.now, core: name, event: effect.event });
          break;
        case 'send': {
          if (this.silenced.has(name)) break;
          this.inFlight.push({ at: this.now + this.latencyMs, order: this.order++, from: this.core(name).self.gossipAddr, to: effect.to, packet: effect.packet });
          break;
        }
        case 'negotiate': {
          const peer = this.byGrpc.get(effect.to);
          const peerCore = peer === undefined ? undefined : this.cores.get(peer);
          const cut = peer === undefined || this.silenced.has(peer) || this.silenced.has(name) || this.dropIf(name, peer, null) || this.dropIf(peer, name, null);
          if (peer === undefined || peerCore === undefined || cut) {
            this.apply(name, this.core(name).onNegotiateFailed(effect.requestId, this.now));
            break;
          }
          const { reply, effects: peerEffects } = peerCore.onNegotiate(effect.state, effect.join, this.now);
          this.apply(peer, peerEffects);
          this.apply(name, this.core(name).onNegotiateReply(effect.requestId, reply, this.now));
          break;
        }
        case 'closing': {
          const peer = this.byGrpc.get(effect.to);
          if (peer === undefined || this.silenced.has(peer) || this.silenced.has(name) || this.dropIf(name, peer, null)) break;
          this.apply(peer, this.core(peer).onClosing(effect.name, effect.incarnation, this.now));
          break;
        }
      }
    }
  }

  /** Advances virtual time to `until`, delivering packets and running core deadlines in time order. */
  runUntil(until: number): void {
    for (;;) {
      let next = Infinity;
      for (const core of this.cores.values()) next = Math.min(next, core.nextDeadline());
      for (const p of this.inFlight) next = Math.min(next, p.at);
      if (next > until) break;
      this.now = Math.max(this.now, next);
      const due = this.inFlight.filter((p) => p.at <= this.now).sort((a, b) => a.at - b.at || a.order - b.order);
      this.inFlight = this.inFlight.filter((p) => p.at > this.now);
      for (const p of due) this.deliver(p);
      for (const [name, core] of this.cores) {
        if (core.nextDeadline() <= this.now && !this.silenced.has(name)) this.apply(name, core.tick(this.now));
        else if (core.nextDeadline() <= this.now) core.tick(this.now); // a frozen member's timers still run; its output is lost
      }
    }
    this.now = until;
  }

  run(ms: number): void {
    this.runUntil(this.now + ms);
  }

  private deliver(p: InFlight): void {
    const from = this.byGossip.get(p.from);
    const to = this.byGossip.get(p.to);
    if (from === undefined || to === undefined) return;
    if (this.silenced.has(from) || this.silenced.has(to) || this.dropIf(from, to, p.packet)) return;
    const core = this.cores.get(to);
    if (core === undefined) return;
    this.packetsDelivered++;
    this.apply(to, core.receive(p.from, p.packet, this.now));
  }

  /** How `observer` sees `name` (undefined when unknown). */
  stateOf(observer: string, name: string): string | undefined {
    return this.core(observer).member(name)?.state;
  }

  /** Whether every listed observer sees `name` in `state`. */
  allSee(name: string, state: string, observers: readonly string[] = [...this.cores.keys()].filter((n) => n !== name)): boolean {
    return observers.every((o) => this.stateOf(o, name) === state);
  }
}
