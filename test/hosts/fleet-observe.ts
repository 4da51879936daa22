// What the fleet scenarios measure while pods come and go: every second, each pod's route answers for a
// key sample (is every owner a running pod that serves?); every half second, each pod's member view (do
// they agree, and since when?); afterwards, from the watch streams, how many shards moved against the
// ideal (each leaving member's shards once, each new member's share once).
import { setTimeout as sleep } from 'node:timers/promises';
import { buildTable, DEFAULT_REPLICAS } from '../../src/placement/index.js';
import { KEYS } from './checks.js';
import { SHARDS, type HostCluster, type ObservedEvent } from './cluster.js';
import type { Kubelet, Pod } from './fleet.js';

/** A background loop, bounded in rounds and time, stopped by stop(). */
abstract class Sampler {
  rounds = 0;
  private running = true;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly intervalMs: number, private readonly boundMs: number) {}

  start(): this {
    const deadline = Date.now() + this.boundMs;
    const maxRounds = Math.ceil(this.boundMs / this.intervalMs);
    this.loop = (async () => {
      while (this.running && Date.now() < deadline && this.rounds < maxRounds) {
        const t = Date.now();
        await this.round();
        this.rounds++;
        await sleep(Math.max(0, t + this.intervalMs - Date.now()));
      }
    })();
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  protected abstract round(): Promise<void>;
}

const SLICES = 4;

/** Pods whose route API a co-located app would use: startup passed, app not yet told to stop. */
function askers(kubelet: Kubelet): Pod[] {
  return kubelet.pods.filter((p) => p.startedAt !== null && p.sigtermAt === null && !p.exited);
}

/**
 * Every round asks every pod that serves its app for the owners of a slice of KEYS. An answer fails when a key has
 * no owner, an owner marked not serving, or an owner that is not a running pod past its SIGTERM-free
 * window (the manifests keep a leaving pod answering until the app has drained, so routes that still
 * point at it until then reach a live process; after its SIGTERM they must not).
 */
export class RouteSampler extends Sampler {
  answers = 0;
  keysChecked = 0;
  readonly violations: string[] = [];
  violationCount = 0;
  readonly errors: string[] = [];
  /** Keys answered with an owner whose leave had started when they were asked, and the longest such time. */
  toLeavingOwner = 0;
  longestToLeavingMs = 0;
  longestToLeaving = '';

  constructor(private readonly cluster: HostCluster, private readonly kubelet: Kubelet, boundMs: number) {
    super(1000, boundMs);
  }

  protected async round(): Promise<void> {
    await Promise.all(
      askers(this.kubelet).map(async (asker, i) => {
        // A quarter of the keys per answer, a different quarter each round: every pod is asked for every
        // key within four rounds, at a quarter of the JSON the test process must parse.
        const from = ((this.rounds + i) % SLICES) * (KEYS.length / SLICES);
        const keys = KEYS.slice(from, from + KEYS.length / SLICES);
        const sentAt = Date.now();
        try {
          const body = await this.cluster.routes(asker.life, keys);
          this.check(asker, body.routes, sentAt);
        } catch (err) {
          // A pod whose termination began may stop answering; any other must answer.
          if (asker.terminatingAt === null && !asker.exited) this.errors.push(`${asker.name}: ${String(err)}`);
        }
      }),
    );
  }

  /**
   * The answer was made between `sentAt` and now: an owner counts as running if a pod of that name had
   * been created by now and had not had its SIGTERM when the request was sent.
   */
  private check(asker: Pod, routes: readonly { key: string; owner: { name: string; serving: boolean } | null }[], sentAt: number): void {
    this.answers++;
    const now = Date.now();
    const running = (name: string): Pod | undefined => this.kubelet.pods.find((p) => p.name === name && p.createdAt <= now && (p.sigtermAt ?? Infinity) > sentAt);
    const problems: string[] = [];
    for (const r of routes) {
      this.keysChecked++;
      if (r.owner === null) {
        problems.push(`${r.key}: no owner`);
        continue;
      }
      const owner = running(r.owner.name);
      if (!r.owner.serving) problems.push(`${r.key}: owner ${r.owner.name} not serving`);
      else if (!owner) problems.push(`${r.key}: owner ${r.owner.name} is not a running pod (or had its SIGTERM)`);
      else if (owner.terminatingAt !== null && owner.terminatingAt < sentAt) {
        this.toLeavingOwner++;
        if (sentAt - owner.terminatingAt > this.longestToLeavingMs) {
          this.longestToLeavingMs = sentAt - owner.terminatingAt;
          this.longestToLeaving = `${asker.name} (${asker.startedAt !== null && asker.startedAt > owner.terminatingAt ? 'started after' : 'running before'} that preStop) named ${owner.name}`;
        }
      }
    }
    if (problems.length > 0) {
      this.violationCount++;
      if (this.violations.length < 20) this.violations.push(`${asker.name} at +${now}: ${problems.length} keys, e.g. ${problems.slice(0, 3).join('; ')}`);
    }
  }
}

interface ViewSample {
  readonly at: number;
  /** Every observer reports the same table version and the same members alive and serving. */
  readonly agreed: boolean;
  readonly serving: ReadonlySet<string>;
}

/** Polls the member views of started, non-terminating pods; says when they agreed after a change. */
export class ViewTracker extends Sampler {
  readonly samples: ViewSample[] = [];

  constructor(private readonly cluster: HostCluster, private readonly kubelet: Kubelet, boundMs: number) {
    super(500, boundMs);
  }

