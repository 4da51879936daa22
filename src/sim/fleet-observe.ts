// What a fleet operation in the simulator is measured by (the same measures as the real-process fleet
// tests, test/hosts/fleet-observe.ts): about every simulated second, each pod that serves its app is asked for
// the owners of a key sample as its route API would answer (the table it serves, skipping members it
// knows stopped serving: src/runtime/route-index.ts), and every owner must be a running pod, not past its
// SIGTERM, that this pod sees serving; every tenth of a second whether the pods agree on one table version
// (for the time to one view after each change); and, as tables change, the owner moves against the ideal.
import type { MembershipEvent } from '../core/types.js';
import { buildTable, DEFAULT_REPLICAS, type PlacementTable } from '../placement/index.js';
import type { FleetChange, SimKubelet, SimPod } from './fleet.js';
import type { SimMember } from './member-core.js';
import { max, median } from './stats.js';

/** The real-process tests' shard count and key sample. */
export const FLEET_SHARDS = 4096;
const KEYS: readonly string[] = Array.from({ length: 1000 }, (_, i) => `key-${i}`);
/** Tables kept built (the versions in use at once, and the last few). */
const TABLE_CACHE = 64;
/** A change's moves reach every member within seconds; a watcher of it must stay this long after it. */
const WATCH_AFTER_CHANGE_MS = 15_000;

interface MoveGroup {
  readonly from: string | null;
  readonly to: string | null;
  readonly count: number;
}

export class FleetObserver {
  routeRounds = 0;
  keysChecked = 0;
  /** Route answers (one pod, one round) with a key whose owner was not a running, serving pod. */
  readonly violations: string[] = [];
  violationCount = 0;
  /** Keys answered with an owner whose leave had begun (allowed until its SIGTERM). */
  toLeavingOwner = 0;
  deaths: string[] = [];
  suspectEvents = 0;
  private readonly owners = new Map<string, readonly string[]>();
  private readonly tables = new Map<string, PlacementTable>();
  private readonly diffs = new Map<string, readonly MoveGroup[]>();
  /** Owner moves per change index, per watching pod. */
  private readonly moved = new Map<number, Map<SimPod, number>>();
  private unattributed = new Map<SimPod, number>();
  private readonly lastVersion = new Map<SimPod, string>();
  /** View samples: the version every observer agreed on, or null. */
  private readonly views: { at: number; version: string | null }[] = [];
  private keyShards: Int32Array | null = null;

  constructor(private readonly kubelet: SimKubelet, private readonly since: number) {}

  onEvent(event: MembershipEvent, observer: string, now: number): void {
    if (event.type !== 'member' || now < this.since) return;
    if (event.to === 'dead') this.deaths.push(`${observer} saw ${event.name} dead at ${now} ms`);
    if (event.to === 'suspect') this.suspectEvents++;
  }

  /** A member began serving a table: its owners are recorded, and its owner moves attributed. */
  onTableServed(member: SimMember, version: string, owners: readonly string[]): void {
    this.remember(version, owners);
    const pod = this.kubelet.podOf(member);
    if (pod === undefined) return;
    const before = this.lastVersion.get(pod);
    this.lastVersion.set(pod, version);
    if (before === undefined || before === version || pod.startedAt === null) return;
    for (const g of this.diff(before, version)) {
      const change = attribute(g.from, g.to, this.kubelet);
      if (change === undefined) {
        if (g.from !== null) this.unattributed.set(pod, (this.unattributed.get(pod) ?? 0) + g.count);
        continue;
      }
      let perPod = this.moved.get(change);
      if (perPod === undefined) this.moved.set(change, (perPod = new Map()));
      perPod.set(pod, (perPod.get(pod) ?? 0) + g.count);
    }
  }

