// The library's Ring against a stand-in sidecar on loopback whose answers the test controls: changes
// that arrive on the watch while a table load is in flight survive the load; a moves event makes it load
// and swap the new table in whole; a claim event names the claimant at once; answers equal the sidecar's
// own (RouteIndex, with claimants as the sidecar names them) before and after a table change.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type MovesEvent, type Ring } from '../../client/src/index.js';
import { compactTableJson } from '../../src/http/serialize-table.js';
import type { MemberRecord } from '../../src/core/types.js';
import { replicasBeside } from '../../src/placement/claimed-replicas.js';
import { buildTable, type PlacementTable } from '../../src/placement/index.js';
import { RouteIndex } from '../../src/runtime/route-index.js';
import { movesPatch, summarizeMoves } from '../../src/runtime/table-moves.js';
import type { RouteAnswer, RouteOwner } from '../../src/runtime/view.js';

const owner = (name: string): RouteOwner => ({ name, addresses: { gossip: `${name}:1`, grpc: `${name}:2`, app: `${name}:3` }, serving: true });
const member = (name: string) => ({ ...owner(name), state: 'alive', incarnation: 1, tags: {}, self: name === 'a' });

class FakeSidecar {
  table: PlacementTable = buildTable(['a', 'b', 'c'], { shards: 1024, replicas: 1 });
  claims: [string, number, string][] = [];
  /** Members whose apps are not ready: still in the table until it is rebuilt, skipped by its answers. */
  notServing = new Set<string>();
  /** While set, table answers wait for it. */
  hold: Promise<void> | null = null;
  tableRequests = 0;
  private watchers: ServerResponse[] = [];
  private server: Server | null = null;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      if (req.url === '/v1/members') res.end(JSON.stringify({ version: this.table.version, members: this.table.members.map(member) }));
      else if (req.url === '/v1/table/compact') {
        this.tableRequests++;
        const text = this.text();
        void (this.hold ?? Promise.resolve()).then(() => res.end(text));
      } else if (req.url === '/v1/watch?claims=all') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        this.watchers.push(res);
        this.send('snapshot', { type: 'snapshot', version: this.table.version, members: this.table.members.map(member) });
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  text(): string {
    const t = this.table;
    return compactTableJson({ version: t.version, shards: t.shards, replicas: t.replicaCount, members: t.members.map(owner), tableMembers: t.members.length, ownerIndex: t.ownerIndex, replicaIndex: t.replicaIndex, claims: this.claims });
  }

  /** Serves `next` and announces it as the sidecar does: groups and patch from the served table. */
  change(next: PlacementTable, options: { previousVersion?: string } = {}): void {
    const previous = this.table;
    const moves = summarizeMoves(previous, next);
    const patch = movesPatch(previous, next, moves, (i) => owner(next.members[i]!));
    this.table = next;
    this.send('moves', { type: 'moves', version: next.version, previousVersion: options.previousVersion ?? previous.version, ownerMoves: moves.ownerMoves, replicaMoves: moves.replicaMoves, moves: moves.groups, ...(patch ? { patch } : {}) });
  }

