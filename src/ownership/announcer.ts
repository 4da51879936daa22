// The outgoing side of claims: this member's claims and releases wait for the announcement window,
// then go into each peer's queue (propagation.ts), or to the relay of its group (relay.ts), and out as
// AnnounceOwnership / AnnounceExpiry. Records other owners asked this member to relay join the same
// queues. Each answer carries the peer's wall clock (sampled by the clock guard), whether it relays,
// and, for claims, the winners the peer holds against ours.
import type { Logger } from 'pino';
import type { ClockPort } from '../member/ports.js';
import type { ClockGuard } from './hlc.js';
import { Propagation } from './propagation.js';
import { peersInOwnOrder, RelayBuffer, RelayPlanner, type RelayGroup } from './relay.js';
import {
  callPortOf,
  type AnnounceAck,
  type AnnounceKind,
  type ClaimCallPort,
  type ClaimCounters,
  type ClaimOptions,
  type ClaimTransport,
  type Peer,
  type RelayPart,
  type Self,
} from './service-types.js';
import type { ClaimRecord } from './types.js';

/** Most claims or releases in one announcement (the receiver refuses more). */
export const MAX_CLAIMS_PER_ANNOUNCEMENT = 1024;

export interface AnnouncerDeps {
  readonly self: () => Self;
  readonly peers: () => readonly Peer[];
  readonly transport: ClaimTransport | ClaimCallPort;
  readonly options: ClaimOptions;
  readonly counters: ClaimCounters;
  readonly clockGuard: ClockGuard;
  readonly wallClock: () => number;
  /** Runs the announcement window. */
  readonly timers: ClockPort;
  /** A peer holds earlier claims against some of ours. */
  readonly onWinners: (winners: readonly ClaimRecord[]) => void;
  readonly logger?: Logger | undefined;
}

export class Announcer {
  /** One bounded queue per peer: a peer that hangs delays only itself. */
  readonly propagation: Propagation;
  /** Our own records waiting for the announcement window, by id (the newest wins). */
  private readonly pending = new Map<string, ClaimRecord>();
  private cancelFlush: (() => void) | null = null;
  private closed = false;
  private readonly calls: ClaimCallPort;
  /** Which peers relay and which of them are slow. */
  readonly relays: RelayPlanner;
  /** Records other owners asked us to forward, waiting for the relay window. */
  private readonly relayBuffer: RelayBuffer;
  private cancelRelayFlush: (() => void) | null = null;

  constructor(private readonly deps: AnnouncerDeps) {
    this.calls = callPortOf(deps.transport);
    this.relays = new RelayPlanner(deps.options.relayGroupSize, () => deps.timers.now());
    this.relayBuffer = new RelayBuffer(deps.options.announceQueuePerPeer);
    this.propagation = new Propagation(
      { concurrency: deps.options.announceConcurrency, maxPendingPerPeer: deps.options.announceQueuePerPeer, maxPerCall: MAX_CLAIMS_PER_ANNOUNCEMENT },
      (peer, records, done) => this.sendBatch(peer, records, done),
    );
  }

  close(): void {
    this.closed = true;
    this.cancelFlush?.();
    this.cancelFlush = null;
    this.cancelRelayFlush?.();
    this.cancelRelayFlush = null;
    this.pending.clear();
    this.relayBuffer.clear();
    this.propagation.close();
  }

  /** Queues one of our records for the next window. */
  add(record: ClaimRecord): void {
    this.pending.set(record.id, record);
    if (this.pending.size >= MAX_CLAIMS_PER_ANNOUNCEMENT) {
      this.flush();
      return;
    }
    if (this.cancelFlush === null && !this.closed) {
      const { timers, options } = this.deps;
      this.cancelFlush = timers.at(timers.now() + options.announceWindowMs, () => this.flush());
    }
  }

  /** Sends records to `peers` at once, without waiting for the window (announceAll). */
  sendNow(peers: readonly Peer[], records: readonly ClaimRecord[]): void {
    this.propagation.enqueue(peersInOwnOrder(peers, this.deps.self().name), records);
  }

  /** Sends what is pending to every live peer now. */
  flush(): void {
    this.cancelFlush?.();
    this.cancelFlush = null;
    if (this.closed) return;
    const records = [...this.pending.values()];
    this.pending.clear();
    const peers = this.deps.peers();
    this.propagation.setPeers(peers);
    this.deps.clockGuard.retain(new Set(peers.map((p) => p.name)));
    if (records.length === 0) return;
    const plan = this.relays.plan(peers);
    this.propagation.enqueue(peersInOwnOrder(plan.direct, this.deps.self().name), records);
    for (const group of plan.groups) this.sendToRelay(group, records);
  }

  /**
   * A peer asked this member to forward `records` (all of `sender`) to the peers named: those in our
   * view (other than the sender and us) get them with the next relay window. Names we do not know are
   * skipped: the digest exchange covers a member the sender knows and we do not.
   */
  relay(sender: string, names: readonly string[], records: readonly ClaimRecord[]): void {
    if (this.closed || !this.relays.enabled() || names.length === 0 || records.length === 0) return;
    const self = this.deps.self().name;
    const wanted = new Set(names);
    const targets = this.deps.peers().filter((p) => wanted.has(p.name) && p.name !== sender && p.name !== self);
    if (targets.length === 0) return;
    this.relayBuffer.add(targets, records);
    if (this.cancelRelayFlush === null) {
      const { timers, options } = this.deps;
      this.cancelRelayFlush = timers.at(timers.now() + options.relayWindowMs, () => this.flushRelayed());
    }
  }

