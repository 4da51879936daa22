// Claims run on an injected clock (ClaimServiceDeps.timers): the announcement window and the expiry sweep
// fire when a manual clock is advanced, and not before, so claims can run in whole-member tests and in a
// simulator without real timers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClaimService, type AnnounceAck, type ClaimCallPort, type ClaimTransport, type Peer } from '../../src/ownership/service.js';
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

test('claims read the wall clock from the clock port and answer through a call port, with no timer or microtask of their own', () => {
  const clock = new ManualClock(0, 5_000_000);
  const answers: ((outcome: AnnounceAck | Error) => void)[] = [];
  const calls: ClaimCallPort = {
    call: (_kind, _peer, _self, _records, _timeoutMs, sentAtMs, answer) => {
      assert.equal(sentAtMs, clock.wallNow(), 'the announcement carries the port\'s wall clock');
      answers.push(answer);
    },
  };
  const service = new ClaimService({
    self: () => ({ name: 'a', lifeId: 'LA', incarnation: 1, serving: true }),
    peers: () => [{ name: 'b', grpcAddr: 'b:1' }],
    memberStatus: () => 'live',
    transport: calls,
    options: testClaimOptions(),
    timers: clock,
  });
  const [outcome] = service.claim(['x'], null);
  assert.ok(outcome !== undefined && 'record' in outcome);
  assert.equal(outcome.record.claimedAtMs, 5_000_000, 'stamped by the port\'s wall clock');
  clock.wallOffsetMs -= 1000; // the wall clock steps back: the hybrid clock does not
  const [again] = service.claim(['y'], null);
  assert.ok(again !== undefined && 'record' in again);
  assert.deepEqual([again.record.claimedAtMs, again.record.claimedAtLogical], [5_000_000, 1]);
  service.flush();
  assert.equal(answers.length, 1, 'one call to the one peer');
  // An earlier claim of "x" by b arrives: the loss is settled within the merge, before anything else runs.
  const lost: string[] = [];
  service.onLoss((l) => lost.push(`${l.id} ${l.reason} ${l.owner ?? '-'}`));
  const earlier: ClaimRecord = { ...outcome.record, owner: 'b', ownerLifeId: 'LB', claimedAtMs: 4_000_000, fence: 4_000_000n << 16n };
  service.receiveClaims([earlier], clock.wallNow());
  assert.deepEqual(lost, ['x lost b']);
  assert.equal(service.store.get('x')?.owner, 'b');
  // The answer comes back through the port and frees the peer's call slot; the release then goes out.
  answers[0]?.({ accepted: true, winners: [], receiverWallMs: clock.wallNow() });
  service.flush();
  assert.equal(answers.length, 2, 'the release of x went out through the port');
  service.close();
});
