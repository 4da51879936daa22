// WatchMembership (gRPC) and the SSE watch of one real sidecar see the same events in the same order
// through a join, a kill and a graceful leave (127.0.0.84-87, local profile).
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { watchMembership, type WatchStream } from '../../src/grpc/watch-client.js';
import type { WatchEvent } from '../../src/runtime/view.js';
import { waitFor, type SidecarProcess } from './harness.js';
import { DigestCluster } from './digest-harness.js';

/** The SSE watch's events, parsed as they arrive. */
function openSse(base: string, into: WatchEvent[]): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/v1/watch`, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('');
          if (data !== '') into.push(JSON.parse(data) as WatchEvent);
        }
      });
      resolve(res);
    });
    req.on('error', reject);
    req.end();
  });
}

function memberSteps(events: readonly WatchEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'member' ? [`${e.name}:${e.from ?? '-'}>${e.to}`] : []));
}

describe('gRPC WatchMembership and SSE watch on a real sidecar', { timeout: 120_000 }, () => {
  const cluster = new DigestCluster();
  const host = (i: number): string => `127.0.0.${84 + i}`;
  const sse: WatchEvent[] = [];
  const grpc: WatchEvent[] = [];
  let stream: WatchStream | null = null;
  let sseRes: IncomingMessage | null = null;
  let watched: SidecarProcess;

  before(async () => {
    watched = cluster.start({ name: 'w-0', host: host(0), portBase: cluster.portBase, seeds: [], shards: 4096 });
    cluster.start({ name: 'w-1', host: host(1), portBase: cluster.portBase, seeds: [`${host(0)}:${cluster.portBase + 1}`], shards: 4096 });
    await waitFor('w-1 alive on w-0', 30_000, async () => {
      const body = (await watched.json<{ members: { name: string; state: string }[] }>('/v1/members')).body;
      return body.members.some((m) => m.name === 'w-1' && m.state === 'alive');
    });
  });

  after(async () => {
    stream?.close();
    sseRes?.destroy();
    await cluster.stopAll();
  });

  test('join, kill and leave arrive in the same order on both, after a snapshot', async () => {
    sseRes = await openSse(watched.httpBase, sse);
    stream = watchMembership(watched.grpcAddr, (e) => grpc.push(e));
    await waitFor('both snapshots', 10_000, async () => sse.length > 0 && grpc.length > 0);
    assert.equal(sse[0]?.type, 'snapshot');
    assert.equal(grpc[0]?.type, 'snapshot');
    assert.equal(grpc[0]?.version, sse[0]?.version);

    const joiner = cluster.start({ name: 'w-2', host: host(2), portBase: cluster.portBase, seeds: [`${host(0)}:${cluster.portBase + 1}`], shards: 4096 });
    await waitFor('w-2 joined', 30_000, async () => memberSteps(grpc).some((s) => s.startsWith('w-2:') && s.endsWith('>alive')));
    const victim = cluster.nodes[1]!;
    await victim.stop();
    await waitFor('w-1 dead', 40_000, async () => memberSteps(grpc).includes('w-1:suspect>dead'));
    joiner.signal('SIGTERM');
    await waitFor('w-2 left', 40_000, async () => memberSteps(grpc).some((s) => s.startsWith('w-2:') && s.endsWith('>left')));
    // Let the SSE side catch up with what the gRPC side has, then compare the whole sequences.
    await waitFor('SSE caught up', 10_000, async () => memberSteps(sse).length >= memberSteps(grpc).length);

    const steps = memberSteps(grpc);
    assert.deepEqual(memberSteps(sse), steps, 'the same member events in the same order');
    const joined = steps.findIndex((s) => s.startsWith('w-2:') && s.endsWith('>alive'));
    const died = steps.indexOf('w-1:suspect>dead');
    const left = steps.findIndex((s) => s.startsWith('w-2:') && s.endsWith('>left'));
    assert.ok(joined >= 0 && joined < died && died < left, `join < kill < leave in ${steps.join(', ')}`);
    const kinds = (events: readonly WatchEvent[]): string[] => events.map((e) => `${e.type}@${e.version}`);
    assert.deepEqual(kinds(sse).slice(0, kinds(grpc).length), kinds(grpc), 'every event, moves included, in the same order');
  });
});
