// Claims run on an injected clock (ClaimServiceDeps.timers): the announcement window and the expiry sweep
// fire when a manual clock is advanced, and not before, so claims can run in whole-member tests and in a
// simulator without real timers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClaimService, type AnnounceAck, type ClaimTransport, type Peer } from '../../src/ownership/service.js';
import type { ClaimRecord } from '../../src/ownership/types.js';
import { ManualClock } from '../../src/shell/memory-ports.js';
import { testClaimOptions } from './options.js';

test('the announcement window and the expiry sweep run on the manual clock', async () => {
  const clock = new ManualClock(0);
  let wall = 1_000_000;
  const sent: string[] = [];
  const answer = (kind: string, peer: Peer, records: readonly ClaimRecord[]): Promise<AnnounceAck> => {
    sent.push(`${kind} ${peer.name} ${records.map((r) => r.id).join()}`);
    return Promise.resolve({ accepted: true, winners: [] });
  };
  const transport: ClaimTransport = {
    announce: (peer, _self, records) => answer('announce', peer, records),
    expire: (peer, _self, records) => answer('expire', peer, records),
  };
  const options = testClaimOptions({ announceWindowMs: 50, releaseRetentionMs: 4000 });
  const service = new ClaimService({
    self: () => ({ name: 'a', lifeId: 'LA', incarnation: 1, serving: true }),
    peers: () => [{ name: 'b', grpcAddr: 'b:1' }],
    memberStatus: () => 'live',
    transport,
    options,
    wallClock: () => wall,
    timers: clock,
  });
  service.start();
  assert.equal(service.claim(['x'], 1000)[0]?.status, 'claimed');
  await clock.advance(49);
  assert.deepEqual(sent, [], 'nothing before the window ends');
  await clock.advance(1);
  await service.drained();
  assert.deepEqual(sent, ['announce b x'], 'announced when the window ends');

  wall += 2000;
  await clock.advance(999);
  assert.deepEqual(sent, ['announce b x'], 'no sweep before its period (retention / 4 = 1000 ms)');
  await clock.advance(1);
  await clock.advance(options.announceWindowMs);
  await service.drained();
  assert.deepEqual(sent, ['announce b x', 'expire b x'], 'the sweep released the lapsed claim, and the release was announced');
  service.close();
});