  protected async round(): Promise<void> {
    const observers = this.kubelet.pods.filter((p) => p.startedAt !== null && p.terminatingAt === null && !p.exited);
    try {
      const views = await Promise.all(observers.map((p) => this.cluster.members(p.life)));
      const sets = views.map((v) => v.members.filter((m) => m.state === 'alive' && m.serving).map((m) => m.name).sort().join(','));
      const suspect = views.some((v) => v.members.some((m) => m.state === 'suspect'));
      const agreed = views.length > 0 && !suspect && new Set(sets).size === 1 && new Set(views.map((v) => v.version)).size === 1;
      this.samples.push({ at: Date.now(), agreed, serving: new Set((sets[0] ?? '').split(',').filter(Boolean)) });
    } catch {
      // an observer went away mid-round; the next round asks the pods there are then
    }
  }

  /** Milliseconds from `since` to the first agreed view in which `holds` is true; undefined if none. */
  oneViewAfter(since: number, holds: (serving: ReadonlySet<string>) => boolean): number | undefined {
    const hit = this.samples.find((s) => s.at >= since && s.agreed && holds(s.serving));
    return hit === undefined ? undefined : hit.at - since;
  }
}

/** A membership change the harness caused: a pod joined (created) or left (its termination began). */
export interface Change {
  readonly kind: 'join' | 'leave';
  readonly name: string;
  readonly at: number;
}

export interface MoveReport {
  /** Sum over changes of the median (over observers that saw it) of owner moves attributed to it. */
  readonly observed: number;
  /** Sum over changes of the member's share: shards it owned before leaving / owns after joining. */
  readonly ideal: number;
  /** Per observer, owner moves between two members neither of which was joining or leaving; the largest. */
  readonly unattributedMax: number;
  /** Changes no observer saw in full (too short-lived): left out of both sums. */
  readonly unseen: number;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? 0 : s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** A change's moves reach every member within a few seconds; an observer must stay this long after it. */
const WATCH_AFTER_CHANGE_MS = 15_000;

/**
 * The event came from this pod's own watch stream (a name can belong to two pods one after the other),
 * once its startup probe had passed: before that its view, and so its table, is still filling in.
 */
function heardBy(e: ObservedEvent, pod: Pod): boolean {
  return e.observer === pod.name && pod.startedAt !== null && e.at >= pod.startedAt && e.at <= (pod.exitedAt ?? Infinity);
}

/** Shards `name` owns when exactly `members` serve (the placement every member computes). */
function shareOf(name: string, members: ReadonlySet<string>): number {
  const table = buildTable([...members], { shards: SHARDS, replicas: DEFAULT_REPLICAS });
  let n = 0;
  for (let s = 0; s < SHARDS; s++) if (table.ownerOf(s) === name) n++;
  return n;
}

/**
 * Owner moves from the watch streams, attributed per group: from a member whose leave had begun (that
 * leave), else to a member that had joined (that join), else unattributed. A change counts an observer
 * whose table had settled before it and that did not start leaving until well after it.
 */
export function shardMoves(events: readonly ObservedEvent[], changes: readonly Change[], initial: ReadonlySet<string>, kubelet: Kubelet, since: number): MoveReport {
  const ordered = [...changes].sort((a, b) => a.at - b.at);
  const serving = new Set(initial);
  let ideal = 0;
  let observed = 0;
  let unseen = 0;
  for (const c of ordered) {
    const share = c.kind === 'leave' ? shareOf(c.name, serving) : shareOf(c.name, new Set([...serving, c.name]));
    if (c.kind === 'leave') serving.delete(c.name);
    else serving.add(c.name);
    // Observers: other pods with a settled table before the change, not leaving until well after it.
    const watchers = kubelet.pods.filter((p) => p.name !== c.name && p.startedAt !== null && p.startedAt < c.at && (p.terminatingAt ?? Infinity) > c.at + WATCH_AFTER_CHANGE_MS);
    if (watchers.length === 0) {
      unseen++;
      continue;
    }
    const perWatcher = watchers.map((w) => {
      let moved = 0;
      for (const e of events) {
        if (!heardBy(e, w) || e.at < c.at || e.event.type !== 'moves') continue;
        for (const g of e.event.moves) {
          if (g.role !== 'owner') continue;
          const attributed = attribute(g.from, g.to, e.at, ordered);
          if (attributed === c) moved += g.count;
        }
      }
      return moved;
    });
    ideal += share;
    observed += median(perWatcher);
  }
  let unattributedMax = 0;
  for (const p of kubelet.pods) {
    let n = 0;
    for (const e of events) {
      if (!heardBy(e, p) || e.at < since || e.event.type !== 'moves') continue;
      for (const g of e.event.moves) if (g.role === 'owner' && attribute(g.from, g.to, e.at, ordered) === undefined && g.from !== null) n += g.count;
    }
    unattributedMax = Math.max(unattributedMax, n);
  }
  return { observed, ideal, unattributedMax, unseen };
}

/**
 * The change a move belongs to: the leave of `from` if that was the last change of `from` before it,
 * else the join of `to` if that was the last change of `to` (a StatefulSet pod leaves and joins again
 * under one name).
 */
function attribute(from: string | null, to: string | null, at: number, ordered: readonly Change[]): Change | undefined {
  const latest = (name: string | null): Change | undefined => {
    let hit: Change | undefined;
    for (const c of ordered) if (c.at <= at && c.name === name) hit = c;
    return hit;
  };
  const leave = latest(from);
  if (leave?.kind === 'leave') return leave;
  const join = latest(to);
  return join?.kind === 'join' ? join : undefined;
}
