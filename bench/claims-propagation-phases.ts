// The phases the processes mode of the claims-propagation bench waits through before its first claim,
// so the claims window measures the announcement queues rather than the cluster's cold start: every
// member's ownership table settled (all members answer one table version, unchanged over a pause), and,
// with the hung peer stopped, that peer declared dead in every member's view and the tables settled
// again (otherwise the rebuilds its death causes fall in the claims window).
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SidecarProcess } from '../test/integration/harness.js';

/** When the claims start relative to the hung peer's SIGSTOP. */
export const HUNG_PHASES = ['dead', 'stopped'] as const;
export type HungPhase = (typeof HUNG_PHASES)[number];

interface MembersAnswer {
  readonly version: string;
  readonly members: readonly { readonly name: string; readonly state: string }[];
}

/** Every member's table version, or null for a member that did not answer in time. */
async function versions(nodes: readonly SidecarProcess[]): Promise<(string | null)[]> {
  return Promise.all(nodes.map(async (n) => (await n.json<MembersAnswer>('/v1/members').catch(() => null))?.body.version ?? null));
}

/** Polls between version reads: a table unchanged over this long counts as settled. */
const SETTLE_PAUSE_MS = 2_000;

/**
 * Waits until every node answers the same table version on two reads SETTLE_PAUSE_MS apart (bounded by
 * `timeoutMs`); returns the seconds it took, or throws naming how many versions were still in play.
 */
export async function tablesSettled(nodes: readonly SidecarProcess[], what: string, timeoutMs: number): Promise<number> {
  const from = performance.now();
  let last: string | null = null;
  let seen = 0;
  while (performance.now() - from < timeoutMs) {
    const now = await versions(nodes);
    const distinct = new Set(now);
    const one = distinct.size === 1 ? (now[0] ?? null) : null;
    if (one !== null && one === last) return (performance.now() - from) / 1000;
    last = one;
    seen = distinct.size;
    await sleep(SETTLE_PAUSE_MS);
  }
  throw new Error(`${what}: tables not settled in ${timeoutMs} ms (${seen} distinct versions at the last read)`);
}

/** Waits until `name` is dead or gone in every node's view (bounded by `timeoutMs`); returns the seconds it took. */
export async function deadEverywhere(nodes: readonly SidecarProcess[], name: string, timeoutMs: number): Promise<number> {
  const from = performance.now();
  let notYet = nodes.length;
  while (performance.now() - from < timeoutMs) {
    const states = await Promise.all(
      nodes.map(async (n) => {
        const answer = await n.json<MembersAnswer>('/v1/members').catch(() => null);
        // A member that did not answer has not been seen to agree yet.
        if (answer === null) return 'unknown';
        return answer.body.members.find((m) => m.name === name)?.state ?? 'gone';
      }),
    );
    notYet = states.filter((s) => s === 'alive' || s === 'suspect' || s === 'unknown').length;
    if (notYet === 0) return (performance.now() - from) / 1000;
    await sleep(500);
  }
  throw new Error(`${name} still alive or suspect in ${notYet} views after ${timeoutMs} ms`);
}
