// Jepsen-style fault scenarios on real hosts: ten sidecars (LAN profile), each in its own network
// namespace, cut, split, starved of packets, frozen, killed and restarted. One shared cluster; every
// scenario starts from (and restores) a healthy cluster, asserts outcomes, and adds a summary row.
// Needs root, iproute2 and nftables; docs/faults.md describes each scenario and the last results.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { CleanupHooks } from './cleanup-hooks.js';
import { HostCluster, waitFor, type Life, type ObservedEvent } from './cluster.js';
import { allSee, everywhereAfter, firstEventAfter, routesAgree, seconds, stateIn, sumMetric, viewsConverged } from './checks.js';
import { hostsSkipReason, removeStaleNamespaces } from './netns.js';
import { Summary } from './summary.js';

const skip = hostsSkipReason();
const MEMBERS = 10;
/** Shortens every fault window (development runs only; the recorded results use 1). */
const SCALE = Number(process.env.SWIMRING_HOSTS_SCALE ?? '1');
const ISOLATE_MS = 30_000 * SCALE;
const SPLIT_MS = 60_000 * SCALE;
/** Longest a side may take to converge on its own view before the split counts as failed. */
const SPLIT_BOUND_MS = Math.max(SPLIT_MS, 120_000 * SCALE);
const LOSS_LOW_MS = 180_000 * SCALE;
const LOSS_HIGH_MS = 60_000 * SCALE;
const FREEZE_MS = 5_000;
/** Detection in the LAN profile: suspicion 3-18 s after the first missed probe. */
const DETECT_BOUND_MS = 60_000;
/** A healed partition is found by the periodic reconnect (push-pull, 30 s in the LAN profile). */
const HEAL_BOUND_MS = 120_000;

/** "0", or how many dead events and which observer saw which member dead. */
function describeDeaths(events: readonly ObservedEvent[]): string {
  if (events.length === 0) return '0';
  const pairs = new Set(events.map((e) => `${e.observer} saw ${e.event.type === 'member' ? e.event.name : '?'}`));
  return `${events.length} (${[...pairs].join(', ')})`;
}

