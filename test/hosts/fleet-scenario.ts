// The frame of every fleet scenario: a cluster of pods at Kubernetes semantics (fleet.ts), the samplers
// running while a controller changes the pods (fleet-observe.ts), then the assertions the issue asks
// for and one summary row. Used by fleet.test.ts (a Deployment) and fleet-statefulset.test.ts.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { defaultAdminTokenFile } from '../../src/http/admin-token.js';
import { CleanupHooks } from './cleanup-hooks.js';
import { waitFor } from './cluster.js';
import { routesAgree, seconds, viewsConverged } from './checks.js';
import { FleetCluster, Kubelet, shippedPodTemplate, type Pod, type PodTemplate } from './fleet.js';
import { RouteSampler, shardMoves, ViewTracker, type Change } from './fleet-observe.js';
import { removeStaleNamespaces } from './netns.js';
import { Summary } from './summary.js';

/** Longest a scenario's samplers run; a scenario that takes longer has failed anyway. */
const SAMPLER_BOUND_MS = 6 * 60_000;
/** A new pod is Ready (and available) within this, or the step fails. */
export const AVAILABLE_BOUND_MS = 90_000;

export interface Controller {
  readonly kubelet: Kubelet;
  /** A pod is created (it joins). */
  create(name: string, slot?: number): Promise<Pod>;
  /** A pod is deleted (preStop, drain, SIGTERM); resolves once it has exited. */
  remove(pod: Pod): Promise<void>;
  /** Per-step notes for the row (step durations, for instance). */
  readonly notes: string[];
}

function ms(values: readonly (number | undefined)[]): string {
  const known = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  const missing = values.length - known.length;
  if (known.length === 0) return 'n/a';
  const mid = known[Math.floor(known.length / 2)] ?? 0;
  return `median ${seconds(mid)}, max ${seconds(known.at(-1))}${missing > 0 ? ` (${missing} not sampled)` : ''}`;
}

export class FleetRun {
  readonly template: PodTemplate = shippedPodTemplate();
  readonly cluster: FleetCluster;
  readonly kubelet: Kubelet;
  readonly summary: Summary;
  private readonly hooks: CleanupHooks;
  private readonly startedAt = Date.now();

  constructor(initialNames: readonly string[], summaryFile: string) {
    this.cluster = new FleetCluster(initialNames);
    this.kubelet = new Kubelet(this.cluster, this.template);
    this.summary = new Summary(summaryFile, false);
    this.hooks = new CleanupHooks(() => {
      this.kubelet.stop();
      this.cluster.destroySync();
      // Agents ended by SIGKILL leave their admin token files; the names are this run's own.
      for (const p of this.kubelet.pods) rmSync(defaultAdminTokenFile(p.name), { force: true });
    });
  }

  /** Registers the suite's before (setUp) and after (tearDown) hooks; nothing when the tests are skipped. */
  hooksFor(skip: string | undefined): void {
    before(async () => {
      if (skip) console.log(`# host tests skipped: ${skip}`);
      else await this.setUp();
    });
    after(() => {
      if (!skip) this.tearDown();
    });
  }

  /** Namespaces, the hub, the initial pods started and available; then one converged view. */
  async setUp(): Promise<void> {
    const stale = removeStaleNamespaces();
    if (stale.length > 0) console.log(`# removed stale namespaces of an earlier run: ${stale.join(', ')}`);
    this.hooks.install();
    try {
      await this.cluster.create();
      await this.kubelet.startProber();
      const pods = this.cluster.all().map((l) => this.kubelet.adopt(l));
      await Promise.all(pods.map((p) => this.kubelet.available(p, 2 * AVAILABLE_BOUND_MS, 0)));
      await this.converged(60_000);
    } catch (err) {
      console.error(this.cluster.dumpLogs());
      throw err;
    }
    this.summary.add('setup', 'pass', [`${this.kubelet.live().length} pods Ready and one view ${seconds(Date.now() - this.startedAt)}`], Date.now() - this.startedAt);
  }

  tearDown(): void {
    this.kubelet.stop();
    this.hooks.release();
    this.summary.finish(Date.now() - this.startedAt);
  }

  /** Every live pod sees exactly the live pods alive, one table version, identical routes. */
  async converged(boundMs: number): Promise<number> {
    const t0 = Date.now();
    const lives = this.kubelet.live().map((p) => p.life);
    const names = lives.map((l) => l.name);
    await waitFor('every live pod alive in every view, one table version', boundMs, () => viewsConverged(this.cluster, lives, names), 300);
    await waitFor('route agreement on every live pod', 30_000, () => routesAgree(this.cluster, lives, names), 300);
    return Date.now() - t0;
  }