  /** One route round: every pod serving its app answers for a tenth of the keys (a different tenth each round). */
  routeRound(now: number): void {
    const round = this.routeRounds++;
    const pods = this.kubelet.pods;
    // The running, non-terminating pod of each name (a StatefulSet's old pod may still be terminating).
    const good = new Map<string, SimPod>();
    for (const p of pods) if (p.terminatingAt === null && !p.exited) good.set(p.name, p);
    const slice = KEYS.length / 10;
    pods.forEach((asker, i) => {
      if (asker.startedAt === null || asker.sigtermAt !== null || asker.exited) return;
      const owners = asker.member.servedOwners;
      const version = asker.member.wholeMember.tableVersion;
      if (owners === null || version === null) return;
      this.remember(version, owners);
      const from = ((round + i) % 10) * slice;
      this.keysChecked += slice;
      const view = asker.member.wholeMember.core;
      const servingSeen = (name: string): boolean => view.member(name)?.meta.serving === true;
      // Every key whose owner is a running, non-terminating pod the asker sees serving is answered well.
      if (owners.every((n) => good.has(n) && servingSeen(n))) return;
      const table = this.table(version);
      const shards = this.shardsOfKeys(table);
      const problems: string[] = [];
      for (let k = from; k < from + slice; k++) {
        const shard = shards[k] ?? 0;
        const ranking = [table.ownerOf(shard), ...table.replicasOf(shard)].filter((n): n is string => n !== null);
        const serving = ranking.filter(servingSeen);
        const owner = serving[0] ?? ranking[0] ?? null;
        if (owner === null) problems.push(`${KEYS[k]}: no owner`);
        else if (!servingSeen(owner)) problems.push(`${KEYS[k]}: owner ${owner} not serving`);
        else if (!good.has(owner)) {
          // A pod whose leave began still answers until its SIGTERM (the manifests hold it up while the app drains).
          if (pods.some((p) => p.name === owner && p.sigtermAt === null && !p.exited)) this.toLeavingOwner++;
          else problems.push(`${KEYS[k]}: owner ${owner} is not a running pod (or had its SIGTERM)`);
        }
      }
      if (problems.length > 0) {
        this.violationCount += problems.length;
        if (this.violations.length < 20) this.violations.push(`${asker.name} at ${now} ms: ${problems.length} keys, e.g. ${problems.slice(0, 3).join('; ')}`);
      }
    });
    this.evictTables();
  }

  /** One view sample: every started, non-terminating pod serves the same version and holds nobody suspect. */
  viewSample(now: number): void {
    let version: string | null | undefined;
    for (const p of this.kubelet.pods) {
      if (p.startedAt === null || p.terminatingAt !== null || p.exited) continue;
      const core = p.member.wholeMember.core;
      const v = p.member.wholeMember.tableVersion;
      if (v !== null && p.member.servedOwners !== null) this.remember(v, p.member.servedOwners);
      if (v === null || core.peersInState('suspect') > 0 || (version !== undefined && v !== version)) {
        version = null;
        break;
      }
      version = v;
    }
    this.views.push({ at: now, version: version ?? null });
  }

  /** Milliseconds from each change to the first agreed view that includes (join) or excludes (leave) its member. */
  oneViewAfter(kind: FleetChange['kind']): { median: number | null; max: number | null; missing: number } {
    const times: number[] = [];
    let missing = 0;
    for (const c of this.kubelet.changes) {
      if (c.kind !== kind) continue;
      let hit: { at: number } | undefined;
      for (let i = this.firstSampleFrom(c.at); i < this.views.length && hit === undefined; i++) {
        const s = this.views[i]!;
        const owners = s.version === null ? undefined : this.owners.get(s.version);
        if (owners !== undefined && owners.includes(c.name) === (kind === 'join')) hit = s;
      }
      if (hit === undefined) missing++;
      else times.push(hit.at - c.at);
    }
    return { median: median(times), max: max(times), missing };
  }

