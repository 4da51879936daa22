// Real sidecars with mutual TLS on the control plane: two members with certificates from the cluster
// CA join each other; a member without certificates cannot join them; POST /v1/leave needs the admin
// token the agent wrote to its file. Addresses 127.0.0.50-59 (sec-edge's block).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, metricValue, waitFor } from './harness.js';
import { hasOpenssl, TestPki } from '../grpc/tls-certs.js';

const skip = hasOpenssl() ? false : 'the openssl binary is needed to make test certificates';

describe('control-plane mutual TLS between real sidecars', { skip }, () => {
  const pki = skip ? null : new TestPki();
  const tokens = mkdtempSync(join(tmpdir(), 'swimring-tls-it-'));
  const cluster = new Cluster();
  after(async () => {
    await cluster.stopAll();
    pki?.cleanup();
    rmSync(tokens, { recursive: true, force: true });
  });

  test('members with CA-signed certificates join; a member without one is refused; leave needs the admin token', async () => {
    const p = pki!;
    // One certificate for every member, naming a DNS name: the members dial each other by IP.
    p.makeLeaf('member', 'swimring', 'DNS:swimring.test');
    const tlsArgs = ['--tls-cert-file', p.path('member.crt'), '--tls-key-file', p.path('member.key'), '--tls-ca-file', p.path('ca.crt'), '--tls-server-name', 'swimring.test'];
    const seed = `127.0.0.54:${cluster.portBase + 1}`;
    const spec = (i: number, host: string, extra: string[]) =>
      cluster.spec(i, { name: `tls-${i}`, host, shards: 1024, seeds: i === 0 ? [] : [seed], extraArgs: [...extra, '--admin-token-file', join(tokens, `tls-${i}.token`)] });
    const a = cluster.start(spec(0, '127.0.0.54', tlsArgs));
    const b = cluster.start(spec(1, '127.0.0.55', tlsArgs));
    try {
      for (const n of [a, b]) {
        await waitFor(`${n.name} to see both TLS members`, 40_000, async () => {
          const m = await n.json<{ members: { name: string; state: string }[] }>('/v1/members');
          return m.body.members.filter((x) => x.state === 'alive').length === 2;
        });
      }
      // A member without certificates: its joins fail the handshake, and nobody lets it in.
      const plain = cluster.start(spec(2, '127.0.0.56', []));
      // A third join attempt means the first two got no answer.
      await waitFor('the plaintext member to retry its join', 30_000, async () => plain.logs.some((l) => l.includes('joining through seeds') && /"attempt":[2-9]/.test(l)));
      const view = await a.json<{ members: { name: string }[] }>('/v1/members');
      assert.deepEqual(view.body.members.map((m) => m.name).sort(), ['tls-0', 'tls-1']);
      assert.ok(!(await plain.json<{ members: { name: string }[] }>('/v1/members')).body.members.some((m) => m.name !== 'tls-2'));

      // The admin token file is the agent's own (0600); without it leave is refused.
      const tokenFile = join(tokens, 'tls-1.token');
      assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
      assert.equal((await b.json('/v1/leave', { method: 'POST' })).status, 401);
      const token = readFileSync(tokenFile, 'utf8').trim();
      const leave = await b.json('/v1/leave', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      assert.equal(leave.status, 202);
      assert.equal(metricValue(await b.metrics(), 'swimring_http_rejections_total', 'unauthorized'), 1);
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${cluster.dumpLogs()}`);
    }
  });
});
