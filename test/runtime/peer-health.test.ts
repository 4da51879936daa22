// pingPeers: each alive or suspect member but this one is asked for its own health score; a member that
// fails, or answers with another name, is null; dead and left members are not asked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pingPeers } from '../../src/runtime/peer-health.js';
import type { PingResult } from '../../src/grpc/client.js';
import { record } from '../core/harness.js';

test('asks live peers only, keeps what they say about themselves, null for silence or a wrong name', async () => {
  const asked: string[] = [];
  const client = {
    async ping(addr: string): Promise<PingResult> {
      asked.push(addr);
      const name = addr.split(':')[0] ?? '';
      if (name === 'c') throw new Error('unreachable');
      return { name: name === 'd' ? 'someone-else' : name, unixTimeMs: 0, members: 5, healthScore: name === 'b' ? 2 : 0, tableVersion: `v-${name}`, claims: 0, liveMembers: 5 };
    },
  };
  const records = [record('a', 'alive'), record('b', 'suspect'), record('c', 'alive'), record('d', 'alive'), record('e', 'dead'), record('f', 'left')];
  const health = await pingPeers(client, records, 'a', 100);
  assert.deepEqual(health, { b: { healthScore: 2, tableVersion: 'v-b' }, c: null, d: null });
  assert.deepEqual(asked.sort(), ['b:7947', 'c:7947', 'd:7947']);
});
