// The watch stream over a real socket (inject cannot stream): 127.0.0.1, port 0, node:http client.
import { get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildAppApi, type HttpLimits } from '../../src/http/index.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import type { WatchEvent } from '../../src/runtime/view.js';
import { FakeView, FakeViewWithClaims } from './fake-view.js';
import { takeSseEvents, type SseRecord } from '../support/sse-client.js';

type SseEvent = SseRecord;

/** Reads an SSE response into events (and comments), waking waiters as they arrive. */
class SseReader {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  ended = false;
  private buffer = '';
  private waiters: (() => void)[] = [];

  constructor(readonly res: IncomingMessage) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => this.feed(chunk));
    res.on('end', () => this.finish());
    res.on('close', () => this.finish());
  }

  private finish(): void {
    this.ended = true;
    this.wake();
  }

  private feed(chunk: string): void {
    this.buffer = takeSseEvents(this.buffer + chunk, (e) => this.events.push(e), (c) => this.comments.push(c));
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves once `ready()` holds; fails if the stream ends first. No clock involved. */
  async until(ready: () => boolean, what: string): Promise<void> {
    while (!ready()) {
      if (this.ended) assert.fail(`stream ended before ${what}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

async function start(limits: Partial<HttpLimits> = {}): Promise<{ app: FastifyInstance; view: FakeView; metrics: Metrics; url: string }> {
  const view = new FakeView();
  const metrics = createMetrics({ defaultMetrics: false });
  const app = buildAppApi(view, { metrics, limits });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { app, view, metrics, url: `http://127.0.0.1:${port}/v1/watch` };
}

function open(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => get(url, resolve).on('error', reject));
}

async function counter(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await metrics.registry.getSingleMetric(name)?.get();
  return m?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value ?? 0;
}

const apps: FastifyInstance[] = [];
after(async () => {
  for (const app of apps) await app.close();
});

describe('GET /v1/watch', () => {
  test('first event is a snapshot at the current version, then every event in order', async () => {
    const s = await start();
    apps.push(s.app);
    const res = await open(s.url);
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/event-stream/);
    const reader = new SseReader(res);
    await reader.until(() => reader.events.length >= 1, 'the snapshot');
    const first = reader.events[0];
    assert.equal(first?.event, 'snapshot');
    assert.deepEqual(JSON.parse(first?.data ?? ''), JSON.parse(JSON.stringify({ type: 'snapshot', ...s.view.members() })));
    assert.equal(s.view.listeners.size, 1, 'subscribed once the snapshot is out');

    const sent: WatchEvent[] = [
      { type: 'member', version: 'v2', name: 'm4', from: null, to: 'alive', incarnation: 7, reason: 'joined' },
      {
        type: 'moves',
        version: 'v2',
        previousVersion: 'v-abc',
        ownerMoves: 2,
        replicaMoves: 0,
        moves: [{ role: 'owner', from: 'm1', to: 'm4', count: 2, ranges: [[3, 3], [9, 9]] }],
      },
      { type: 'member', version: 'v3', name: 'm2', from: 'alive', to: 'suspect', incarnation: 1002, reason: 'probe-failed' },
    ];
    for (const e of sent) s.view.emit(e);
    await reader.until(() => reader.events.length >= 4, 'three events');
    assert.deepEqual(
      reader.events.slice(1).map((e) => e.event),
      sent.map((e) => e.type),
    );
    assert.deepEqual(
      reader.events.slice(1).map((e) => JSON.parse(e.data) as unknown),
      sent.map((e) => JSON.parse(JSON.stringify(e)) as unknown),
    );
    res.destroy();
    await new Promise((r) => res.once('close', r));
  });

  test('heartbeat comments keep an idle stream alive', async () => {
    const s = await start({ heartbeatMs: 20 });
    apps.push(s.app);
    const res = await open(s.url);
    const reader = new SseReader(res);
    await reader.until(() => reader.comments.includes('heartbeat'), 'a heartbeat');
    assert.equal(reader.events[0]?.event, 'snapshot');
    res.destroy();
  });

  test('the listener is dropped when the client goes away', async () => {
    const s = await start();
    apps.push(s.app);
    const res = await open(s.url);
    const reader = new SseReader(res);
    await reader.until(() => reader.events.length >= 1, 'the snapshot');
    assert.equal(s.view.listeners.size, 1);
    assert.equal(await counter(s.metrics, 'swimring_http_watchers'), 1);
    res.destroy();
    // The server learns of the close through its socket; poll the fake by yielding to the event loop.
    while (s.view.listeners.size > 0) await new Promise((r) => setImmediate(r));
    assert.equal(await counter(s.metrics, 'swimring_http_watchers'), 0);
  });

  test('a slow consumer is cut off with a final error event, not buffered without limit', async () => {
    const bound = 64 * 1024;
    const s = await start({ watchBufferBytes: bound, watchCloseGraceMs: 60_000 });
    apps.push(s.app);
    const res = await open(s.url);
    const reader = new SseReader(res);
    await reader.until(() => reader.events.length >= 1, 'the snapshot');
    res.pause(); // stop reading: the kernel buffers fill, then the server's

    const bigName = 'x'.repeat(256 * 1024);
    let emitted = 0;
    // Bounded: the kernel buffers on loopback hold a few MB, far below this.
    while (s.view.listeners.size > 0 && emitted < 2000) {
      s.view.emit({ type: 'member', version: `v${emitted}`, name: bigName, from: 'alive', to: 'suspect', incarnation: emitted, reason: 'probe-failed' });
      emitted++;
      if (emitted % 8 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.equal(s.view.listeners.size, 0, 'the server unsubscribed the slow watcher');
    assert.equal(await counter(s.metrics, 'swimring_http_watch_disconnects_total', { reason: 'slow_consumer' }), 1);

    res.resume();
    await reader.until(() => reader.ended, 'the end of the stream');
    const last = reader.events.at(-1);
    assert.equal(last?.event, 'error');
    assert.equal((JSON.parse(last?.data ?? '{}') as { error: { code: string } }).error.code, 'slow_consumer');
    // Everything written before the cut-off arrives, in order, then the error: nothing lost silently.
    assert.equal(reader.events.length, emitted + 2);
    assert.equal((JSON.parse(reader.events.at(-2)?.data ?? '{}') as { version: string }).version, `v${emitted - 1}`);
  });

  test('a reader that keeps up takes events of megabytes, back to back, and is never cut off (default limits)', async () => {
    const s = await start();
    apps.push(s.app);
    const reader = new SseReader(await open(s.url));
    await reader.until(() => reader.events.length >= 1, 'the snapshot');
    const bigName = 'y'.repeat(6 * 1024 * 1024);
    for (let i = 0; i < 5; i++) {
      // Two at once: the second is written while the first still waits in the buffers.
      s.view.emit({ type: 'member', version: `a${i}`, name: bigName, from: 'alive', to: 'suspect', incarnation: i, reason: 'probe-failed' });
      s.view.emit({ type: 'member', version: `b${i}`, name: 'small', from: 'alive', to: 'suspect', incarnation: i, reason: 'probe-failed' });
      await reader.until(() => reader.events.length >= 3 + 2 * i, `events of round ${i}`);
    }
    assert.deepEqual(
      reader.events.slice(1).map((e) => (JSON.parse(e.data) as { version: string }).version),
      [0, 1, 2, 3, 4].flatMap((i) => [`a${i}`, `b${i}`]),
    );
    assert.equal(await counter(s.metrics, 'swimring_http_watch_disconnects_total', { reason: 'slow_consumer' }), 0);
    assert.equal(s.view.listeners.size, 1, 'still subscribed');
    reader.res.destroy();
  });

  test('a reader that leaves written bytes unread for watchDrainMs is cut off, whatever the byte bound', async () => {
    const s = await start({ watchBufferBytes: 256 * 1024 * 1024, watchDrainMs: 200, watchCloseGraceMs: 60_000 });
    apps.push(s.app);
    const res = await open(s.url);
    const reader = new SseReader(res);
    await reader.until(() => reader.events.length >= 1, 'the snapshot');
    res.pause();
    // Far more than the loopback kernel buffers hold, so most of it waits in the server's buffers.
    s.view.emit({ type: 'member', version: 'huge', name: 'z'.repeat(32 * 1024 * 1024), from: 'alive', to: 'suspect', incarnation: 1, reason: 'probe-failed' });
    while (s.view.listeners.size > 0) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await counter(s.metrics, 'swimring_http_watch_disconnects_total', { reason: 'slow_consumer' }), 1);
    res.resume();
    await reader.until(() => reader.ended, 'the end of the stream');
    assert.deepEqual(
      reader.events.map((e) => e.event),
      ['snapshot', 'member', 'error'],
    );
    assert.equal((JSON.parse(reader.events[2]?.data ?? '{}') as { error: { code: string } }).error.code, 'slow_consumer');
  });

  test('?claims=all adds claims events; without it, or on another value, there are none', async () => {
    const view = new FakeViewWithClaims();
    const metrics = createMetrics({ defaultMetrics: false });
    const app = buildAppApi(view, { metrics });
    apps.push(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/watch`;
    const all = new SseReader(await open(`${base}?claims=all`));
    const plain = new SseReader(await open(base));
    await all.until(() => all.events.length >= 1, 'the snapshot');
    await plain.until(() => plain.events.length >= 1, 'the snapshot');
    assert.equal(view.claims.ownerListeners.size, 1, 'only the stream that asked subscribed');
    for (const l of view.claims.ownerListeners) l([{ id: 'x', owner: 'm2', fence: '5' }, { id: 'y', owner: null, fence: null }]);
    view.emit({ type: 'member', version: 'v9', name: 'm3', from: 'alive', to: 'suspect', incarnation: 1, reason: 'probe-failed' });
    await all.until(() => all.events.length >= 3, 'claims and member');
    await plain.until(() => plain.events.length >= 2, 'member');
    assert.deepEqual(all.events.map((e) => e.event), ['snapshot', 'claims', 'member']);
    assert.deepEqual(JSON.parse(all.events[1]!.data), { type: 'claims', version: view.version, changes: [{ id: 'x', owner: 'm2', fence: '5' }, { id: 'y', owner: null, fence: null }] });
    assert.deepEqual(plain.events.map((e) => e.event), ['snapshot', 'member']);
    all.res.destroy();
    plain.res.destroy();
    while (view.claims.ownerListeners.size > 0) await new Promise((r) => setImmediate(r));
    const bad = await app.inject({ method: 'GET', url: '/v1/watch?claims=some' });
    assert.equal(bad.statusCode, 400);
    assert.equal((bad.json() as { error: { code: string } }).error.code, 'invalid_request');
  });

  test('more watchers than the limit get 503 too_many_watchers', async () => {
    const s = await start({ maxWatchers: 1 });
    apps.push(s.app);
    const first = await open(s.url);
    const reader = new SseReader(first);
    await reader.until(() => reader.events.length >= 1, 'the snapshot');
    const second = await open(s.url);
    assert.equal(second.statusCode, 503);
    const body = await new Promise<string>((resolve) => {
      let text = '';
      second.setEncoding('utf8');
      second.on('data', (c: string) => (text += c));
      second.on('end', () => resolve(text));
    });
    assert.equal((JSON.parse(body) as { error: { code: string } }).error.code, 'too_many_watchers');
    first.destroy();
  });

  test('a view that cannot give a snapshot answers a JSON 500 instead of opening the stream', async () => {
    const s = await start();
    apps.push(s.app);
    s.view.members = () => {
      throw new Error('not started');
    };
    const res = await s.app.inject({ method: 'GET', url: '/v1/watch' });
    assert.equal(res.statusCode, 500);
    assert.equal((res.json() as { error: { code: string } }).error.code, 'internal');
  });

  test('a failed subscription ends the stream with an error event after the snapshot', async () => {
    const s = await start();
    apps.push(s.app);
    s.view.subscribe = () => {
      throw new Error('closed');
    };
    const reader = new SseReader(await open(s.url));
    await reader.until(() => reader.ended, 'the end of the stream');
    assert.deepEqual(
      reader.events.map((e) => e.event),
      ['snapshot', 'error'],
    );
    assert.equal((JSON.parse(reader.events[1]?.data ?? '{}') as { error: { code: string } }).error.code, 'internal');
    assert.equal(await counter(s.metrics, 'swimring_http_watchers'), 0);
  });

  test('closing the server ends open streams with a shutting_down event', async () => {
    const s = await start();
    const res = await open(s.url);
    const reader = new SseReader(res);
    await reader.until(() => reader.events.length >= 1, 'the snapshot');
    await s.app.close();
    await reader.until(() => reader.ended, 'the end of the stream');
    const last = reader.events.at(-1);
    assert.equal(last?.event, 'error');
    assert.equal((JSON.parse(last?.data ?? '{}') as { error: { code: string } }).error.code, 'shutting_down');
  });
});
