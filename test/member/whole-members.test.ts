// Whole members in one process on the in-memory ports (test/support/memory-members.ts): joining,
// readiness and its reasons, a leave with its drain, bootstrap — what a deployed member decides, run by the
// same runner as the real agent, with the clock in the test's hands (no sockets, no sleeps).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryCluster, type MemoryMember } from '../support/memory-members.js';

const SEED = 'a:7947';

function ownersOf(m: MemoryMember): readonly string[] {
  return m.runner.table.members;
}

async function threeMembers(opts: { drainMs?: number } = {}): Promise<{ cluster: MemoryCluster; a: MemoryMember; b: MemoryMember; c: MemoryMember }> {
  const cluster = new MemoryCluster();
  const a = cluster.add('a');
  const b = cluster.add('b', { seeds: [SEED] });
  const c = cluster.add('c', { seeds: [SEED], ...opts });
  assert.ok(await cluster.clock.advanceUntil(() => cluster.converged(), 30_000), 'three members see each other alive');
  // Past the settle window, and the tables of all three owners built; the first readiness is latched when
  // it is asked for (as the kubelet's probe does).
  await cluster.clock.advance(2000);
  for (const m of [a, b, c]) assert.deepEqual(m.runner.readiness('ok'), { ok: true, reasons: [] }, `${m.name} is ready`);
  return { cluster, a, b, c };
}

function noFailures(cluster: MemoryCluster): void {
  for (const m of cluster.members.values()) assert.deepEqual(m.failures, [], `${m.name}: no failed effects`);
  assert.equal(cluster.net.undecodable, 0, 'every packet survives the codec');
}