  /** Index of the first view sample at or after `at` (samples are in time order). */
  private firstSampleFrom(at: number): number {
    let lo = 0;
    let hi = this.views.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.views[mid]!.at < at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Owner moves against the ideal: per change, the median over the pods that watched it (started before
   * it, not leaving until well after) of the moves attributed to it; the ideal is the member's share for
   * the members serving then (its shards before it left, its share after it joined).
   */
  shardMoves(initial: readonly string[]): { observed: number; ideal: number; unattributedMax: number; unseen: number } {
    const serving = new Set(initial);
    let observed = 0;
    let ideal = 0;
    let unseen = 0;
    this.kubelet.changes.forEach((c, i) => {
      const share = c.kind === 'leave' ? shareOf(c.name, serving) : shareOf(c.name, new Set([...serving, c.name]));
      if (c.kind === 'leave') serving.delete(c.name);
      else serving.add(c.name);
      const watchers = this.kubelet.pods.filter((p) => p.name !== c.name && p.startedAt !== null && p.startedAt < c.at && (p.terminatingAt ?? Infinity) > c.at + WATCH_AFTER_CHANGE_MS);
      if (watchers.length === 0) {
        unseen++;
        return;
      }
      const perPod = this.moved.get(i);
      ideal += share;
      observed += median(watchers.map((w) => perPod?.get(w) ?? 0)) ?? 0;
    });
    return { observed, ideal, unattributedMax: Math.max(0, ...this.unattributed.values()), unseen };
  }

  /** The owners a version stands for, as the members that serve it say (the same owners give the same version). */
  private remember(version: string, owners: readonly string[]): void {
    if (!this.owners.has(version)) this.owners.set(version, [...owners]);
  }

  private table(version: string): PlacementTable {
    let t = this.tables.get(version);
    if (t === undefined) {
      const owners = this.owners.get(version);
      if (owners === undefined) throw new Error(`no owners known for table version ${version}`);
      t = buildTable(owners, { shards: FLEET_SHARDS, replicas: DEFAULT_REPLICAS });
      this.tables.set(version, t);
    } else {
      this.tables.delete(version);
      this.tables.set(version, t);
    }
    return t;
  }

  private evictTables(): void {
    while (this.tables.size > TABLE_CACHE) {
      const oldest = this.tables.keys().next().value as string;
      this.tables.delete(oldest);
    }
  }

  private shardsOfKeys(table: PlacementTable): Int32Array {
    if (this.keyShards === null) this.keyShards = Int32Array.from(KEYS, (k) => table.shardOf(k));
    return this.keyShards;
  }

  /** Owner moves between two versions' tables, grouped by (from, to); the same pair is diffed once. */
  private diff(a: string, b: string): readonly MoveGroup[] {
    const key = `${a}>${b}`;
    let groups = this.diffs.get(key);
    if (groups !== undefined) return groups;
    const ta = this.table(a);
    const tb = this.table(b);
    const counts = new Map<string, { from: string | null; to: string | null; count: number }>();
    for (let s = 0; s < FLEET_SHARDS; s++) {
      const from = ta.ownerOf(s);
      const to = tb.ownerOf(s);
      if (from === to) continue;
      const k = `${from}\t${to}`;
      const g = counts.get(k);
      if (g === undefined) counts.set(k, { from, to, count: 1 });
      else g.count++;
    }
    groups = [...counts.values()];
    this.diffs.set(key, groups);
    this.evictTables();
    return groups;
  }
}

/** Shards `name` owns when exactly `members` serve. */
function shareOf(name: string, members: ReadonlySet<string>): number {
  const table = buildTable([...members], { shards: FLEET_SHARDS, replicas: DEFAULT_REPLICAS });
  let n = 0;
  for (let s = 0; s < FLEET_SHARDS; s++) if (table.ownerOf(s) === name) n++;
  return n;
}

/**
 * The change (its index) a move belongs to, made now: the leave of `from` if that is the latest change
 * of `from`, else the join of `to` if that is the latest change of `to` (a StatefulSet pod leaves and
 * joins again under one name).
 */
function attribute(from: string | null, to: string | null, kubelet: SimKubelet): number | undefined {
  const { changes, latestChange } = kubelet;
  const leave = from === null ? undefined : latestChange.get(from);
  if (leave !== undefined && changes[leave]?.kind === 'leave') return leave;
  const join = to === null ? undefined : latestChange.get(to);
  return join !== undefined && changes[join]?.kind === 'join' ? join : undefined;
}
