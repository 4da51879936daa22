// Which protocol version this member talks with each peer (docs/wire.md "Versions and rolling
// upgrades"). A peer's range comes from its own alive record (the `swimring.protocol` tag, absent for
// a member speaking only version 1), which reaches every member through gossip and Negotiate, so a
// restart with another build is seen with the new life's record. The decisions are in
// src/codec/protocol-version.ts; this file only remembers ranges by gossip address.
import {
  checkJoinRange,
  formatRange,
  rangeFromTags,
  versionForPeer,
  type VersionRange,
} from '../codec/protocol-version.js';
import type { MemberRecord } from '../core/types.js';
import type { Logger } from 'pino';

interface PeerEntry {
  readonly addr: string;
  readonly range: VersionRange | null;
  readonly live: boolean;
}

export class PeerVersions {
  private readonly byName = new Map<string, PeerEntry>();
  private readonly byAddr = new Map<string, VersionRange | null>();
  constructor(
    readonly spoken: VersionRange,
    /** Packets sent and received, by "out:V" / "in:V": what /metrics shows per version. */
    private readonly packets: Map<string, number> = new Map(),
  ) {}

  /** A member's record as the core holds it now (every membership event carries it). */
  observe(member: MemberRecord): void {
    const before = this.byName.get(member.name);
    if (before !== undefined && before.addr !== member.gossipAddr) this.byAddr.delete(before.addr);
    const range = rangeFromTags(member.meta.tags);
    const live = member.state === 'alive' || member.state === 'suspect';
    this.byName.set(member.name, { addr: member.gossipAddr, range, live });
    this.byAddr.set(member.gossipAddr, range);
  }

  /** The member's record left the core's table. */
  forget(name: string): void {
    const entry = this.byName.get(name);
    if (entry === undefined) return;
    this.byName.delete(name);
    if (this.byAddr.get(entry.addr) === entry.range) this.byAddr.delete(entry.addr);
  }

  /** The version to encode the next packet to `addr` in; counted as sent. */
  versionFor(addr: string): number {
    const range = this.byAddr.get(addr);
    const version = versionForPeer(this.spoken, range ?? null);
    this.count('out', version);
    return version;
  }

  received(version: number): void {
    this.count('in', version);
  }

  /** The range a member advertises; null when unknown (never seen, or a tag that is not a range). */
  rangeOf(name: string): VersionRange | null {
    return this.byName.get(name)?.range ?? null;
  }

  /**
   * Why a member speaking `joiner` may not join, or null when it may: it must share a version with
   * this member and with every live member known here, or some pair would refuse each other's packets.
   */
  joinRefusal(joiner: VersionRange, joinerName: string, selfName: string): string | null {
    const members: { name: string; range: VersionRange }[] = [{ name: selfName, range: this.spoken }];
    for (const [name, entry] of this.byName) {
      if (name !== joinerName && name !== selfName && entry.live && entry.range !== null) members.push({ name, range: entry.range });
    }
    const verdict = checkJoinRange(joiner, members);
    return verdict.ok ? null : `${verdict.message} (the cluster needs a version every member speaks; this member speaks ${formatRange(this.spoken)})`;
  }

  private count(direction: 'in' | 'out', version: number): void {
    const key = `${direction}:${version}`;
    this.packets.set(key, (this.packets.get(key) ?? 0) + 1);
  }
}

/**
 * Joins a seed refused (no protocol version in common, say): a cluster is there that this member
 * cannot be part of. It must not form another beside it: `refused` holds --bootstrap back, and
 * `current` keeps it unready (also when it bootstrapped alone before the refusal came back) until a
 * seed accepts a join. Counted by reason; logged once per seed and message.
 */
export class JoinRefusals {
  private last: string | null = null;
  private everRefused = false;
  private readonly logged = new Set<string>();

  constructor(
    private readonly counts: Map<string, number>,
    private readonly logger: Pick<Logger, 'error'>,
  ) {}

  /** A seed refused a join since the start. */
  get refused(): boolean {
    return this.everRefused;
  }

  /** Why this member may not serve: the last join was refused; null once a seed accepted one. */
  get current(): string | null {
    return this.last;
  }

  record(seed: string, message: string): void {
    this.everRefused = true;
    this.last = `refused by seed ${seed}: ${message}`;
    const reason = /protocol.?version/i.test(message) ? 'unsupported-version' : 'refused';
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    const key = `${seed} ${message}`;
    if (this.logged.has(key) || this.logged.size >= 64) return;
    this.logged.add(key);
    this.logger.error({ seed, reason, detail: message }, 'a seed refused this member: it will not join, nor form a cluster alone; retrying');
  }

  /** A seed accepted a join. */
  accepted(): void {
    this.last = null;
  }
}
