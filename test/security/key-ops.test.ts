import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ControlPlaneClient } from '../../src/grpc/client.js';
import { startControlPlaneServer } from '../../src/grpc/server.js';
import type { Rejection } from '../../src/grpc/errors.js';
import { ControlPlaneError } from '../../src/grpc/errors.js';
import { status } from '@grpc/grpc-js';
import { callKeyringOp, keyringServerMethods } from '../../src/security/grpc-keyring.js';
import { fanOutKeyOp } from '../../src/security/key-fanout.js';
import { KEY_OP_MAX_SKEW_MS, LocalKeyring, keyOpReplayGuard, openKeyOp, sealKeyOp, summarize } from '../../src/security/key-ops.js';
import { parseKeyring } from '../../src/security/keyring-file.js';
import { Keyring, keyId } from '../../src/security/keyring.js';

const k1 = Buffer.alloc(32, 1);
const k2 = Buffer.alloc(32, 2);
const k9 = Buffer.alloc(32, 9);
const b64 = (k: Buffer): string => k.toString('base64');

describe('sealed keyring operations', () => {
  test('open what a holder of an installed key sealed, under the same label only', () => {
    const sealed = sealKeyOp(new Keyring([k1]), 'prod', { op: 'install', key: b64(k2) });
    assert.ok(!sealed.includes(Buffer.from(b64(k2))), 'key material is not in clear');
    assert.deepEqual(openKeyOp(new Keyring([k2, k1]), 'prod', sealed, keyOpReplayGuard()), { op: 'install', key: b64(k2) });
    assert.equal(typeof openKeyOp(new Keyring([k1]), 'test', sealed, keyOpReplayGuard()), 'string');
    assert.equal(typeof openKeyOp(new Keyring([k9]), 'prod', sealed, keyOpReplayGuard()), 'string');
    assert.equal(typeof openKeyOp(new Keyring([k1]), 'prod', Buffer.alloc(2000), keyOpReplayGuard()), 'string');
  });

  test('a recorded operation cannot be replayed: not twice within the window, not after it, not without time and id', () => {
    let now = 1_000_000_000;
    const guard = keyOpReplayGuard(() => now);
    const ring = new Keyring([k1]);
    const sealed = sealKeyOp(ring, 'prod', { op: 'install', key: b64(k2) }, now);
    assert.deepEqual(openKeyOp(ring, 'prod', sealed, guard), { op: 'install', key: b64(k2) });
    assert.match(openKeyOp(ring, 'prod', sealed, guard) as string, /already used here \(a replay\)/);
    now += KEY_OP_MAX_SKEW_MS + 1;
    assert.match(openKeyOp(ring, 'prod', sealed, keyOpReplayGuard(() => now)) as string, /off this member's clock/, 'a fresh guard (a restart) still refuses it by time');
    assert.deepEqual(openKeyOp(ring, 'prod', sealKeyOp(ring, 'prod', { op: 'list' }, now), guard), { op: 'list' }, 'a new request passes');
    const aad = Buffer.from('swimring keyring-op v1\0prod', 'utf8');
    const unstamped = ring.seal(Buffer.from(JSON.stringify({ op: 'install', key: b64(k2) })), aad);
    assert.match(openKeyOp(ring, 'prod', unstamped, guard) as string, /no time and id/);
  });

  test('the seen ids stay bounded', () => {
    const now = 5_000_000;
    const guard = keyOpReplayGuard(() => now, 3);
    for (let i = 0; i < 3; i++) assert.equal(guard.admit(`${'a'.repeat(15)}${i}`, now), null);
    assert.match(guard.admit('b'.repeat(16), now) ?? '', /too many sealed keyring requests/);
  });

  test('well-sealed nonsense is refused by shape', () => {
    const ring = new Keyring([k1]);
    const aad = Buffer.from('swimring keyring-op v1\0', 'utf8');
    for (const text of ['nope', '[]', '{"op":"format"}', '{"op":"use"}', '{"op":"use","key":5}']) {
      assert.equal(typeof openKeyOp(ring, '', ring.seal(Buffer.from(text), aad), keyOpReplayGuard()), 'string', text);
    }
  });
});

describe('LocalKeyring', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swimring-keyops-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a rotation is written back to the keyring file, primary first', () => {
    const file = join(dir, 'keys');
    writeFileSync(file, `${b64(k1)}\n`);
    const local = new LocalKeyring(new Keyring([k1]), file);
    assert.equal(local.apply({ op: 'install', key: b64(k2) }).ok, true);
    assert.equal(local.apply({ op: 'use', key: keyId(k2) }).ok, true, 'use by id');
    assert.equal(local.apply({ op: 'remove', key: b64(k1) }).ok, true);
    const parsed = parseKeyring(readFileSync(file, 'utf8'), 'f');
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.keys, [k2]);
  });

  test('refusals: removing the primary, using a missing key, a malformed key', () => {
    const local = new LocalKeyring(new Keyring([k1]), null);
    assert.match(local.apply({ op: 'remove', key: b64(k1) }).error ?? '', /primary/);
    assert.match(local.apply({ op: 'use', key: b64(k2) }).error ?? '', /not installed/);
    assert.equal(local.apply({ op: 'install', key: 'abc' }).ok, false);
    assert.equal(local.apply({ op: 'install', key: keyId(k2) }).ok, false);
    assert.deepEqual(local.apply({ op: 'list' }), { ok: true, keys: [{ id: keyId(k1), primary: true }] });
  });

  test('a failed write is reported without key text and the rotation still holds in memory', () => {
    const errors: string[] = [];
    const local = new LocalKeyring(new Keyring([k1]), join(dir, 'no-such-dir', 'keys'), (m) => errors.push(m));
    assert.equal(local.apply({ op: 'install', key: b64(k2) }).ok, true);
    assert.equal(local.keyring.size, 2);
    assert.equal(errors.length, 1);
    assert.ok(!errors[0]?.includes(b64(k2)));
  });
});

