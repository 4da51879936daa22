// The Negotiate rate limit per caller address (src/grpc/rate-limit.ts), over real gRPC: a flood under
// invented member names from one address cannot use up the shared bucket that joiners elsewhere need.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { NegotiateRateLimiter } from '../../src/grpc/rate-limit.js';
import { encodeRequest, rawCallFrom, startTestServer } from './helpers.js';

const FLOOD_FROM = '127.0.0.3';
const JOINERS_FROM = '127.0.0.2';

const negotiate = (sender: string): Buffer => encodeRequest('Negotiate', { header: { protocolVersion: 1, label: '', sender }, members: [] });

test('a Negotiate flood with random sender names from one address does not refuse joins from another address', async () => {
  const t = await startTestServer({
    negotiateRate: new NegotiateRateLimiter({ perPeerPerSecond: 2, perPeerBurst: 10, perHostPerSecond: 2, perHostBurst: 5, globalPerSecond: 10, globalBurst: 20 }),
  });
  try {
    const flood = [];
    for (let batch = 0; batch < 6; batch++) {
      const calls = Array.from({ length: 10 }, (_, i) => rawCallFrom(FLOOD_FROM, t.addr, 'Negotiate', negotiate(`flood-${batch}-${i}-${Math.random().toString(36).slice(2)}`)));
      flood.push(...(await Promise.all(calls)));
    }
    const floodRefused = flood.filter((s) => s.code === grpc.status.RESOURCE_EXHAUSTED);
    assert.ok(floodRefused.length >= 50, `${floodRefused.length} of 60 flood calls refused`);
    assert.ok(floodRefused.every((s) => /too many Negotiates \(host limit\)/.test(s.details)), floodRefused[0]?.details);

    const joins = await Promise.all(Array.from({ length: 4 }, (_, i) => rawCallFrom(JOINERS_FROM, t.addr, 'Negotiate', negotiate(`joiner-${i}`))));
    assert.deepEqual(
      joins.map((s) => s.code),
      [0, 0, 0, 0],
      `joins refused: ${joins.map((s) => s.details).join('; ')}`,
    );
    assert.deepEqual(
      t.recorded.negotiations.filter((n) => n.context.sender.startsWith('joiner-')).map((n) => n.context.peer.includes(JOINERS_FROM)),
      [true, true, true, true],
      'the server saw the joiners at their own address',
    );
  } finally {
    await t.server.close();
  }
});
