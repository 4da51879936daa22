// What the simulated members did besides SWIM, for the report: readiness as a kubelet polling /readyz
// would see it, the table versions each member served, and its serving flag. Counted per process life.

import { fnv1a } from '../codec/fnv1a.js';

export interface MemberLife {
  readonly name: string;
  /** The last poll's answer; null before the first poll. */
  ready: boolean | null;
  firstReadyAt: number | null;
  /** Changes between two consecutive polls' answers (the first poll is no change). */
  transitions: number;
  /** Ready to unready while the member was not leaving. */
  losses: number;
  /** Polls that answered unready after the first readiness, while the member was not leaving. */
  unreadyPollsAfterReady: number;
  /** Table versions served, counting each change of version. */
  versions: number;
  version: string | null;
  versionAt: number;
  serving: boolean | null;
  servingChanges: number;
}

export interface MemberReport {
  /** The latest first readiness among the members live at the end; null when one never got ready. */
  member_ready_s_max: number | null;
  members_never_ready: number;
  readiness_polls: number;
  readiness_transitions: number;
  readiness_transitions_max_per_member: number;
  readiness_losses: number;
  unready_polls_after_ready: number;
  table_versions: number;
  table_versions_max_per_member: number;
  table_versions_at_end: number;
  /** Since when every live member serves the one same version; null when they differ at the end. */
  one_table_version_s: number | null;
  serving_members: number;
  serving_changes: number;
}

export class MemberFigures {
  readonly lives: MemberLife[] = [];
  private polls = 0;
  /** Each name's hash, computed once for the whole simulation. */
  private readonly nameHashes = new Map<string, number>();

  lifeStarted(name: string, now: number): MemberLife {
    const life: MemberLife = {
      name,
      ready: null,
      firstReadyAt: null,
      transitions: 0,
      losses: 0,
      unreadyPollsAfterReady: 0,
      versions: 0,
      version: null,
      versionAt: now,
      serving: null,
      servingChanges: 0,
    };
    this.lives.push(life);
    return life;
  }

  readinessPolled(life: MemberLife, ready: boolean, leaving: boolean, now: number): void {
    this.polls++;
    if (life.ready !== null && life.ready !== ready) {
      life.transitions++;
      if (!ready && !leaving) life.losses++;
    }
    if (ready && life.firstReadyAt === null) life.firstReadyAt = now;
    if (!ready && !leaving && life.firstReadyAt !== null) life.unreadyPollsAfterReady++;
    life.ready = ready;
  }

  servingSeen(life: MemberLife, serving: boolean): void {
    if (life.serving !== null && life.serving !== serving) life.servingChanges++;
    life.serving = serving;
  }

  tableServed(life: MemberLife, version: string, now: number): void {
    if (version === life.version) return;
    life.version = version;
    life.versionAt = now;
    life.versions++;
  }

  /**
   * A version standing for an owner set without building its table: the same owners give the same
   * version in every member, in any order (a sum of the names' hashes with the count).
   */
  versionOf(owners: readonly string[]): string {
    let sum = 0;
    for (const name of owners) sum = (sum + this.nameHash(name)) >>> 0;
    return this.version(owners.length, sum);
  }

  /** versionOf for `count` owners whose nameHash values sum to `hashSum` (modulo 2^32). */
  version(count: number, hashSum: number): string {
    return `${count}-${hashSum.toString(16).padStart(8, '0')}`;
  }

  nameHash(name: string): number {
    let h = this.nameHashes.get(name);
    if (h === undefined) {
      h = fnv1a(name);
      this.nameHashes.set(name, h);
    }
    return h;
  }

  /** The figures, with `live` the lives still running at the end (not crashed, not left). */
  report(live: readonly MemberLife[]): MemberReport {
    let readyMax = 0;
    let neverReady = 0;
    for (const life of live) {
      if (life.firstReadyAt === null) neverReady++;
      else readyMax = Math.max(readyMax, life.firstReadyAt);
    }
    const versionsAtEnd = new Set(live.map((l) => l.version));
    let oneSince = 0;
    for (const life of live) oneSince = Math.max(oneSince, life.versionAt);
    const sum = (pick: (l: MemberLife) => number): number => this.lives.reduce((acc, l) => acc + pick(l), 0);
    const max = (pick: (l: MemberLife) => number): number => this.lives.reduce((acc, l) => Math.max(acc, pick(l)), 0);
    return {
      member_ready_s_max: neverReady === 0 && live.length > 0 ? seconds(readyMax) : null,
      members_never_ready: neverReady,
      readiness_polls: this.polls,
      readiness_transitions: sum((l) => l.transitions),
      readiness_transitions_max_per_member: max((l) => l.transitions),
      readiness_losses: sum((l) => l.losses),
      unready_polls_after_ready: sum((l) => l.unreadyPollsAfterReady),
      table_versions: sum((l) => l.versions),
      table_versions_max_per_member: max((l) => l.versions),
      table_versions_at_end: versionsAtEnd.size,
      one_table_version_s: versionsAtEnd.size === 1 && !versionsAtEnd.has(null) ? seconds(oneSince) : null,
      serving_members: live.filter((l) => l.serving === true).length,
      serving_changes: sum((l) => l.servingChanges),
    };
  }
}

function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}