  private flushRelayed(): void {
    this.cancelRelayFlush = null;
    if (this.closed) return;
    for (const { peer, records } of this.relayBuffer.take()) {
      this.deps.counters.recordsRelayed += records.length;
      this.propagation.enqueue([peer], records);
    }
  }

  /**
   * Our records to the relay of one group, naming the group. A relay that fails, or has not answered
   * when its round trips say it should have, is passed over for a while, and the rest of the group gets
   * the records through its next member as relay, once: when that one is passed over too, or none is
   * left, directly, ahead of queued calls (on a machine too loaded to answer in time, trying relay after
   * relay would only add calls).
   * The deadline is checked once more after this member's pending I/O: an answer that arrived while this
   * member was too busy to read it counts. A relay whose call fails gets the records directly as well.
   */
  private sendToRelay(group: RelayGroup, records: readonly ClaimRecord[], second = false): void {
    const { timers, counters } = this.deps;
    counters.relayBatches++;
    const self = this.deps.self();
    const claims = records.filter((r) => !r.released);
    const releases = records.filter((r) => r.released);
    const part: RelayPart = { relayTo: group.targets.map((p) => p.name) };
    const startedAt = timers.now();
    let waiting = (claims.length > 0 ? 1 : 0) + (releases.length > 0 ? 1 : 0);
    /** The group's records are delivered (the relay answered) or went another way. */
    let settled = false;
    let failed = false;
    const passOver = (): void => {
      if (settled) return;
      settled = true;
      cancelTimer();
      if (this.closed) return;
      counters.relayFallbacks++;
      this.relays.slow(group.relay);
      const next = second ? null : this.relays.regroup(group);
      if (next !== null) this.sendToRelay(next, records, true);
      else this.propagation.enqueue(peersInOwnOrder(group.targets, this.deps.self().name), records, true);
    };
    let cancelTimer = timers.at(startedAt + this.relays.slowAfterMs(), () => {
      cancelTimer = timers.at(timers.now(), passOver);
    });
    const answered = (ack: AnnounceAck | null): void => {
      if (ack === null) {
        passOver();
        if (failed || this.closed) return;
        failed = true;
        this.propagation.enqueue([group.relay], records, true);
        return;
      }
      if (--waiting > 0) return;
      this.relays.answered(group.relay, ack.relays === true, timers.now() - startedAt);
      if (settled) return;
      settled = true;
      cancelTimer();
    };
    if (claims.length > 0) this.send(group.relay, self, claims, 'announce', part, answered);
    if (releases.length > 0) this.send(group.relay, self, releases, 'expire', part, answered);
  }

  /** Resolves once every announcement a peer may be called with has been answered or has failed. */
  async drained(): Promise<void> {
    await this.propagation.idle();
  }

  /**
   * One call slot for `peer`: our claims with the records we relay for others, then our releases;
   * `done` once both are answered. Relayed records only ever sit in the queue of a peer that relays.
   */
  private sendBatch(peer: Peer, records: readonly ClaimRecord[], done: () => void): void {
    const self = this.deps.self();
    const claims: ClaimRecord[] = [];
    const releases: ClaimRecord[] = [];
    const relayed: ClaimRecord[] = [];
    for (const r of records) (r.owner !== self.name ? relayed : r.released ? releases : claims).push(r);
    const sendReleases = (): void => {
      if (releases.length > 0) this.send(peer, self, releases, 'expire', undefined, done);
      else done();
    };
    if (claims.length > 0 || relayed.length > 0) this.send(peer, self, claims, 'announce', relayed.length > 0 ? { relayed } : undefined, sendReleases);
    else sendReleases();
  }

  /** One call; `then` gets the ack, or null when the call failed. */
  private send(peer: Peer, self: Self, records: readonly ClaimRecord[], kind: AnnounceKind, relay: RelayPart | undefined, then: (ack: AnnounceAck | null) => void): void {
    const { counters, options } = this.deps;
    if (kind === 'announce') counters.announcementsSent++;
    else counters.expiryAnnouncementsSent++;
    const sentAtMs = this.deps.wallClock();
    const startedAt = this.deps.timers.now();
    const answer = (outcome: AnnounceAck | Error): void => {
      let ack: AnnounceAck | null = null;
      try {
        if (outcome instanceof Error) throw outcome;
        ack = outcome;
        if (relay?.relayTo === undefined) this.relays.answered(peer, outcome.relays === true, this.deps.timers.now() - startedAt);
        if (outcome.receiverWallMs !== undefined) {
          // The peer read its clock somewhere between our send and its answer: compare with the midpoint.
          this.deps.clockGuard.sample(peer.name, outcome.receiverWallMs, Math.round((sentAtMs + this.deps.wallClock()) / 2));
        }
        if (outcome.winners.length > 0) this.deps.onWinners(outcome.winners);
      } catch (err) {
        // The digest exchange repairs what a failed announcement left out.
        ack = null;
        counters.announcementsFailed++;
        this.deps.logger?.debug({ peer: peer.name, rpc: kind, err: err instanceof Error ? err.message : String(err) }, 'claim announcement failed');
      } finally {
        then(ack);
      }
    };
    this.calls.call(kind, peer, self, records, options.rpcTimeoutMs, sentAtMs, answer, relay);
  }
}