  /**
   * Runs `drive` (the controller's actions) with the samplers on, then asserts: no readiness probe failed
   * on a pod that was Ready and not terminating, no such pod left its Service, nobody was declared dead,
   * every sampled key had a serving owner, every removed pod's preStop leave was accepted and it exited
   * 0 on SIGTERM; and records shard moves against the ideal and the time to one view after each change.
   */
  async scenario(title: string, drive: (c: Controller) => Promise<void>): Promise<void> {
    const t0 = Date.now();
    const row: string[] = [];
    const changes: Change[] = [];
    const removed: Pod[] = [];
    const initial = new Set(this.kubelet.live().map((p) => p.name));
    const routes = new RouteSampler(this.cluster, this.kubelet, SAMPLER_BOUND_MS).start();
    const views = new ViewTracker(this.cluster, this.kubelet, SAMPLER_BOUND_MS).start();
    const controller: Controller = {
      kubelet: this.kubelet,
      notes: row,
      create: async (name, slot) => {
        const pod = await this.kubelet.create(name, slot);
        changes.push({ kind: 'join', name: pod.name, at: pod.createdAt });
        return pod;
      },
      remove: (pod) => {
        changes.push({ kind: 'leave', name: pod.name, at: Date.now() });
        removed.push(pod);
        return this.kubelet.terminate(pod);
      },
    };
    try {
      await drive(controller);
      await routes.stop();
      await views.stop();
      const settled = await this.converged(60_000);
      const pods = this.kubelet.pods.filter((p) => (p.exitedAt ?? Infinity) >= t0);
      const probes = pods.flatMap((p) => p.probes.filter((r) => r.at >= t0).map((r) => ({ pod: p.name, ...r })));
      const servingFailures = probes.filter((r) => r.serving && !r.ok);
      // A probe fails by an answer (the readiness rule said no) or by none within the timeout (the pod's
      // process got no CPU in time on a starved machine): both are asserted; the row tells them apart.
      const unanswered = servingFailures.filter((r) => r.detail.startsWith('0 ')).length;
      const leftService = pods.flatMap((p) => p.leftService.filter((at) => at >= t0).map(() => p.name));
      const deaths = this.cluster.memberEvents(t0, (e) => e.to === 'dead');
      const suspicions = this.cluster.memberEvents(t0, (e) => e.to === 'suspect');
      const moves = shardMoves(this.cluster.events, changes, initial, this.kubelet, t0);
      // A join counts from the pod's first appearance in a peer's view: its process start comes before.
      const joins = changes
        .filter((c) => c.kind === 'join')
        .map((c) => {
          const seen = this.cluster.memberEvents(c.at, (e) => e.name === c.name && e.to === 'alive' && e.observer !== c.name)[0]?.at;
          return seen === undefined ? undefined : views.oneViewAfter(seen, (s) => s.has(c.name));
        });
      const leaves = changes.filter((c) => c.kind === 'leave').map((c) => views.oneViewAfter(c.at, (s) => !s.has(c.name)));
      row.push(
        `readiness probes ${probes.length}, failed on Ready non-terminating pods ${servingFailures.length} (${unanswered} of them unanswered in time), pods out of their Service ${leftService.length}`,
        `false deaths ${deaths.length} (suspect events ${suspicions.length})`,
        `route samples ${routes.answers} answers / ${routes.keysChecked} keys, without a serving owner ${routes.violationCount}, errors ${routes.errors.length}; owner already leaving in ${routes.toLeavingOwner} keys (asked at most ${seconds(routes.longestToLeavingMs)} after its preStop${routes.longestToLeaving ? `: ${routes.longestToLeaving}` : ''})`,
        `owner shard moves ${moves.observed} vs ideal ${moves.ideal} (x${(moves.observed / Math.max(1, moves.ideal)).toFixed(2)}), unattributed at most ${moves.unattributedMax}${moves.unseen > 0 ? `, ${moves.unseen} changes unseen` : ''}`,
        `load average at the end ${loadavg()[0]!.toFixed(1)}`,
        `one view after a join (from its first sighting) ${ms(joins)}; after a leave (from its preStop) ${ms(leaves)}; converged ${seconds(settled)} after the last step`,
      );
      console.log(`# ${title}:\n#   ${row.join('\n#   ')}`);
      assert.deepEqual(servingFailures.map((r) => `${r.pod} +${r.at - t0} ms: ${r.detail}`), [], 'readiness probe failures on pods not being replaced');
      assert.deepEqual(leftService, [], 'pods that left their Service without being replaced');
      assert.deepEqual(deaths.map((e) => `${e.observer} saw ${e.event.type === 'member' ? e.event.name : '?'} dead`), [], 'false deaths');
      assert.equal(routes.violationCount, 0, `route answers with a key lacking a serving owner: ${routes.violations.join(' | ')}`);
      assert.deepEqual(routes.errors, [], 'route API errors on pods not terminating');
      assert.ok(routes.answers > 0, 'the route sampler got answers');
      for (const p of removed) {
        assert.equal(p.preStop, '202', `${p.name}: preStop leave answered ${p.preStop}`);
        assert.ok(!p.killed && p.life.exitCode === 0, `${p.name}: exit code ${p.life.exitCode} signal ${p.life.exitSignal}${p.killed ? ' (SIGKILL at the grace period)' : ''}`);
      }
      this.summary.add(title, 'pass', row, Date.now() - t0);
    } catch (err) {
      this.summary.add(title, `FAIL: ${String((err as Error).message ?? err).split('\n')[0]}`, row, Date.now() - t0);
      console.error(`views when "${title}" failed:\n${await this.cluster.describeViews()}`);
      console.error(this.cluster.dumpLogs(15));
      throw err;
    } finally {
      await routes.stop();
      await views.stop();
    }
  }
}