  send(event: string, data: unknown): void {
    for (const w of this.watchers) w.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  async stop(): Promise<void> {
    for (const w of this.watchers) w.destroy();
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}

async function until(what: string, ready: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !ready(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(ready(), what);
}

describe('Ring with a stand-in sidecar', () => {
  const sidecar = new FakeSidecar();
  let ring: Ring;
  const moves: MovesEvent[] = [];

  before(async () => {
    await sidecar.start();
    ring = await connect({ url: sidecar.url, minBackoffMs: 5, maxBackoffMs: 20 });
    ring.on('moves', (m) => moves.push(m));
  });
  after(async () => {
    await ring.close();
    await sidecar.stop();
  });

  test('answers from the loaded table', () => {
    assert.equal(ring.version, sidecar.table.version);
    assert.equal(ring.self?.name, 'a');
    for (let i = 0; i < 200; i++) {
      const a = ring.route(`k${i}`);
      assert.equal(a.owner?.name, sidecar.table.ownerOf(sidecar.table.shardOf(`k${i}`)));
      assert.equal(a.claimed, undefined);
    }
  });

  test('a claims event names the claimant at once; a claim learnt during a load survives that load', async () => {
    sidecar.send('claims', { type: 'claims', version: ring.version, changes: [{ id: 'k1', owner: 'b', fence: '7' }] });
    await until('claimed k1', () => ring.route('k1').claimed === true);
    assert.deepEqual([ring.route('k1').owner?.name, ring.route('k1').fence], ['b', '7']);

    // A table change whose load is held; meanwhile k2 is claimed and k1 released on the watch.
    const before = ring.version;
    let release!: () => void;
    sidecar.hold = new Promise((r) => (release = r));
    const requests = sidecar.tableRequests;
    sidecar.table = buildTable(['a', 'b', 'c', 'd'], { shards: 1024, replicas: 1 });
    // The table read below predates both claim changes: it still has k1 claimed by b and no k2.
    sidecar.claims = [['k1', 1, '7']];
    sidecar.send('moves', { type: 'moves', version: sidecar.table.version, previousVersion: before, ownerMoves: 0, replicaMoves: 0, moves: [] });
    await until('the load started', () => sidecar.tableRequests > requests);
    sidecar.send('claims', { type: 'claims', version: before, changes: [{ id: 'k2', owner: 'c', fence: '9' }, { id: 'k1', owner: null, fence: null }] });
    await until('k2 claimed', () => ring.route('k2').claimed === true);
    assert.equal(ring.version, before, 'still the old table while the new one loads');
    sidecar.hold = null;
    release();
    await until('the new table', () => ring.version === sidecar.table.version);
    assert.deepEqual([ring.route('k2').owner?.name, ring.route('k2').fence], ['c', '9'], 'the claim learnt during the load survives it');
    assert.equal(ring.route('k1').claimed, undefined, 'and so does the release');
    assert.equal(moves.at(-1)?.version, sidecar.table.version);
    assert.equal(moves.at(-1)?.previousVersion, before);
  });

  test('moves events add up to what this member owns now', () => {
    const m = moves.at(-1)!;
    const lost = new Set(m.lost.filter((g) => g.role === 'owner').flatMap((g) => g.ranges.flatMap(([f, l]) => Array.from({ length: l - f + 1 }, (_, i) => f + i))));
    const before = buildTable(['a', 'b', 'c'], { shards: 1024, replicas: 1 });
    const now = sidecar.table;
    for (let s = 0; s < 1024; s++) assert.equal(lost.has(s), before.ownerOf(s) === 'a' && now.ownerOf(s) !== 'a', `shard ${s}`);
    assert.equal(m.gained.filter((g) => g.role === 'owner').length, 0, 'a join takes shards, gives none');
  });
});

/** The answer the sidecar gives for `key` at `table` with `claims` ([id, member index, fence]). */
function sidecarAnswer(table: PlacementTable, claims: readonly [string, number, string][], key: string, notServing: ReadonlySet<string> = new Set()): RouteAnswer {
  const records = new Map<string, MemberRecord>(
    table.members.map((name) => [name, { name, lifeId: 'L', incarnation: 1, state: 'alive', gossipAddr: `${name}:1`, grpcAddr: `${name}:2`, meta: { appAddr: `${name}:3`, serving: !notServing.has(name), tags: {} } }]),
  );
  const ring = new RouteIndex(table, records).route(key);
  const claim = claims.find(([id]) => id === key);
  if (claim === undefined) return ring;
  const claimant = owner(table.members[claim[1]]!);
  return { ...ring, owner: claimant, replicas: replicasBeside(claimant, ring.owner, ring.replicas), claimed: true, fence: claim[2] };
}

/**
 * For a describe(): a stand-in sidecar serving `table` and `claims`, and a library connected to it before
 * the suite's tests (both stopped after), and a check that it answers 3,000 keys as the sidecar does.
 */
function connectedSuite(table: PlacementTable, claims: [string, number, string][] = []): { sidecar: FakeSidecar; ring: () => Ring; assertSidecarAnswers: (what: string) => void } {
  const sidecar = new FakeSidecar();
  let ring: Ring;
  const keys = Array.from({ length: 3000 }, (_, i) => `cart-${i}`);
  before(async () => {
    sidecar.table = table;
    sidecar.claims = claims;
    await sidecar.start();
    ring = await connect({ url: sidecar.url, minBackoffMs: 5, maxBackoffMs: 20 });
  });
  after(async () => {
    await ring.close();
    await sidecar.stop();
  });
  const assertSidecarAnswers = (what: string): void => {
    assert.equal(ring.version, sidecar.table.version, what);
    for (const key of keys) {
      const expected = sidecarAnswer(sidecar.table, sidecar.claims, key, sidecar.notServing);
      assert.deepEqual(ring.route(key), expected, `${what}: ${key}`);
      assert.equal(ring.ownerName(key), expected.owner?.name ?? null, `${what}: ownerName(${key})`);
    }
    assert.ok(keys.filter((k) => ring.route(k).claimed === true).length === sidecar.claims.length, `${what}: every claimed key answers claimed`);
    for (const [id] of sidecar.claims) assert.equal(ring.route(id).replicas, ring.route(id).replicas, `${what}: ${id}'s replicas are made once, not per call`);
  };
  return { sidecar, ring: () => ring, assertSidecarAnswers };
}

describe('route() answers across table changes', () => {
  const { sidecar, ring: connected, assertSidecarAnswers } = connectedSuite(buildTable(['a', 'b', 'c', 'd', 'e'], { shards: 4096, replicas: 2 }), [
    ['cart-1', 1, '11'],
    ['cart-2', 4, '12'],
  ]);

  test('equal to the sidecar, claimed keys included, and still after a leave, a join and a replica count change', async () => {
    assertSidecarAnswers('first table');
    const changes: [string, PlacementTable, [string, number, string][]][] = [
      // e leaves: cart-2's claimant with it (its claim goes), another claim comes.
      ['e left', buildTable(['a', 'b', 'c', 'd'], { shards: 4096, replicas: 2 }), [['cart-1', 1, '11'], ['cart-3', 0, '13']]],
      ['f joined', buildTable(['a', 'b', 'c', 'd', 'f'], { shards: 4096, replicas: 2 }), [['cart-1', 4, '14'], ['cart-3', 0, '13']]],
      // Same members, another version: every placement object of the old table must be gone.
      ['three replicas', buildTable(['a', 'b', 'c', 'd', 'f'], { shards: 4096, replicas: 3 }), [['cart-3', 2, '15']]],
    ];
    for (const [what, table, claims] of changes) {
      const previous = connected().version;
      sidecar.table = table;
      sidecar.claims = claims;
      sidecar.send('moves', { type: 'moves', version: table.version, previousVersion: previous, ownerMoves: 0, replicaMoves: 0, moves: [] });
      await until(what, () => connected().version === table.version);
      assert.notEqual(table.version, previous, what);
      assertSidecarAnswers(what);
    }
  });
});

describe('moves events applied in place of loads', () => {
  const table = (members: string[]): PlacementTable => buildTable(members, { shards: 4096, replicas: 2 });
  const { sidecar, ring: connected, assertSidecarAnswers } = connectedSuite(table(['a', 'b', 'c', 'd', 'e']));
  let ring: Ring;
  before(() => {
    ring = connected();
  });

  test('a join, a leave and a join with a leave: applied, no load, answers equal the sidecar', async () => {
    assertSidecarAnswers('first table');
    const loads = sidecar.tableRequests;
    assert.equal(ring.stats.tableLoads, 1);
    for (const [what, members] of [
      ['f joined', ['a', 'b', 'c', 'd', 'e', 'f']],
      ['b left', ['a', 'c', 'd', 'e', 'f']],
      ['g joined as a left', ['c', 'd', 'e', 'f', 'g']],
    ] as const) {
      sidecar.change(table([...members]));
      await until(what, () => ring.version === sidecar.table.version);
      assertSidecarAnswers(what);
    }
    assert.equal(sidecar.tableRequests, loads, 'no table load');
    assert.deepEqual([ring.stats.tableLoads, ring.stats.movesApplied], [1, 3]);
  });

  test("a member's new addresses reach the answers without a load", async () => {
    const key = Array.from({ length: 100 }, (_, i) => `cart-${i}`).find((k) => ring.route(k).owner?.name === 'c')!;
    const addresses = { gossip: 'c:11', grpc: 'c:12', app: 'c:13' };
    sidecar.send('member', { type: 'member', version: ring.version, name: 'c', from: 'alive', to: 'alive', incarnation: 2, reason: 'meta', serving: true, addresses, tags: { zone: 'z' } });
    await until('new addresses', () => ring.route(key).owner?.addresses.app === 'c:13');
    assert.deepEqual(ring.route(key).owner, { name: 'c', addresses, serving: true });
    assert.deepEqual(ring.members().find((m) => m.name === 'c')?.tags, { zone: 'z' });
    // A member the library did not know joins the list from its event alone.
    sidecar.send('member', { type: 'member', version: ring.version, name: 'h', from: null, to: 'alive', incarnation: 1, reason: 'join', serving: false, addresses: owner('h').addresses, tags: {} });
    await until('h listed', () => ring.members().some((m) => m.name === 'h'));
    assert.equal(ring.stats.tableLoads, 1, 'no table load');
  });

  test('a missed event: exactly one load, then equal again', async () => {
    const loads = ring.stats.tableLoads;
    const missed = ring.version;
    sidecar.table = table(['c', 'd', 'e', 'f', 'g', 'h']); // announced on a stream the library did not get
    const skipped = sidecar.table.version;
    sidecar.change(table(['c', 'd', 'e', 'g', 'h']));
    await until('the new table', () => ring.version === sidecar.table.version);
    assertSidecarAnswers('after the gap');
    assert.notEqual(skipped, missed);
    assert.equal(ring.stats.tableLoads, loads + 1, 'one load');
    assert.equal(ring.stats.reloads['gap'], 1);
    // And applies the next event again.
    sidecar.change(table(['c', 'd', 'e', 'g', 'h', 'i']));
    await until('the next table', () => ring.version === sidecar.table.version);
    assertSidecarAnswers('after the next change');
    assert.deepEqual([ring.stats.tableLoads, ring.stats.movesApplied], [loads + 1, 4]);
  });

  test('a member that stops serving is skipped at once, as the sidecar does, until its leave applies', async () => {
    const loads = ring.stats.tableLoads;
    const key = Array.from({ length: 100 }, (_, i) => `cart-${i}`).find((k) => ring.route(k).owner?.name === 'g')!;
    sidecar.notServing.add('g');
    sidecar.send('member', { type: 'member', version: ring.version, name: 'g', from: 'alive', to: 'alive', incarnation: 2, reason: 'meta', serving: false, addresses: owner('g').addresses, tags: {} });
    await until('g skipped', () => ring.route(key).owner?.name !== 'g');
    assertSidecarAnswers('g not serving');
    sidecar.notServing.delete('g');
    sidecar.change(table(['c', 'd', 'e', 'h', 'i']));
    await until('g left', () => ring.version === sidecar.table.version);
    assertSidecarAnswers('g left');
    assert.equal(ring.stats.tableLoads, loads, 'no table load');
  });
});
