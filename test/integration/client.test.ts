// swimring-client (client/) against real sidecars at the default 2^18 shards on 127.0.0.130-134: its
// answers equal POST /v1/route at one version; through a join, a kill -9, a graceful leave and an
// app-health drain it follows by applying the watch's moves events (no table load), its `moves` events
// add up to the shards its member gained and lost, and it agrees again, with the sidecar and with a
// table loaded afresh; a dropped watch and a sidecar restart make it fire `stale`, then recover with one
// load.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, type MovesEvent, type Ring } from '../../client/src/index.js';
import type { RouteAnswer } from '../../src/runtime/view.js';
import { decodeCompactTable, type CompactTableJson } from '../support/compact-table.js';
import { CutProxy } from '../support/cut-proxy.js';
import { TestApp } from '../support/ready-app.js';
import { Cluster, waitFor, type NodeSpec, type SidecarProcess } from './harness.js';

const KEYS = Array.from({ length: 10_000 }, (_, i) => `cart-${i}`);

describe('swimring-client against real sidecars', { timeout: 400_000 }, () => {
  const cluster = new Cluster(undefined, { hostBase: 130, namePrefix: 'cl', shards: 262_144 });
  const host = (i: number): string => cluster.host(i);
  const spec = (i: number, extraArgs: string[] = []): NodeSpec => cluster.spec(i, { extraArgs });
  const drainApp = new TestApp(host(2), cluster.portBase + 4, true);
  let home: SidecarProcess;
  let ring: Ring;
  const moves: MovesEvent[] = [];
  const staleEvents: string[] = [];
  const freshEvents: string[] = [];

  async function sidecarRoutes(node: SidecarProcess, keys: readonly string[]): Promise<{ version: string; routes: RouteAnswer[] }> {
    const res = await node.json<{ version: string; routes: RouteAnswer[] }>('/v1/route', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ keys }),
    });
    assert.equal(res.status, 200);
    return res.body;
  }

  /** Waits until the library and the sidecar answer at one version, then compares every key. */
  async function agree(r: Ring, node: SidecarProcess, what: string): Promise<string> {
    const batch = await waitFor(`${what}: the library at the sidecar's version`, 60_000, async () => {
      const b = await sidecarRoutes(node, KEYS);
      return b.version === r.version ? b : undefined;
    });
    for (const want of batch.routes) assert.deepEqual(r.route(want.key), want, `${what}: ${want.key}`);
    return batch.version;
  }

  async function ownedBy(node: SidecarProcess, name: string): Promise<{ version: string; shards: Set<number> }> {
    const t = decodeCompactTable((await node.json<CompactTableJson>('/v1/table/compact')).body);
    const shards = new Set<number>();
    for (let s = 0; s < t.shards; s++) if (t.owner(s)?.name === name) shards.add(s);
    return { version: t.version, shards };
  }

  /** Runs `change`, then checks that the moves events since turn what `self` owned into what it owns now. */
  async function follow(what: string, change: () => Promise<void>, settled: () => Promise<boolean>): Promise<void> {
    const before = await ownedBy(home, 'cl-0');
    assert.equal(ring.version, before.version);
    const from = moves.length;
    await change();
    await waitFor(`${what} settled`, 90_000, settled);
    const version = await agree(ring, home, what);
    const owned = new Set(before.shards);
    const events = moves.slice(from);
    assert.ok(events.length > 0, `${what}: moves events`);
    for (const m of events) {
      for (const g of m.gained) if (g.role === 'owner') for (const [f, l] of g.ranges) for (let s = f; s <= l; s++) owned.add(s);
      for (const g of m.lost) if (g.role === 'owner') for (const [f, l] of g.ranges) for (let s = f; s <= l; s++) owned.delete(s);
    }
    assert.equal(events.at(-1)?.version, version);
    const now = await ownedBy(home, 'cl-0');
    assert.equal(now.version, version);
    assert.deepEqual([...owned].sort((a, b) => a - b), [...now.shards].sort((a, b) => a - b), `${what}: moves add up`);
    // The table made from moves events is the one a fresh load gives at that version.
    const fresh = await connect({ url: home.httpBase });
    try {
      assert.equal(fresh.version, version, `${what}: a fresh load at the same version`);
      for (const key of KEYS) assert.deepEqual(ring.route(key), fresh.route(key), `${what}: ${key} as a fresh load answers`);
    } finally {
      await fresh.close();
    }
  }

  const tableMembers = async (): Promise<string[]> => (await home.json<CompactTableJson>('/v1/table/compact')).body.members.map((m) => m.name);

  before(async () => {
    await drainApp.start();
    home = cluster.start(spec(0));
    cluster.start(spec(1));
    cluster.start(spec(2, ['--app-health', drainApp.url]));
    await cluster.withLogsOnFailure(async () => {
      await waitFor('three owners on cl-0', 60_000, async () => (await tableMembers()).length === 3);
    });
    ring = await connect({ url: home.httpBase, staleAfterMs: 1_000, minBackoffMs: 50, maxBackoffMs: 500 });
    ring.on('moves', (m) => moves.push(m));
    ring.on('stale', (s) => staleEvents.push(s.reason));
    ring.on('fresh', (f) => freshEvents.push(f.version));
  });

  after(async () => {
    await ring?.close();
    await cluster.stopAll();
    await drainApp.stop();
  });

  test('10,000 keys: the same answers as POST /v1/route at one version; claims included', async () => {
    assert.equal(ring.self?.name, 'cl-0');
    assert.deepEqual(ring.members().map((m) => m.name).sort(), ['cl-0', 'cl-1', 'cl-2']);
    await agree(ring, home, 'at start');
    const results = await ring.claim(['claimed-by-app']);
    assert.deepEqual(results.map((r) => [r.id, r.status, r.owner?.name]), [['claimed-by-app', 'claimed', 'cl-0']]);
    const answer = (await home.json<RouteAnswer>('/v1/route/claimed-by-app')).body;
    assert.equal(answer.claimed, true);
    assert.deepEqual(ring.route('claimed-by-app'), answer);
    assert.equal(ring.isLocal('claimed-by-app'), true);

    // A claim made through another sidecar reaches the library over the watch (?claims=all), and so
    // does its release: route() names the claimant, then the ring's owner again, as the sidecar does.
    const other = cluster.nodes[1]!;
    const claimed = await other.json('/v1/claims', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ids: ['claimed-elsewhere'] }) });
    assert.equal(claimed.status, 200);
    const sidecarSays = async (): Promise<RouteAnswer> => (await home.json<RouteAnswer>('/v1/route/claimed-elsewhere')).body;
    await waitFor('cl-0 routes the claim to cl-1', 20_000, async () => {
      const a = await sidecarSays();
      return a.claimed === true && a.owner?.name === 'cl-1';
    });
    await waitFor('the library agrees', 20_000, async () => JSON.stringify(ring.route('claimed-elsewhere')) === JSON.stringify(await sidecarSays()));
    assert.equal(ring.route('claimed-elsewhere').claimed, true);
    assert.equal((await other.json('/v1/claims/claimed-elsewhere', { method: 'DELETE' })).status, 200);
    await waitFor('cl-0 routes it by the ring', 20_000, async () => (await sidecarSays()).claimed === undefined);
    await waitFor('the library agrees again', 20_000, async () => JSON.stringify(ring.route('claimed-elsewhere')) === JSON.stringify(await sidecarSays()));
    await agree(ring, home, 'after the claims');
  });

  test('join, kill -9, graceful leave and drain: it follows from moves events without a load, moves add up, it agrees again', async () => {
    let joiner: SidecarProcess | null = null;
    const loads = ring.stats.tableLoads;
    const applied = ring.stats.movesApplied;
    await cluster.withLogsOnFailure(async () => {
      await follow(
        'join',
        async () => {
          joiner = cluster.start(spec(3));
        },
        async () => (await tableMembers()).includes('cl-3'),
      );
      await follow(
        'kill -9',
        () => cluster.nodes[1]!.stop(),
        async () => !(await tableMembers()).includes('cl-1'),
      );
      await follow(
        'leave',
        async () => joiner!.signal('SIGTERM'),
        async () => !(await tableMembers()).includes('cl-3'),
      );
      await follow(
        'drain',
        async () => {
          drainApp.ready = false;
        },
        async () => !(await tableMembers()).includes('cl-2'),
      );
    });
    assert.equal(ring.stats.tableLoads, loads, `no table load: ${JSON.stringify(ring.stats)}`);
    assert.ok(ring.stats.movesApplied >= applied + 4, `each change applied from its moves events: ${JSON.stringify(ring.stats)}`);
  });

  test('a dropped watch: stale fires while the sidecar cannot be reached, then it recovers', async () => {
    const proxy = new CutProxy('127.0.0.1', host(0), cluster.portBase + 2);
    await proxy.start();
    const viaProxy = await connect({ url: proxy.url, staleAfterMs: 500, minBackoffMs: 50, maxBackoffMs: 300 });
    const stale: string[] = [];
    let fresh = 0;
    viaProxy.on('stale', (s) => stale.push(s.reason));
    viaProxy.on('fresh', () => fresh++);
    try {
      await agree(viaProxy, home, 'through the proxy');
      const loads = viaProxy.stats.tableLoads;
      proxy.cut(true);
      await waitFor('stale', 10_000, async () => stale.length > 0);
      assert.equal(viaProxy.stale, true);
      // Still answering, from the last table.
      assert.equal(viaProxy.route('x').version, ring.version);
      proxy.accept();
      await waitFor('fresh again', 20_000, async () => fresh > 0);
      assert.equal(viaProxy.stale, false);
      await agree(viaProxy, home, 'after the drop');
      assert.equal(viaProxy.stats.tableLoads, loads + 1, 'a reconnect loads the table once');
    } finally {
      await viaProxy.close();
      await proxy.stop();
    }
  });

  test('a sidecar restart: stale fires, then it follows the new process', async () => {
    const staleBefore = staleEvents.length;
    const freshBefore = freshEvents.length;
    await home.stop();
    await waitFor('stale', 20_000, async () => staleEvents.length > staleBefore);
    home = cluster.start(spec(0, ['--seeds', `${host(2)}:${cluster.portBase + 1}`]));
    await waitFor('fresh', 60_000, async () => freshEvents.length > freshBefore);
    await agree(ring, home, 'after the restart');
    assert.equal(ring.self?.name, 'cl-0');
  });
});
