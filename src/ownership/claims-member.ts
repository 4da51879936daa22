// The claims a member runs, driven by its membership: the ClaimService plus what the member view
// decides about claims (who the peers are, which owners' lives are gone, who must be told all our
// claims after a refutation or a rejoin). Sans-IO: time, the wall clock and timers come through a
// ClockPort, announcements go out through a call port, and its inputs are the member's view and
// membership events. It runs inside a Member (src/member/claims.ts gives it the member's ports: timers
// fired from the member's tick, calls as the member's effects), whichever shell carries the member.
import type { Logger } from 'pino';
import type { MemberRecord, MembershipEvent } from '../core/types.js';
import type { ClockPort } from '../member/ports.js';
import { AnnouncePacer } from './announce-pacer.js';
import { ClaimService } from './service.js';
import type { ClaimCallPort, ClaimOptions, ClaimTransport, Peer, Self } from './service-types.js';
import type { OwnerStatus } from './store.js';
import type { ClaimRecord } from './types.js';

export interface ClaimsMemberDeps {
  readonly self: () => Self;
  readonly transport: ClaimTransport | ClaimCallPort;
  readonly options: ClaimOptions;
  readonly timers: ClockPort;
  /** The wall clock claims stamp with, instead of timers.wallNow (a test's offset clock). */
  readonly wallClock?: () => number;
  readonly logger?: Logger;
}

/** How long a departed life is remembered after its record is reaped, so a laggard cannot revive its claims. */
export const DEPARTED_LIFE_MEMORY_MS = 10 * 60_000;
const MAX_DEPARTED_LIVES = 65_536;
/** Full announcements after membership news: at most one per target (all peers, or one member) per interval. */
export const ANNOUNCE_ALL_INTERVAL_MS = 5_000;

export class ClaimsMember {
  readonly service: ClaimService;
  private records = new Map<string, MemberRecord>();
  private peers: Peer[] = [];
  /** name + NUL + life id -> when it departed (monotonic ms). Map order is age order. */
  private readonly departed = new Map<string, number>();
  private readonly announcePacer: AnnouncePacer;

  constructor(private readonly deps: ClaimsMemberDeps) {
    this.announcePacer = new AnnouncePacer(ANNOUNCE_ALL_INTERVAL_MS, deps.timers);
    this.service = new ClaimService({
      self: deps.self,
      peers: () => this.peers,
      memberStatus: (record) => this.memberStatus(record),
      transport: deps.transport,
      options: deps.options,
      timers: deps.timers,
      ...(deps.logger ? { logger: deps.logger } : {}),
      ...(deps.wallClock ? { wallClock: deps.wallClock } : {}),
    });
  }

  start(): void {
    this.service.start();
  }

  close(): void {
    this.announcePacer.close();
    this.service.close();
  }

  /** Members other than this one held alive or suspect: whom announcements go to. */
  livePeers(): readonly Peer[] {
    return this.peers;
  }

  /** After every change of the member view: the peers to announce to, the records owners are judged by. */
  refreshMembers(members: readonly MemberRecord[]): void {
    const self = this.deps.self().name;
    const records = new Map<string, MemberRecord>();
    const peers: Peer[] = [];
    for (const r of members) {
      records.set(r.name, r);
      if (r.name !== self && (r.state === 'alive' || r.state === 'suspect')) peers.push({ name: r.name, grpcAddr: r.grpcAddr, suspect: r.state === 'suspect' });
    }
    this.records = records;
    this.peers = peers;
    this.service.fitMembers(peers.length + 1);
  }

  /** Claims of a member that died, left or restarted are released here. */
  onMembershipEvent(event: MembershipEvent): void {
    if (event.type === 'refuted') {
      // Peers that believed us dead or gone dropped our claims: tell them again.
      if (event.accusation !== 'suspect') this.announcePacer.run('', () => this.service.announceAll());
      return;
    }
    if (event.type !== 'member') return;
    const m = event.member;
    if (m.name === this.deps.self().name) return;
    if (event.to === 'dead' || event.to === 'left') {
      this.rememberDeparted(m.name, m.lifeId);
      this.service.memberDeparted(m.name);
      return;
    }
    const fresh = event.reason === 'restarted' || event.from === null || event.from === 'dead' || event.from === 'left';
    if (!fresh) return;
    // Back from a false death verdict with the same life: its claims are welcome again.
    this.departed.delete(`${m.name}\u0000${m.lifeId}`);
    // A new life supersedes the old one's claims; the new life's own claims stay. It may run another
    // release: it is called directly until its ack says whether it relays.
    this.service.memberDeparted(m.name, m.lifeId);
    this.service.announcer.relays.forget(m.name);
    // It knows none of our claims yet (the digest exchange would tell it too, later).
    const peer = { name: m.name, grpcAddr: m.grpcAddr };
    this.announcePacer.run(`member\u0000${m.name}`, () => this.service.announceAll(peer));
  }

  private rememberDeparted(name: string, lifeId: string): void {
    const now = this.deps.timers.now();
    this.departed.delete(`${name}\u0000${lifeId}`);
    this.departed.set(`${name}\u0000${lifeId}`, now);
    for (const [key, at] of this.departed) {
      if (this.departed.size <= MAX_DEPARTED_LIVES && now - at < DEPARTED_LIFE_MEMORY_MS) break;
      this.departed.delete(key);
    }
  }

  private memberStatus(record: ClaimRecord): OwnerStatus {
    const at = this.departed.get(`${record.owner}\u0000${record.ownerLifeId}`);
    if (at !== undefined && this.deps.timers.now() - at < DEPARTED_LIFE_MEMORY_MS) return 'gone';
    const m = this.records.get(record.owner);
    if (m === undefined) return 'unknown';
    if (m.lifeId === record.ownerLifeId) return m.state === 'dead' || m.state === 'left' ? 'gone' : 'live';
    // Another life: incarnations start at boot time, so a newer life has the higher one.
    return record.ownerIncarnation > m.incarnation ? 'unknown' : 'gone';
  }
}
