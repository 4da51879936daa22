// Carrying out the core's effects never throws out of the agent's loop: a failing effect (here a
// view-change listener that throws, on start and on a packet from a peer) is counted by kind and
// logged, and the member keeps running and answering.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, test } from 'node:test';
import pino from 'pino';
import { encodePacket } from '../../src/codec/index.js';
import { Agent } from '../../src/runtime/agent.js';
import { loopbackAgentOptions } from '../support/loopback-agent.js';
import { waitFor } from '../support/poll.js';

const logLines: string[] = [];
const logger = pino({ level: 'error' }, { write: (line: string) => void logLines.push(line) });

const agent = new Agent(loopbackAgentOptions('lone', logger));
after(() => agent.leaveAndClose());

test('a throwing effect is counted and logged, and the member lives on', async () => {
  agent.events.on('change', () => {
    throw new Error('listener bug');
  });
  await agent.start();
  await waitFor('the failure on start is counted', 10_000, async () => (agent.stats.effectFailures.get('view') ?? 0) >= 1);
  const before = agent.stats.effectFailures.get('view') ?? 0;

  // A peer's alive changes the view again, from a socket callback this time.
  const [host, port] = agent.gossipAddr.split(':') as [string, string];
  const packet = encodePacket({
    message: null,
    updates: [{ kind: 'alive', name: 'peer', lifeId: 'p-1', incarnation: 1, gossipAddr: '127.0.0.1:9', grpcAddr: '127.0.0.1:9', meta: { appAddr: '', serving: true, tags: {} } }],
  });
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.send(packet, Number(port), host, () => resolve()));
  socket.close();
  await waitFor('the peer is learned', 10_000, async () => agent.members().members.some((m) => m.name === 'peer'));
  await waitFor('the second failure is counted', 10_000, async () => (agent.stats.effectFailures.get('view') ?? 0) > before);

  assert.ok(logLines.some((l) => l.includes('carrying out a membership effect failed') && l.includes('listener bug')));
  assert.equal(agent.members().members.find((m) => m.self)?.state, 'alive');
});