describe('whole members in memory', () => {
  test('three members join through a seed, serve one table and are ready', async () => {
    const { cluster, a, b, c } = await threeMembers();
    for (const m of [a, b, c]) {
      assert.deepEqual([...ownersOf(m)].sort(), ['a', 'b', 'c'], `${m.name} serves the table of all three`);
      assert.equal(m.member.tableVersion, a.runner.table.version, `${m.name} serves the same version`);
      assert.notEqual(m.member.joinedAt, null);
    }
    assert.ok(b.logs.includes('joined the cluster'));
    assert.ok(a.logs.includes('no seeds configured: bootstrapping a new cluster alone'));
    noFailures(cluster);
  });

  test('a member whose seeds never answer is not ready, says why, and keeps retrying', async () => {
    const cluster = new MemoryCluster();
    const lone = cluster.add('lone', { seeds: ['nobody:7947'] });
    await cluster.clock.advance(5000);
    const ready = lone.runner.readiness('ok');
    assert.equal(ready.ok, false);
    assert.deepEqual(ready.reasons, ['not joined yet: no seed has answered']);
    assert.ok(lone.logs.filter((l) => l === 'joining through seeds').length >= 3, 'the join is retried with backoff');
    assert.equal(lone.member.joinedAt, null);
  });

  test('with bootstrap, a member whose seeds never answer forms a cluster alone after the join timeout', async () => {
    const cluster = new MemoryCluster();
    const lone = cluster.add('lone', { seeds: ['nobody:7947'], bootstrap: true, joinTimeoutMs: 3000 });
    await cluster.clock.advance(2000);
    assert.equal(lone.member.joinedAt, null, 'not before the join timeout');
    await cluster.clock.advance(3000);
    assert.notEqual(lone.member.joinedAt, null);
    assert.ok(lone.logs.includes('no seed answered: bootstrapping a new cluster alone (--bootstrap)'));
    assert.deepEqual(lone.runner.readiness('ok'), { ok: true, reasons: [] });
  });

  test('readiness waits for the app; the app failing later takes readiness and the shards away', async () => {
    const cluster = new MemoryCluster();
    const a = cluster.add('a', { appChecked: true });
    await cluster.clock.advance(1000);
    assert.deepEqual(a.runner.readiness('connection refused').reasons, ['app not ready: connection refused']);
    a.runner.appHealth(true);
    await cluster.clock.advance(1000);
    assert.deepEqual(a.runner.readiness('ok'), { ok: true, reasons: [] });
    assert.deepEqual(ownersOf(a), ['a']);
    a.runner.appHealth(false);
    await cluster.clock.advance(1000);
    assert.deepEqual(a.runner.readiness('503').reasons, ['app not ready: 503']);
    assert.deepEqual(ownersOf(a), [], 'a member whose app is not ready owns no shards');
  });

  test('a leave drains first: serving stops at once, the leave is announced after drainMs, and leave() resolves only then', async () => {
    const { cluster, a, b, c } = await threeMembers({ drainMs: 3000 });
    let resolvedAt: number | null = null;
    const leaveStartedAt = cluster.clock.now();
    const leaving = c.runner.leave().then(() => {
      resolvedAt = cluster.clock.now();
    });
    assert.equal(c.runner.leave(), c.runner.leave(), 'asking again returns the same leave');
    assert.deepEqual(c.runner.readiness('ok').reasons, ['leaving the cluster']);
    await cluster.clock.advance(2000);
    assert.equal(resolvedAt, null, 'not resolved during the drain');
    for (const m of [a, b]) {
      assert.deepEqual([...ownersOf(m)].sort(), ['a', 'b'], `${m.name}: c's shards moved away during the drain`);
      assert.equal(cluster.stateOf(m.name, 'c'), 'alive', `${m.name}: c is still a member while it drains`);
    }
    await cluster.clock.advance(2000);
    await leaving;
    assert.ok(resolvedAt !== null && resolvedAt - leaveStartedAt >= 3000, 'resolved once the drain was over');
    assert.ok(await cluster.clock.advanceUntil(() => cluster.stateOf('a', 'c') === 'left' && cluster.stateOf('b', 'c') === 'left', 5000), 'the others hold c left');
    for (const m of [a, b]) assert.deepEqual(m.runner.readiness('ok'), { ok: true, reasons: [] }, `${m.name} stays ready through another member's leave`);
    noFailures(cluster);
  });

  test("another member's crash does not take readiness away", async () => {
    const { cluster, a, b, c } = await threeMembers();
    c.crash();
    assert.ok(await cluster.clock.advanceUntil(() => cluster.stateOf('a', 'c') === 'dead' && cluster.stateOf('b', 'c') === 'dead', 60_000), 'c is found dead');
    for (const m of [a, b]) {
      assert.deepEqual(m.runner.readiness('ok'), { ok: true, reasons: [] }, `${m.name} stays ready`);
      assert.deepEqual([...ownersOf(m)].sort(), ['a', 'b']);
    }
    noFailures(cluster);
  });

  test('a member cut off from all its peers says so; they stay ready; it is ready again once healed', async () => {
    const { cluster, a, b, c } = await threeMembers();
    cluster.cut(['a'], ['b', 'c']);
    const cutOff = () => a.runner.readiness('ok').reasons.some((r) => r.startsWith('cut off:'));
    assert.ok(await cluster.clock.advanceUntil(cutOff, 60_000), 'a is unready: cut off');
    for (const m of [b, c]) assert.deepEqual(m.runner.readiness('ok'), { ok: true, reasons: [] }, `${m.name} stays ready`);
    cluster.net.heal();
    assert.ok(await cluster.clock.advanceUntil(() => a.runner.readiness('ok').ok, 60_000), 'a is ready again');
    noFailures(cluster);
  });

  test('two members that bootstrapped alone while cut off merge through the seed re-check once healed', async () => {
    const cluster = new MemoryCluster();
    cluster.cut(['a'], ['b']);
    const a = cluster.add('a', { seeds: ['b:7947'], bootstrap: true, joinTimeoutMs: 1000 });
    const b = cluster.add('b', { seeds: ['a:7947'], bootstrap: true, joinTimeoutMs: 1000 });
    await cluster.clock.advance(5000);
    for (const m of [a, b]) {
      assert.notEqual(m.member.joinedAt, null, `${m.name} formed a cluster alone`);
      assert.deepEqual(ownersOf(m), [m.name]);
    }
    cluster.net.heal();
    assert.ok(await cluster.clock.advanceUntil(() => cluster.converged(), 30_000), 'merged');
    assert.ok(a.logs.includes('seeds not in the member list: negotiating with them') || b.logs.includes('seeds not in the member list: negotiating with them'));
    await cluster.clock.advance(1000);
    for (const m of [a, b]) assert.deepEqual([...ownersOf(m)].sort(), ['a', 'b'], `${m.name} serves the merged table`);
    noFailures(cluster);
  });

  test('the same seeds give the same run, event for event', async () => {
    const runs: string[][] = [];
    for (let i = 0; i < 2; i++) {
      const { cluster } = await threeMembers();
      runs.push([...cluster.members.values()].flatMap((m) => m.events.map((e) => `${m.name} ${JSON.stringify(e)}`)));
    }
    assert.ok((runs[0] ?? []).length > 0);
    assert.deepEqual(runs[0], runs[1]);
  });
});
