// Agent.leave() resolves once the leave is announced, after the drain (view.ts: "resolves when it has been
// announced"): until then the member has stopped serving but is still alive in its own view; after, it
// holds itself left.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pino from 'pino';
import { Agent } from '../../src/runtime/agent.js';
import { loopbackAgentOptions } from '../support/loopback-agent.js';

const agent = new Agent(loopbackAgentOptions('leaver', pino({ level: 'silent' }), { drainMs: 300 }));
after(() => agent.close());

test('leave() resolves after the drain, once the leave is announced', async () => {
  await assert.rejects(agent.leave(), /has not started/);
  await agent.start();
  const self = () => agent.members().members.find((m) => m.self);
  let announced = false;
  const leaving = agent.leave().then(() => {
    announced = true;
  });
  assert.equal(agent.leave(), agent.leave(), 'asking again returns the same leave');
  assert.equal(agent.isLeaving(), true);
  assert.equal(self()?.serving, false, 'serving stops at once');
  assert.equal(self()?.state, 'alive', 'still a member while it drains');
  assert.equal(announced, false);
  await leaving;
  assert.equal(self()?.state, 'left', 'announced: this member holds itself left');
  assert.deepEqual(agent.readiness().reasons, ['leaving the cluster']);
});
