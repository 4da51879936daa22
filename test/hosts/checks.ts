// What the scenarios assert about a cluster: every view agrees on who is alive, every member routes a
// fixed key set the same way under one table version, and when (by the watch streams) things happened.
import { metricValue } from './cluster.js';
import type { HostCluster, Life, MembersBody, RoutesBody } from './cluster.js';

export const KEYS: readonly string[] = Array.from({ length: 1000 }, (_, i) => `key-${i}`);

export function stateIn(view: MembersBody, name: string): string | undefined {
  return view.members.find((m) => m.name === name)?.state;
}

/** Every observer answers and sees `name` in `state`. */
export async function allSee(cluster: HostCluster, observers: readonly Life[], name: string, state: string): Promise<boolean> {
  const views = await Promise.all(observers.map((o) => cluster.members(o)));
  return views.every((v) => stateIn(v, name) === state);
}

/**
 * Every observer sees exactly `alive` as its live set (alive, not suspect; everyone else dead, left or
 * gone), one record per name, and all observers report the same table version. Returns that version.
 */
export async function viewsConverged(cluster: HostCluster, observers: readonly Life[], alive: readonly string[]): Promise<string | undefined> {
  const views = await Promise.all(observers.map((o) => cluster.members(o)));
  const want = [...alive].sort().join(',');
  for (const v of views) {
    const names = v.members.map((m) => m.name);
    if (new Set(names).size !== names.length) return undefined;
    const live = v.members.filter((m) => m.state === 'alive' || m.state === 'suspect');
    if (live.some((m) => m.state === 'suspect')) return undefined;
    if (live.map((m) => m.name).sort().join(',') !== want) return undefined;
  }
  const versions = new Set(views.map((v) => v.version));
  return versions.size === 1 ? [...versions][0] : undefined;
}

function fingerprint(r: RoutesBody): string {
  return r.routes.map((a) => `${a.owner?.name ?? '-'}|${a.replicas.map((x) => x.name).join(',')}`).join('\n');
}

/** All observers give the same owner and replicas for KEYS under one version, owned by exactly `owners`. */
export async function routesAgree(cluster: HostCluster, observers: readonly Life[], owners: readonly string[]): Promise<string | undefined> {
  const answers = await Promise.all(observers.map((o) => cluster.routes(o, KEYS)));
  const first = answers[0];
  if (!first) return undefined;
  if (new Set(answers.map((a) => a.version)).size !== 1) return undefined;
  const seenOwners = new Set(first.routes.map((a) => a.owner?.name ?? '-'));
  if ([...seenOwners].sort().join(',') !== [...owners].sort().join(',')) return undefined;
  const print = fingerprint(first);
  return answers.every((a) => fingerprint(a) === print) ? first.version : undefined;
}

/** Milliseconds from `since` to the first watch event putting `name` in `state` (any observer but itself). */
export function firstEventAfter(cluster: HostCluster, since: number, name: string, state: string): number | undefined {
  const hit = cluster.memberEvents(since, (e) => e.name === name && e.to === state && e.observer !== name)[0];
  return hit === undefined ? undefined : hit.at - since;
}

/** Milliseconds from `since` until every observer had reported `name` in `state` (undefined if one never did). */
export function everywhereAfter(cluster: HostCluster, since: number, name: string, state: string, observers: readonly Life[]): number | undefined {
  let latest = since;
  for (const o of observers) {
    const hit = cluster.memberEvents(since, (e) => e.name === name && e.to === state && e.observer === o.name)[0];
    if (hit === undefined) return undefined;
    latest = Math.max(latest, hit.at);
  }
  return latest - since;
}

/** Sum of one counter over the given lives' /metrics. */
export async function sumMetric(cluster: HostCluster, lives: readonly Life[], name: string): Promise<number> {
  const texts = await Promise.all(lives.map((l) => cluster.metrics(l)));
  return texts.reduce((acc, t) => acc + metricValue(t, name), 0);
}

export function seconds(ms: number | undefined): string {
  return ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`;
}