describe('summarize and fan-out', () => {
  test('list counts holders and primaries per key; failures are listed per member', () => {
    const s = summarize('list', [
      { member: 'a', ok: true, keys: [{ id: 'k1', primary: true }, { id: 'k2', primary: false }] },
      { member: 'b', ok: true, keys: [{ id: 'k1', primary: true }] },
      { member: 'c', ok: false, error: 'UNAVAILABLE', keys: [] },
    ]);
    assert.equal(s.members, 3);
    assert.equal(s.succeeded, 2);
    assert.deepEqual(s.failures, [{ member: 'c', error: 'UNAVAILABLE' }]);
    assert.deepEqual(s.keys, [
      { id: 'k1', members: 2, primary: 2 },
      { id: 'k2', members: 1, primary: 0 },
    ]);
  });

  test('fan-out seals once with the primary, applies locally and reports each peer', async () => {
    const local = new LocalKeyring(new Keyring([k1]), null);
    const peerRing = new LocalKeyring(new Keyring([k1]), null);
    const summary = await fanOutKeyOp(
      { op: 'install', key: b64(k2) },
      {
        local,
        label: 'prod',
        selfName: 'a',
        peers: [
          { name: 'b', grpcAddr: 'b:1' },
          { name: 'c', grpcAddr: 'c:1' },
        ],
        call: async (addr, sealed) => {
          if (addr === 'c:1') return { ok: false, error: 'UNAVAILABLE', keys: [] };
          const op = openKeyOp(peerRing.keyring, 'prod', sealed, keyOpReplayGuard());
          assert.notEqual(typeof op, 'string');
          return peerRing.apply(op as Exclude<typeof op, string>);
        },
      },
    );
    assert.equal(summary.succeeded, 2);
    assert.deepEqual(summary.failures, [{ member: 'c', error: 'UNAVAILABLE' }]);
    assert.equal(local.keyring.size, 2);
    assert.equal(peerRing.keyring.size, 2);
  });
});

describe('KeyringOp over gRPC', () => {
  test('a member holding the key applies it; a stranger key, another label or no keyring is refused', async () => {
    const rejections: Rejection[] = [];
    const local = new LocalKeyring(new Keyring([k1]), null);
    const start = (l: LocalKeyring | null) =>
      startControlPlaneServer({
        bind: '127.0.0.1:0',
        handlers: {
          negotiate: () => [],
          closing: () => {},
          ping: () => ({ name: 'x', members: 1, healthScore: 0, tableVersion: 'v' }),
        },
        extraMethods: keyringServerMethods({
          local: l,
          label: 'prod',
          checkContext: (ctx) => {
            if (ctx.label !== 'prod') throw new ControlPlaneError(status.PERMISSION_DENIED, 'label');
          },
          onReject: (_rpc, r) => rejections.push(r),
        }),
      });
    const server = await start(local);
    const bare = await start(null);
    const prod = new ControlPlaneClient({ sender: 'cli', label: 'prod' });
    const other = new ControlPlaneClient({ sender: 'cli', label: 'test' });
    try {
      const addr = `127.0.0.1:${server.port}`;
      const ok = await callKeyringOp(prod, addr, sealKeyOp(new Keyring([k1]), 'prod', { op: 'install', key: b64(k2) }), 5000);
      assert.equal(ok.ok, true, ok.error);
      assert.equal(ok.keys.length, 2);
      const refusedUse = await callKeyringOp(prod, addr, sealKeyOp(new Keyring([k1]), 'prod', { op: 'use', key: b64(k9) }), 5000);
      assert.deepEqual([refusedUse.ok, refusedUse.error], [false, 'key is not installed']);
      const stranger = await callKeyringOp(prod, addr, sealKeyOp(new Keyring([k9]), 'prod', { op: 'remove', key: b64(k2) }), 5000);
      assert.equal(stranger.ok, false);
      assert.match(stranger.error ?? '', /PERMISSION_DENIED|no installed key/);
      const wrongLabel = await callKeyringOp(other, addr, sealKeyOp(new Keyring([k1]), 'test', { op: 'list' }), 5000);
      assert.equal(wrongLabel.ok, false);
      const none = await callKeyringOp(prod, `127.0.0.1:${bare.port}`, sealKeyOp(new Keyring([k1]), 'prod', { op: 'list' }), 5000);
      assert.match(none.error ?? '', /no gossip keyring/);
      assert.equal(local.keyring.size, 2, 'refused calls changed nothing');
      assert.equal(rejections.length, 3);
    } finally {
      prod.close();
      other.close();
      await Promise.all([server.close(), bare.close()]);
    }
  });
});
