import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildAppApi } from '../../src/http/index.js';
import { createMetrics } from '../../src/metrics.js';
import { formatSummary } from '../../src/cli/keys.js';
import type { KeyOp, KeyOpSummary } from '../../src/security/key-ops.js';
import { FakeView } from '../http/fake-view.js';

const TOKEN = 'admin-token-0123456789';
const KEY = Buffer.alloc(32, 5).toString('base64');
const auth = { authorization: `Bearer ${TOKEN}` };

function summary(op: KeyOp['op']): KeyOpSummary {
  return { op, members: 3, succeeded: 3, failures: [], keys: [{ id: '0123456789abcdef', members: 3, primary: 3 }] };
}

describe('/v1/keys', () => {
  test('admin token required from every client, loopback included', async () => {
    const app = buildAppApi(new FakeView(), { metrics: createMetrics(), adminToken: TOKEN, keyOps: (op) => Promise.resolve(summary(op.op)) });
    try {
      assert.equal((await app.inject({ method: 'GET', url: '/v1/keys' })).statusCode, 401);
      assert.equal((await app.inject({ method: 'GET', url: '/v1/keys', headers: { authorization: 'Bearer wrong' } })).statusCode, 401);
      const res = await app.inject({ method: 'GET', url: '/v1/keys', headers: auth });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), summary('list'));
    } finally {
      await app.close();
    }
  });

  test('operations pass the key through; a malformed key is a 400 that does not echo it', async () => {
    const seen: KeyOp[] = [];
    const app = buildAppApi(new FakeView(), {
      metrics: createMetrics(),
      adminToken: TOKEN,
      keyOps: (op) => {
        seen.push(op);
        return Promise.resolve(summary(op.op));
      },
    });
    try {
      for (const op of ['install', 'use', 'remove'] as const) {
        const res = await app.inject({ method: 'POST', url: `/v1/keys/${op}`, headers: auth, payload: { key: KEY } });
        assert.equal(res.statusCode, 200, res.body);
      }
      assert.equal((await app.inject({ method: 'POST', url: '/v1/keys/use', headers: auth, payload: { key: '0123456789abcdef' } })).statusCode, 200);
      const bad = await app.inject({ method: 'POST', url: '/v1/keys/install', headers: auth, payload: { key: 'c2VjcmV0LXRoaW5n' } });
      assert.equal(bad.statusCode, 400);
      assert.ok(!bad.body.includes('c2VjcmV0LXRoaW5n'));
      assert.equal((await app.inject({ method: 'POST', url: '/v1/keys/install', headers: auth, payload: { key: '0123456789abcdef' } })).statusCode, 400, 'install needs the key');
      assert.deepEqual(
        seen.map((o) => o.op),
        ['install', 'use', 'remove', 'use'],
      );
    } finally {
      await app.close();
    }
  });

  test('a member without a keyring answers 409 no_keyring', async () => {
    const app = buildAppApi(new FakeView(), { metrics: createMetrics(), adminToken: TOKEN, keyOps: () => null });
    try {
      const res = await app.inject({ method: 'GET', url: '/v1/keys', headers: auth });
      assert.equal(res.statusCode, 409);
      assert.equal((res.json() as { error: { code: string } }).error.code, 'no_keyring');
    } finally {
      await app.close();
    }
  });

  test('the CLI prints key ids with holder counts, and each failure', () => {
    const text = formatSummary({ ...summary('install'), succeeded: 2, failures: [{ member: 'm3', error: 'UNAVAILABLE' }] });
    assert.match(text, /Installed the key on 2\/3 members/);
    assert.match(text, /failed on m3: UNAVAILABLE/);
    assert.match(formatSummary(summary('list')), /0123456789abcdef\s+3\/3\s+3/);
  });
});
