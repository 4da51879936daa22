// The outgoing side of claims: this member's claims and releases wait for the announcement window,
// then go into each peer's queue (propagation.ts) and out as AnnounceOwnership / AnnounceExpiry.
// Each answer carries the peer's wall clock (sampled by the clock guard) and, for claims, the winners
// the peer holds against ours.
import type { Logger } from 'pino';
import type { ClockPort } from '../member/ports.js';
import type { ClockGuard } from './hlc.js';
import { Propagation } from './propagation.js';
import { callPortOf, type AnnounceKind, type ClaimCallPort, type ClaimCounters, type ClaimOptions, type ClaimTransport, type Peer, type Self } from './service-types.js';
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

  constructor(private readonly deps: AnnouncerDeps) {
    this.calls = callPortOf(deps.transport);
    this.propagation = new Propagation(
      { concurrency: deps.options.announceConcurrency, maxPendingPerPeer: deps.options.announceQueuePerPeer, maxPerCall: MAX_CLAIMS_PER_ANNOUNCEMENT },
      (peer, records, done) => this.sendBatch(peer, records, done),
    );
  }

  close(): void {
    this.closed = true;
    this.cancelFlush?.();
    this.cancelFlush = null;
    this.pending.clear();
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
    this.propagation.enqueue(peers, records);
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
    this.propagation.enqueue(peers, records);
  }

  /** Resolves once every announcement a peer may be called with has been answered or has failed. */
  async drained(): Promise<void> {
    await this.propagation.idle();
  }

  /** One call slot for `peer`: its claims, then its releases; `done` once both are answered. */
  private sendBatch(peer: Peer, records: readonly ClaimRecord[], done: () => void): void {
    const self = this.deps.self();
    const claims = records.filter((r) => !r.released);
    const releases = records.filter((r) => r.released);
    const sendReleases = (): void => {
      if (releases.length > 0) this.send(peer, self, releases, 'expire', done);
      else done();
    };
    if (claims.length > 0) this.send(peer, self, claims, 'announce', sendReleases);
    else sendReleases();
  }

  private send(peer: Peer, self: Self, records: readonly ClaimRecord[], kind: AnnounceKind, then: () => void): void {
    const { counters, options } = this.deps;
    if (kind === 'announce') counters.announcementsSent++;
    else counters.expiryAnnouncementsSent++;
    const sentAtMs = this.deps.wallClock();
    this.calls.call(kind, peer, self, records, options.rpcTimeoutMs, sentAtMs, (outcome) => {
      try {
        if (outcome instanceof Error) throw outcome;
        if (outcome.receiverWallMs !== undefined) {
          // The peer read its clock somewhere between our send and its answer: compare with the midpoint.
          this.deps.clockGuard.sample(peer.name, outcome.receiverWallMs, Math.round((sentAtMs + this.deps.wallClock()) / 2));
        }
        if (outcome.winners.length > 0) this.deps.onWinners(outcome.winners);
      } catch (err) {
        // The digest exchange repairs what a failed announcement left out.
        counters.announcementsFailed++;
        this.deps.logger?.debug({ peer: peer.name, rpc: kind, err: err instanceof Error ? err.message : String(err) }, 'claim announcement failed');
      } finally {
        then();
      }
    });
  }
}
