import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { generateKey, KEYRING_ENV, loadKeyringSource, parseKeyring, writeKeyringFile } from '../../src/security/keyring-file.js';
import { Keyring, keyId, NONCE_BYTES, SEAL_OVERHEAD } from '../../src/security/keyring.js';

const k1 = Buffer.alloc(32, 1);
const k2 = Buffer.alloc(32, 2);
const k3 = Buffer.alloc(32, 3);
const b64 = (k: Buffer): string => k.toString('base64');

describe('Keyring', () => {
  test('seals with the primary and opens with any installed key, primary first', () => {
    const sender = new Keyring([k1]);
    const receiver = new Keyring([k2, k1]);
    const aad = Buffer.from('label');
    const sealed = sender.seal(Buffer.from('hello'), aad);
    assert.equal(sealed.length, 5 + SEAL_OVERHEAD);
    assert.equal(receiver.open(sealed, aad)?.toString(), 'hello');
  });

  test('a wrong key, a flipped byte or other associated data does not open', () => {
    const ring = new Keyring([k1]);
    const aad = Buffer.from('prod');
    const sealed = ring.seal(Buffer.from('payload'), aad);
    assert.equal(new Keyring([k2]).open(sealed, aad), null);
    assert.equal(ring.open(sealed, Buffer.from('test')), null, 'the label is authenticated');
    for (let i = 0; i < sealed.length; i++) {
      const tampered = Buffer.from(sealed);
      tampered[i] = (tampered[i] as number) ^ 0x01;
      assert.equal(ring.open(tampered, aad), null, `flip at byte ${i}`);
    }
    assert.equal(ring.open(sealed.subarray(0, SEAL_OVERHEAD - 1), aad), null);
  });

  test('two seals of one plaintext differ (fresh nonce)', () => {
    const ring = new Keyring([k1]);
    assert.notDeepEqual(ring.seal(Buffer.from('x'), Buffer.alloc(0)), ring.seal(Buffer.from('x'), Buffer.alloc(0)));
  });

  test('install, use, remove; the primary cannot be removed; ids name keys', () => {
    const ring = new Keyring([k1]);
    assert.deepEqual(ring.install(k2), { ok: true });
    assert.deepEqual(ring.install(k2), { ok: true }, 'installing twice is a no-op');
    assert.equal(ring.size, 2);
    assert.equal(ring.remove(k1).ok, false);
    assert.deepEqual(ring.use(keyId(k2)), { ok: true });
    assert.deepEqual(ring.list(), [
      { id: keyId(k2), primary: true },
      { id: keyId(k1), primary: false },
    ]);
    assert.deepEqual(ring.remove(k1), { ok: true });
    assert.equal(ring.use(k3).ok, false);
    assert.equal(ring.install(Buffer.alloc(16)).ok, false);
    assert.match(keyId(k1), /^[0-9a-f]{16}$/);
  });
});

describe('keyring file and SWIMRING_KEYRING', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swimring-keyring-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('lines: first is primary; comments and blank lines ignored', () => {
    const parsed = parseKeyring(`# keys\n\n${b64(k1)}\n  ${b64(k2)}  \r\n# end\n`, 'f');
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.keys, [k1, k2]);
  });

  test("Serf's JSON array format", () => {
    const parsed = parseKeyring(JSON.stringify([b64(k2), b64(k1)]), 'f');
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.keys, [k2, k1]);
  });

  test('environment form accepts commas', () => {
    const parsed = parseKeyring(`${b64(k1)}, ${b64(k2)}`, KEYRING_ENV, true);
    assert.ok(parsed.ok);
    assert.equal(parsed.keys.length, 2);
    assert.equal(parseKeyring(`${b64(k1)},${b64(k2)}`, 'f').ok, false, 'a file has one key per line');
  });

  test('bad keyrings are refused with a reason that never contains the key text', () => {
    const secretish = Buffer.alloc(16, 7).toString('base64');
    const cases = ['', '# only a comment\n', secretish, 'not base64!!', '[1]', '[', '{"a":1}', JSON.stringify([secretish])];
    for (const text of cases) {
      const parsed = parseKeyring(text, 'keyring file x');
      assert.equal(parsed.ok, false, JSON.stringify(text));
      if (!parsed.ok) {
        assert.ok(parsed.problem.startsWith('keyring file x'), parsed.problem);
        assert.ok(!parsed.problem.includes(secretish), 'key text leaked into the problem');
      }
    }
  });

  test('loadKeyringSource: file, environment, neither, both', () => {
    const file = join(dir, 'keys');
    writeFileSync(file, `${b64(k1)}\n`);
    const fromFile = loadKeyringSource(file, {});
    assert.ok(fromFile.ok && fromFile.source?.file === file);
    const fromEnv = loadKeyringSource(null, { [KEYRING_ENV]: b64(k2) });
    assert.ok(fromEnv.ok && fromEnv.source?.file === null && fromEnv.source.keys[0]?.equals(k2));
    const none = loadKeyringSource(null, {});
    assert.ok(none.ok && none.source === null);
    assert.equal(loadKeyringSource(file, { [KEYRING_ENV]: b64(k2) }).ok, false);
    const missing = loadKeyringSource(join(dir, 'absent'), {});
    assert.ok(!missing.ok && missing.problem.includes('ENOENT'));
  });

  test('writeKeyringFile writes atomically with mode 0600 and reads back in order', () => {
    const file = join(dir, 'rotated');
    writeFileSync(file, `${b64(k1)}\n`, { mode: 0o644 });
    writeKeyringFile(file, [k2, k1]);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const parsed = parseKeyring(readFileSync(file, 'utf8'), 'f');
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.keys, [k2, k1]);
  });

  test('generateKey makes a valid distinct key', () => {
    const a = generateKey();
    const parsed = parseKeyring(a, 'f');
    assert.ok(parsed.ok);
    assert.notEqual(a, generateKey());
  });
});

describe('nonces and the per-key count', () => {
  test('nonces are a per-process prefix and a counter: never repeated, whatever the count', () => {
    const ring = new Keyring([Buffer.alloc(32, 1)]);
    const nonces = new Set<string>();
    let prefix = '';
    for (let i = 0; i < 10_000; i++) {
      const sealed = ring.seal(Buffer.from('x'), Buffer.alloc(0));
      const nonce = sealed.subarray(0, NONCE_BYTES);
      if (i === 0) prefix = nonce.subarray(0, 8).toString('hex');
      assert.equal(nonce.subarray(0, 8).toString('hex'), prefix, 'one prefix per process');
      assert.equal(nonce.readUInt32BE(8), i, 'the counter counts');
      nonces.add(nonce.toString('hex'));
    }
    assert.equal(nonces.size, 10_000);
    assert.notEqual(new Keyring([Buffer.alloc(32, 1)]).seal(Buffer.from('x'), Buffer.alloc(0)).subarray(0, 8).toString('hex'), prefix, 'another process draws another prefix');
  });

  test('seals are counted per key id, across a change of primary', () => {
    const ring = new Keyring([k1, k2]);
    for (let i = 0; i < 3; i++) ring.seal(Buffer.from('x'), Buffer.alloc(0));
    assert.equal(ring.use(k2).ok, true);
    for (let i = 0; i < 5; i++) ring.seal(Buffer.from('x'), Buffer.alloc(0));
    assert.deepEqual([...ring.sealedCounts()], [
      [keyId(k1), 3],
      [keyId(k2), 5],
    ]);
  });
});