describe('ten sidecars in ten network namespaces', { timeout: 20 * 60_000 }, () => {
  const cluster = new HostCluster(MEMBERS, 'lan');
  const summary = new Summary();
  const startedAt = Date.now();
  const names = (lives: readonly Life[]): string[] => lives.map((l) => l.name);
  const others = (...excluded: Life[]): Life[] => cluster.all().filter((l) => !excluded.includes(l));
  const hooks = new CleanupHooks(() => cluster.destroySync());

  /** Every member alive in every view under one version, and routes agree. Returns ms it took. */
  async function healthy(boundMs = HEAL_BOUND_MS): Promise<number> {
    const t0 = Date.now();
    const lives = cluster.all();
    assert.ok(lives.every((l) => l.running), 'every member is running');
    await waitFor('every member alive in every view, one table version', boundMs, () => viewsConverged(cluster, lives, names(lives)));
    await waitFor('route agreement on every member', 30_000, () => routesAgree(cluster, lives, names(lives)));
    return Date.now() - t0;
  }

  /** Records the outcome; on failure also prints the members' recent logs. */
  async function scenario(title: string, body: (row: { measured: string[] }) => Promise<void>): Promise<void> {
    const row = { measured: [] as string[] };
    const t0 = Date.now();
    try {
      await body(row);
      summary.add(title, 'pass', row.measured, Date.now() - t0);
    } catch (err) {
      summary.add(title, `FAIL: ${String((err as Error).message ?? err).split('\n')[0]}`, row.measured, Date.now() - t0);
      console.error(`views when "${title}" failed:\n${await cluster.describeViews()}`);
      console.error(cluster.dumpLogs(15));
      throw err;
    } finally {
      for (const l of cluster.all()) if (l.frozen) l.signal('SIGCONT');
      await cluster.lab.restore(MEMBERS);
    }
  }

  before(async () => {
    if (skip) {
      console.log(`# host tests skipped: ${skip}`);
      return;
    }
    const stale = removeStaleNamespaces();
    if (stale.length > 0) console.log(`# removed stale namespaces of an earlier run: ${stale.join(', ')}`);
    hooks.install();
    try {
      await cluster.create();
      await waitFor('all ten ready', 120_000, async () => (await Promise.all(cluster.all().map((l) => cluster.ready(l)))).every(Boolean), 500);
    } catch (err) {
      console.error(cluster.dumpLogs());
      throw err;
    }
    const ms = await healthy(60_000);
    const steps = cluster.setupTimes;
    summary.add('setup', 'pass', [`namespaces ${seconds(steps.namespaces)}, hub proxy ${seconds(steps.proxy)}, seed ready ${seconds(steps.seed)}, 10 members ready + converged ${seconds(Date.now() - startedAt)} (views ${seconds(ms)})`], Date.now() - startedAt);
  });

  after(() => {
    if (skip) return;
    hooks.release();
    summary.finish(Date.now() - startedAt);
  });

  test('1 crash: kill -9 one member; every other member declares it dead', { skip }, async () => {
    await scenario('1 crash (kill -9)', async (row) => {
      await healthy();
      const victim = cluster.life(9);
      const rest = others(victim);
      const t0 = Date.now();
      victim.signal('SIGKILL');
      await victim.exited;
      await waitFor('victim dead in every other view', DETECT_BOUND_MS, () => allSee(cluster, rest, victim.name, 'dead'));
      const polled = Date.now() - t0;
      const suspected = firstEventAfter(cluster, t0, victim.name, 'suspect');
      const dead = everywhereAfter(cluster, t0, victim.name, 'dead', rest) ?? polled;
      await waitFor('routes agree without the victim', 30_000, () => routesAgree(cluster, rest, names(rest)));
      assert.ok(suspected !== undefined, 'some member suspected the victim before declaring it dead');
      row.measured.push(`first suspicion ${seconds(suspected)}`, `dead everywhere ${seconds(dead)}`);
    });
  });

  test('8 restart: kill one member, restart it with the same name on a new address', { skip }, async () => {
    await scenario('8 restart (same name, new address)', async (row) => {
      const old = cluster.life(9);
      if (old.running) {
        await healthy();
        old.signal('SIGKILL');
        await old.exited;
      }
      const t0 = Date.now();
      const fresh = await cluster.restartOnNewAddress(9);
      await waitFor('one alive record of m9 at its new address in every view', DETECT_BOUND_MS, async () => {
        const views = await Promise.all(cluster.all().map((l) => cluster.members(l)));
        return views.every((v) => {
          const records = v.members.filter((m) => m.name === fresh.name);
          return records.length === 1 && records[0]?.state === 'alive' && records[0].addresses.gossip === fresh.gossipAddr;
        });
      });
      const alive = Date.now() - t0;
      const all = await healthy();
      row.measured.push(`new address ${fresh.host} alive everywhere ${seconds(alive)}`, `routes agree +${seconds(all)}`);
    });
  });

  test('2 isolate: link down for one member for 30 s, then it rejoins', { skip }, async () => {
    await scenario('2 isolate (link down 30 s)', async (row) => {
      await healthy();
      const target = cluster.life(8);
      const rest = others(target);
      const before = await cluster.members(rest[0]!);
      const incarnationBefore = before.members.find((m) => m.name === target.name)?.incarnation ?? -1;
      const t0 = Date.now();
      await cluster.lab.linkDown(target.index);
      await waitFor('isolated member dead in every other view', DETECT_BOUND_MS, () => allSee(cluster, rest, target.name, 'dead'));
      const dead = everywhereAfter(cluster, t0, target.name, 'dead', rest) ?? Date.now() - t0;
      await sleep(Math.max(0, t0 + ISOLATE_MS - Date.now()));
      await cluster.lab.linkUp(target.index);
      const t1 = Date.now();
      await waitFor('rejoined: alive in every view', HEAL_BOUND_MS, () => allSee(cluster, cluster.all(), target.name, 'alive'));
      const rejoined = Date.now() - t1;
      const converged = await healthy();
      const now = await cluster.members(rest[0]!);
      const incarnationAfter = now.members.find((m) => m.name === target.name)?.incarnation ?? -1;
      assert.ok(incarnationAfter > incarnationBefore, `rejoined with a higher incarnation (${incarnationBefore} -> ${incarnationAfter})`);
      // No healthy member is declared dead by anyone: not by the others (they reach each other all
      // along), and not by the isolated member once its link is back. Its verdicts while cut off are
      // about members it could not reach; gossiped after the heal they are only suspicions (refuted).
      const collateral = cluster.memberEvents(t0, (e) => e.to === 'dead' && e.name !== target.name && e.observer !== target.name);
      const staleAfterHeal = cluster.memberEvents(t1, (e) => e.to === 'dead' && e.observer === target.name);
      row.measured.push(
        `dead everywhere ${seconds(dead)}`,
        `alive everywhere ${seconds(rejoined)} after link up`,
        `all converged +${seconds(converged)}`,
        `incarnation +${incarnationAfter - incarnationBefore}`,
        `healthy members declared dead: ${describeDeaths(collateral)}; by the isolated member after link up: ${describeDeaths(staleAfterHeal)}`,
      );
      assert.equal(collateral.length, 0, `healthy members declared dead by the others: ${describeDeaths(collateral)}`);
      assert.equal(staleAfterHeal.length, 0, `members declared dead by the isolated member after its link came back: ${describeDeaths(staleAfterHeal)}`);
    });
  });

  test('3 split 3|7 for 60 s, then heal', { skip }, async () => {
    await scenario('3 split 3|7 (60 s)', async (row) => {
      await healthy();
      const sideA = [0, 1, 2].map((i) => cluster.life(i));
      const sideB = cluster.all().filter((l) => !sideA.includes(l));
      const t0 = Date.now();
      await cluster.lab.split(sideA.map((l) => l.index));
      // The split lasts 60 s, or longer if a side has not converged by then (the minority side's
      // suspicions get few confirmations and its Lifeguard health score slows its probes), so that the
      // heal always starts from two settled views; the row says how long it really lasted.
      const windowLeft = (): number => Math.max(1000, t0 + SPLIT_BOUND_MS - Date.now());
      const [aMs, bMs] = await Promise.all(
        [sideA, sideB].map(async (side) => {
          await waitFor('one side converged on its own view', windowLeft(), () => viewsConverged(cluster, side, names(side)));
          await waitFor('routes agree within the side', windowLeft(), () => routesAgree(cluster, side, names(side)));
          return Date.now() - t0;
        }),
      );
      await sleep(Math.max(0, t0 + SPLIT_MS - Date.now()));
      await cluster.lab.heal();
      const t1 = Date.now();
      const healed = await healthy();
      // Each side held the other dead before the heal, so any death after it is of a member its
      // observer reaches; so is any death within a side during the split.
      const deathsAfterHeal = cluster.memberEvents(t1, (e) => e.to === 'dead');
      const sideOf = new Map([...sideA.map((l) => [l.name, 'a'] as const), ...sideB.map((l) => [l.name, 'b'] as const)]);
      const deathsWithinSide = cluster.memberEvents(t0, (e) => e.to === 'dead' && sideOf.get(e.observer) === sideOf.get(e.name));
      row.measured.push(
        `3-side converged ${seconds(aMs)}`,
        `7-side converged ${seconds(bMs)}`,
        `split held ${seconds(t1 - t0)}`,
        `one view + version everywhere ${seconds(healed)} after heal (bound ${seconds(HEAL_BOUND_MS)})`,
        `deaths after the heal: ${describeDeaths(deathsAfterHeal)}`,
        `deaths within a side: ${describeDeaths(deathsWithinSide)}`,
      );
      assert.equal(deathsAfterHeal.length, 0, `members declared dead after the heal: ${describeDeaths(deathsAfterHeal)}`);
      assert.equal(deathsWithinSide.length, 0, `members declared dead by their own side: ${describeDeaths(deathsWithinSide)}`);
    });
  });

  test('5 one-way loss: 100% outbound loss from one member', { skip }, async () => {
    await scenario('5 one-way loss (100% out of one)', async (row) => {
      await healthy();
      const target = cluster.life(7);
      const rest = others(target);
      const t0 = Date.now();
      await cluster.lab.lossOutbound(target.index, 100);
      await waitFor('mute member dead in every other view', DETECT_BOUND_MS, () => allSee(cluster, rest, target.name, 'dead'));
      const dead = everywhereAfter(cluster, t0, target.name, 'dead', rest) ?? Date.now() - t0;
      // Keep it muted a while longer: that is when its own (unheard) accusations would do harm.
      await sleep(15_000 * SCALE);
      const collateral = cluster.memberEvents(t0, (e) => e.to === 'dead' && e.name !== target.name && e.observer !== target.name);
      await cluster.lab.clearLoss();
      const healed = await healthy();
      // Its own watch stream was muted too; what it saw arrives after the heal.
      const ownView = cluster.memberEvents(t0, (e) => e.to === 'dead' && e.observer === target.name && e.name !== target.name);
      row.measured.push(
        `dead everywhere ${seconds(dead)}`,
        `healthy members declared dead: ${collateral.length}`,
        `in its own view ${new Set(ownView.map((e) => (e.event.type === 'member' ? e.event.name : ''))).size} others went dead`,
        `converged ${seconds(healed)} after the heal`,
      );
      assert.equal(collateral.length, 0, `healthy members declared dead: ${JSON.stringify(collateral.map((e) => ({ observer: e.observer, ...e.event })))}`);
    });
  });

  test('6 frozen: SIGSTOP one member for 5 s, then SIGCONT', { skip }, async () => {
    await scenario('6 frozen (SIGSTOP 5 s)', async (row) => {
      await healthy();
      const target = cluster.life(6);
      const rest = others(target);
      const refutationsBefore = await sumMetric(cluster, [target], 'swimring_refutations_total');
      const t0 = Date.now();
      target.signal('SIGSTOP');
      await sleep(FREEZE_MS);
      target.signal('SIGCONT');
      await sleep(10_000);
      const healed = await healthy(60_000);
      const refutations = (await sumMetric(cluster, [target], 'swimring_refutations_total')) - refutationsBefore;
      const suspicions = cluster.memberEvents(t0, (e) => e.name === target.name && e.to === 'suspect' && e.observer !== target.name);
      const targetDead = cluster.memberEvents(t0, (e) => e.name === target.name && e.to === 'dead' && e.observer !== target.name);
      const collateral = cluster.memberEvents(t0, (e) => e.to === 'dead' && e.name !== target.name);
      row.measured.push(
        `suspicions of it ${suspicions.length}`,
        `its refutations ${refutations}`,
        `it declared dead ${targetDead.length}x`,
        `healthy declared dead ${collateral.length}`,
        `converged ${seconds(healed)} after the 10 s watch`,
      );
      assert.equal(collateral.length, 0, `healthy members declared dead: ${JSON.stringify(collateral.map((e) => ({ observer: e.observer, ...e.event })))}`);
      if (suspicions.length > 0 || targetDead.length > 0) assert.ok(refutations > 0, 'a suspected member refutes');
      assert.ok(rest.length === MEMBERS - 1);
    });
  });

  test('4 loss: 10% on every member for 3 min (no deaths), then 30% for 1 min (recorded)', { skip }, async () => {
    await scenario('4 loss 10% 3 min / 30% 1 min', async (row) => {
      await healthy();
      const lives = cluster.all();
      const suspicions0 = await sumMetric(cluster, lives, 'swimring_suspicions_total');
      const refutations0 = await sumMetric(cluster, lives, 'swimring_refutations_total');
      const t0 = Date.now();
      for (const l of lives) await cluster.lab.lossInbound(l.index, 10);
      await sleep(LOSS_LOW_MS);
      await cluster.lab.clearLoss();
      const t1 = Date.now();
      const deathsLow = cluster.memberEvents(t0, (e) => e.to === 'dead' && e.observer !== e.name).filter((e) => e.at <= t1);
      const suspicions1 = await waitFor('metrics after 10% loss', 20_000, () => sumMetric(cluster, lives, 'swimring_suspicions_total'));
      const refutations1 = await sumMetric(cluster, lives, 'swimring_refutations_total');
      for (const l of lives) await cluster.lab.lossInbound(l.index, 30);
      const t2 = Date.now();
      await sleep(LOSS_HIGH_MS);
      await cluster.lab.clearLoss();
      const t3 = Date.now();
      const deathsHigh = cluster.memberEvents(t2, (e) => e.to === 'dead' && e.observer !== e.name).filter((e) => e.at <= t3 + 2000);
      const suspicionsHigh = cluster.memberEvents(t2, (e) => e.to === 'suspect' && e.observer !== e.name).filter((e) => e.at <= t3);
      const suspicions2 = await waitFor('metrics after 30% loss', 20_000, () => sumMetric(cluster, lives, 'swimring_suspicions_total'));
      const refutations2 = await sumMetric(cluster, lives, 'swimring_refutations_total');
      const healed = await healthy();
      const deadNames = new Set(deathsHigh.map((e) => (e.event.type === 'member' ? e.event.name : '')));
      row.measured.push(
        `10%: ${suspicions1 - suspicions0} suspicions raised, ${refutations1 - refutations0} refutations, ${deathsLow.length} deaths`,
        `30%: ${suspicions2 - suspicions1} suspicions raised (${suspicionsHigh.length} suspect events seen), ${refutations2 - refutations1} refutations, ${deathsHigh.length} false-death events (${deadNames.size} members)`,
        `converged ${seconds(healed)} after`,
      );
      assert.equal(deathsLow.length, 0, `members declared dead under 10% loss: ${JSON.stringify(deathsLow.map((e) => ({ observer: e.observer, ...e.event })))}`);
    });
  });

  test('9 rolling restart: SIGTERM each member in turn; nobody ever dead', { skip }, async () => {
    await scenario('9 rolling restart (SIGTERM x10)', async (row) => {
      await healthy();
      const t0 = Date.now();
      const steps: number[] = [];
      for (let i = 0; i < MEMBERS; i++) {
        const step = Date.now();
        const leaving = cluster.life(i);
        const rest = others(leaving);
        leaving.signal('SIGTERM');
        await waitFor(`${leaving.name} exited`, 20_000, async () => !leaving.running);
        assert.equal(leaving.exitCode, 0, `${leaving.name} exit code ${leaving.exitCode} signal ${leaving.exitSignal}`);
        // 45 s: a member that missed the leave news learns it at its next push-pull (30 s).
        await waitFor(`${leaving.name} left in every other view`, 45_000, async () => {
          const views = await Promise.all(rest.map((l) => cluster.members(l)));
          return views.every((v) => stateIn(v, leaving.name) === 'left');
        });
        cluster.start(i, leaving.host, cluster.seedsFor(i));
        await healthy(60_000);
        steps.push(Date.now() - step);
      }
      const deaths = cluster.memberEvents(t0, (e) => e.to === 'dead');
      row.measured.push(`step mean ${seconds(steps.reduce((a, b) => a + b, 0) / steps.length)}, max ${seconds(Math.max(...steps))}`, `deaths: ${describeDeaths(deaths)}`);
      assert.equal(deaths.length, 0, `members declared dead during the rolling restart: ${JSON.stringify(deaths.map((e) => ({ observer: e.observer, ...e.event })))}`);
    });
  });
});
