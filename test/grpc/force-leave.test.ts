// The ForceLeave RPC (src/runtime/force-leave.ts) against a real SwimCore behind a real gRPC server: a
// dead member is marked left; one the callee holds alive or suspect, the callee itself and an unknown
// name are refused in the reply with nothing changed; a name out of bounds, another cluster's label
// and a missing key proof are refused with a status and counted. Then the fan-out's per-member summary.
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { after, before, describe, test } from 'node:test';
import type { SwimCore } from '../../src/core/swim.js';
import { ControlPlaneClient } from '../../src/grpc/client.js';
import { ControlPlaneError, type Rejection } from '../../src/grpc/errors.js';
import { startControlPlaneServer } from '../../src/grpc/server.js';
import { callForceLeave, fanOutForceLeave, forceLeaveServerMethods } from '../../src/runtime/force-leave.js';
import { coreKnowing, gossipTo, heldDead, suspect } from '../core/harness.js';

type Server = Awaited<ReturnType<typeof startControlPlaneServer>>;

describe('ForceLeave over gRPC', () => {
  const rejections: { rpc: string; rejection: Rejection }[] = [];
  const applied: string[] = [];
  let core: SwimCore;
  let now = 0;
  let server: Server;
  let addr = '';
  const prod = new ControlPlaneClient({ sender: 'm1', label: 'prod' });
  const other = new ControlPlaneClient({ sender: 'm1', label: 'test' });

  before(async () => {
    core = coreKnowing('a', ['b', 'c', 'd']);
    now = heldDead(core, 'd', 1000, 10);
    gossipTo(core, [suspect('c', 1000, 'x')], now);
    server = await startControlPlaneServer({
      bind: '127.0.0.1:0',
      handlers: { negotiate: () => [], closing: () => {}, ping: () => ({ name: 'a', members: 4, healthScore: 0, tableVersion: 'v' }) },
      extraMethods: forceLeaveServerMethods({
        forceLeave: (name) => {
          const { refused } = core.forceLeave(name, now);
          return refused === null ? { refused, state: core.member(name)?.state ?? 'left' } : { refused };
        },
        stateOf: (name) => core.member(name)?.state ?? null,
        checkContext: (ctx) => {
          if (ctx.label !== 'prod') throw new ControlPlaneError(status.PERMISSION_DENIED, `label ${ctx.label}`);
        },
        onReject: (rpc, rejection) => rejections.push({ rpc, rejection }),
        onApplied: (name, sender) => applied.push(`${name} by ${sender}`),
      }),
    });
    addr = `127.0.0.1:${server.port}`;
  });

  after(async () => {
    prod.close();
    other.close();
    await server.close();
  });

  test('refuses a member it holds alive or suspect, itself and an unknown name, changing nothing', async () => {
    const states = () => ['a', 'b', 'c', 'd'].map((n) => [n, core.member(n)?.state, core.member(n)?.incarnation]);
    const before = states();
    assert.deepEqual(await callForceLeave(prod, 'a', addr, 'b', 5000), { member: 'a', state: 'alive', error: 'alive' });
    assert.deepEqual(await callForceLeave(prod, 'a', addr, 'c', 5000), { member: 'a', state: 'suspect', error: 'suspect' });
    assert.deepEqual(await callForceLeave(prod, 'a', addr, 'a', 5000), { member: 'a', state: 'alive', error: 'self' });
    assert.deepEqual(await callForceLeave(prod, 'a', addr, 'zz', 5000), { member: 'a', state: null, error: 'unknown' });
    assert.deepEqual(states(), before);
    assert.deepEqual(applied, []);
    assert.equal(rejections.length, 0, 'a refusal in the reply is an answer, not a rejected call');
  });

  test('names out of bounds and another label are rejected with a status and counted; nothing changes', async () => {
    const long = await callForceLeave(prod, 'a', addr, 'x'.repeat(254), 5000);
    assert.match(long.error ?? '', /INVALID_ARGUMENT.*name/);
    const empty = await callForceLeave(prod, 'a', addr, '', 5000);
    assert.match(empty.error ?? '', /INVALID_ARGUMENT.*name/);
    const control = await callForceLeave(prod, 'a', addr, 'd\n', 5000);
    assert.match(control.error ?? '', /INVALID_ARGUMENT.*name/);
    const foreign = await callForceLeave(other, 'a', addr, 'd', 5000);
    assert.match(foreign.error ?? '', /PERMISSION_DENIED.*label test/);
    assert.deepEqual(
      rejections.map((r) => [r.rpc, r.rejection.code, r.rejection.reason]),
      [
        ['ForceLeave', status.INVALID_ARGUMENT, 'invalid'],
        ['ForceLeave', status.INVALID_ARGUMENT, 'invalid'],
        ['ForceLeave', status.INVALID_ARGUMENT, 'invalid'],
        ['ForceLeave', status.PERMISSION_DENIED, 'refused'],
      ],
    );
    assert.equal(core.member('d')?.state, 'dead');
  });

  test('marks a dead member left, and answers left again when asked twice', async () => {
    assert.deepEqual(await callForceLeave(prod, 'a', addr, 'd', 5000), { member: 'a', state: 'left' });
    assert.equal(core.member('d')?.state, 'left');
    assert.deepEqual(applied, ['d by m1']);
    assert.deepEqual(await callForceLeave(prod, 'a', addr, 'd', 5000), { member: 'a', state: 'left' });
  });

  test('the fan-out answers per member, this one first, and counts only those that hold it left', async () => {
    const summary = await fanOutForceLeave('d', {
      selfName: 'me',
      local: { refused: null, state: 'left' },
      peers: [
        { name: 'a', grpcAddr: addr },
        { name: 'gone', grpcAddr: '127.0.0.1:1' },
      ],
      call: (member, grpcAddr) => callForceLeave(prod, member, grpcAddr, 'd', 2000),
    });
    assert.equal(summary.members, 3);
    assert.equal(summary.left, 2);
    assert.deepEqual(summary.results.slice(0, 2), [
      { member: 'me', state: 'left' },
      { member: 'a', state: 'left' },
    ]);
    assert.equal(summary.results[2]?.member, 'gone');
    assert.match(summary.results[2]?.error ?? '', /UNAVAILABLE|ECONNREFUSED|No connection/);
  });
});
