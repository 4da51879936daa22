// The compact table and the watch streams at the default shard count (2^18), with real sidecars on
// 127.0.0.120-124. GET /v1/table/compact is about 1 MB and answers as POST /v1/route does. A reader
// that keeps up follows SSE and gRPC through a join, a kill -9, a graceful leave and an app-health
// drain without ever being cut off as slow, sees every table change as a small `moves` event, and gets
// `shutting_down` (SSE) / UNAVAILABLE (gRPC) when the watched member stops.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { watchMembership, type WatchStream } from '../../src/grpc/watch-client.js';
import { jumpHash, keyHash } from '../../src/placement/index.js';
import type { RouteAnswer, WatchEvent } from '../../src/runtime/view.js';
import { decodeCompactTable, type CompactTableJson } from '../support/compact-table.js';
import { TestApp } from '../support/ready-app.js';
import { SseFollower } from '../support/sse-client.js';
import { Cluster, metricValue, waitFor, type NodeSpec, type SidecarProcess } from './harness.js';

const SHARDS = 262_144;
type Moves = Extract<WatchEvent, { type: 'moves' }>;

describe('watch streams at 2^18 shards through join, kill -9, leave and drain', { timeout: 300_000 }, () => {
  const cluster = new Cluster(undefined, { hostBase: 120, namePrefix: 'ds', shards: SHARDS });
  const host = (i: number): string => cluster.host(i);
  const spec = (i: number, extraArgs: string[] = []): NodeSpec => cluster.spec(i, { extraArgs });
  const drainApp = new TestApp(host(2), cluster.portBase + 4, true);
  let watched: SidecarProcess;
  let sse: SseFollower | null = null;
  let grpcStream: WatchStream | null = null;
  const grpcEvents: WatchEvent[] = [];

  const aliveOnWatched = async (name: string): Promise<boolean> => {
    const body = (await watched.json<{ members: { name: string; state: string; serving: boolean }[] }>('/v1/members')).body;
    return body.members.some((m) => m.name === name && m.state === 'alive' && m.serving);
  };
  const movesSeen = (): Moves[] => grpcEvents.filter((e): e is Moves => e.type === 'moves');
  /** A moves event after the member event `step` matches, moving owners away from `from`. */
  const movesAfter = (step: (e: Extract<WatchEvent, { type: 'member' }>) => boolean, from: string): boolean => {
    const at = grpcEvents.findIndex((e) => e.type === 'member' && step(e));
    return at >= 0 && grpcEvents.slice(at).some((e) => e.type === 'moves' && e.moves.some((g) => g.role === 'owner' && g.from === from));
  };
  const memberSteps = (): string[] => grpcEvents.flatMap((e) => (e.type === 'member' ? [`${e.name}:${e.to}:${e.reason}`] : []));

  before(async () => {
    await drainApp.start();
    watched = cluster.start(spec(0));
    cluster.start(spec(1));
    cluster.start(spec(2, ['--app-health', drainApp.url]));
    await cluster.withLogsOnFailure(async () => {
      await waitFor('three serving members on ds-0', 60_000, async () => (await aliveOnWatched('ds-1')) && (await aliveOnWatched('ds-2')));
    });
  });

  after(async () => {
    grpcStream?.close();
    sse?.close();
    await cluster.stopAll();
    await drainApp.stop();
  });

  test('GET /v1/table/compact: about 1 MB, and the same answers as POST /v1/route at its version', async () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `cart-${i}`);
    const { text, routes } = await waitFor('a table and a batch at one version', 20_000, async () => {
      const res = await fetch(`${watched.httpBase}/v1/table/compact`);
      const body = await res.text();
      const batch = await watched.json<{ version: string; routes: RouteAnswer[] }>('/v1/route', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ keys }),
      });
      const table = JSON.parse(body) as CompactTableJson;
      // The table catches up with the membership a build later.
      return table.tableMembers === 3 && table.version === batch.body.version ? { text: body, routes: batch.body.routes } : undefined;
    });
    assert.ok(Buffer.byteLength(text) < 1_100_000, `${Buffer.byteLength(text)} bytes`);
    const raw = JSON.parse(text) as CompactTableJson;
    assert.equal(raw.shards, SHARDS);
    const t = decodeCompactTable(raw);
    for (const want of routes) {
      const h = keyHash(want.key);
      const shard = jumpHash(h.hi, h.lo, t.shards);
      assert.deepEqual({ key: want.key, shard, owner: t.owner(shard), replicas: t.replicas(shard), version: t.version }, want);
    }
  });

  test('no slow-consumer cut-off, small moves events, shutting_down at the end', async () => {
    sse = await SseFollower.open(`${watched.httpBase}/v1/watch`);
    grpcStream = watchMembership(watched.grpcAddr, (e) => grpcEvents.push(e));
    await waitFor('both snapshots', 10_000, async () => sse!.events.length > 0 && grpcEvents.length > 0);
    try {
      // Join.
      const joiner = cluster.start(spec(3));
      await waitFor('ds-3 serving', 60_000, () => aliveOnWatched('ds-3'));
      await waitFor('moves to ds-3', 30_000, async () => movesSeen().some((m) => m.moves.some((g) => g.role === 'owner' && g.to === 'ds-3')));
      // kill -9.
      await cluster.nodes[1]!.stop();
      await waitFor('moves away from the dead ds-1', 60_000, async () => movesAfter((e) => e.name === 'ds-1' && e.to === 'dead', 'ds-1'));
      // Graceful leave.
      joiner.signal('SIGTERM');
      await waitFor('moves away from the leaving ds-3', 60_000, async () => movesAfter((e) => e.name === 'ds-3' && (e.to === 'left' || e.serving === false), 'ds-3'));
      // App-health drain.
      drainApp.ready = false;
      await waitFor('moves away from the drained ds-2', 60_000, async () => movesAfter((e) => e.name === 'ds-2' && e.serving === false, 'ds-2'));
      const tag = (e: WatchEvent): string => `${e.type}@${e.version}`;
      await waitFor('SSE caught up with gRPC', 20_000, async () => sse!.events.length > 0 && tag(JSON.parse(sse!.events.at(-1)!.data) as WatchEvent) === tag(grpcEvents.at(-1)!));
    } catch (err) {
      console.error(memberSteps().join('\n'), cluster.dumpLogs());
      throw err;
    }

    const metrics = await watched.metrics();
    assert.equal(metricValue(metrics, 'swimring_http_watch_disconnects_total'), 0, 'no SSE watcher was cut off');
    assert.equal(sse.ended, false, 'the SSE stream is still open');

    // The same events on both streams (each from its own subscription on: the streams opened one after
    // the other), and every moves event small and complete.
    const tags = (events: readonly WatchEvent[]): string[] => events.filter((e) => e.type !== 'snapshot').map((e) => `${e.type}@${e.version}`);
    const sseEvents = sse.events.map((e) => JSON.parse(e.data) as WatchEvent);
    const common = Math.min(tags(sseEvents).length, tags(grpcEvents).length);
    assert.ok(common >= 8, `${common} events on both`);
    assert.deepEqual(tags(sseEvents).slice(-common), tags(grpcEvents).slice(-common));
    const sseMoves = sse.events.filter((e) => e.event === 'moves');
    assert.ok(sseMoves.length >= 4, `${sseMoves.length} moves events`);
    for (const e of sseMoves) {
      assert.ok(e.data.length < 512 * 1024, `a moves event of ${e.data.length} bytes`);
      const m = JSON.parse(e.data) as Moves;
      assert.equal(m.moves.reduce((n, g) => n + g.count, 0), m.ownerMoves + m.replicaMoves);
      for (const g of m.moves) assert.equal(g.ranges.reduce((n, [first, last]) => n + last - first + 1, 0), g.count);
    }
    const sseByVersion = new Map(sseMoves.map((e) => JSON.parse(e.data) as Moves).map((m) => [`${m.previousVersion}>${m.version}`, m.moves]));
    for (const m of movesSeen()) {
      const same = sseByVersion.get(`${m.previousVersion}>${m.version}`);
      if (same) assert.deepEqual(m.moves, same, 'gRPC carries the same ranges');
    }

    // The watched member stops: both streams are told so.
    watched.signal('SIGTERM');
    const ended = await grpcStream.ended;
    assert.equal(ended.codeName, 'UNAVAILABLE', ended.details);
    assert.match(ended.details, /shutting down/);
    await waitFor('the SSE stream ends', 60_000, async () => sse!.ended);
    const last = sse.events.at(-1);
    assert.equal(last?.event, 'error');
    assert.equal((JSON.parse(last.data) as { error: { code: string } }).error.code, 'shutting_down');
    assert.equal(
      watched.logs.filter((l) => l.includes('slow_consumer')).length,
      0,
      'no gRPC watch stream was ended as slow',
    );
  });
});
