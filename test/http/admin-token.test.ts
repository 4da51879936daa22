// src/http/admin-token.ts: the token file is 0600, replaces whatever was planted at its path (never
// writes through a symlink), is read back bounded, and is found by the CLI the way the agent names it;
// an agent that cannot write it starts without admin actions and says so.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { setupAdminToken } from '../../src/cli/edge-setup.js';
import { loadConfig, type SwimringConfig } from '../../src/config.js';
import { cliAdminToken, defaultAdminTokenFile, newAdminToken, readAdminTokenFile, removeAdminTokenFile, writeAdminTokenFile } from '../../src/http/admin-token.js';

describe('admin token file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swimring-admin-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('new tokens are 43 base64url characters and differ', () => {
    const a = newAdminToken();
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, newAdminToken());
  });

  test('the default path percent-encodes the name so it cannot leave the folder', () => {
    assert.equal(defaultAdminTokenFile('pod-1', '/tmp'), '/tmp/swimring-pod-1.token');
    assert.equal(defaultAdminTokenFile('../../etc/x', '/tmp'), '/tmp/swimring-..%2F..%2Fetc%2Fx.token');
  });

  test('written 0600, read back, removed only while it still holds our token', async () => {
    const path = join(dir, 'a.token');
    const token = newAdminToken();
    await writeAdminTokenFile(path, token);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(await readAdminTokenFile(path), { ok: true, token });
    await removeAdminTokenFile(path, 'someone-elses-token');
    assert.ok(existsSync(path));
    await removeAdminTokenFile(path, token);
    assert.ok(!existsSync(path));
  });

  test('a symlink planted at the path is replaced, its target untouched', async () => {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious');
    const path = join(dir, 'planted.token');
    symlinkSync(victim, path);
    await writeAdminTokenFile(path, newAdminToken());
    assert.equal(readFileSync(victim, 'utf8'), 'precious');
    assert.ok(lstatSync(path).isFile());
  });

  test('reading refuses what is not a token, with the reason', async () => {
    const big = join(dir, 'big.token');
    writeFileSync(big, 'x'.repeat(5000));
    const r1 = await readAdminTokenFile(big);
    assert.equal(r1.ok, false);
    const short = join(dir, 'short.token');
    writeFileSync(short, 'abc\n');
    assert.match(((await readAdminTokenFile(short)) as { reason: string }).reason, /does not hold a token/);
    assert.match(((await readAdminTokenFile(join(dir, 'none'))) as { reason: string }).reason, /cannot read/);
  });

  test('the CLI finds the token: explicit file, then the environment, then the default file for the name', async () => {
    const token = newAdminToken();
    const file = join(dir, 'cli.token');
    await writeAdminTokenFile(file, token);
    assert.deepEqual(cliAdminToken({ SWIMRING_HTTP_TOKEN: 'http-token-0123456789' }, file), { ok: true, token });
    assert.deepEqual(cliAdminToken({ SWIMRING_ADMIN_TOKEN_FILE: file }), { ok: true, token });
    assert.equal(cliAdminToken({ SWIMRING_ADMIN_TOKEN_FILE: join(dir, 'missing') }).ok, false);
    assert.deepEqual(cliAdminToken({ SWIMRING_ADMIN_TOKEN: 'admin-token-0123456789' }), { ok: true, token: 'admin-token-0123456789' });
    // The app's HTTP token is not the admin token.
    assert.deepEqual(cliAdminToken({ SWIMRING_HTTP_TOKEN: 'http-token-0123456789', POD_NAME: `none-${process.pid}` }), { ok: true, token: undefined });
    // The default file for the name, in the real tmpdir (the agent's default).
    const name = `cli-test-${process.pid}`;
    await writeAdminTokenFile(defaultAdminTokenFile(name), token);
    try {
      assert.deepEqual(cliAdminToken({ POD_NAME: name }), { ok: true, token });
      assert.deepEqual(cliAdminToken({}, undefined, () => name), { ok: true, token });
      assert.deepEqual(cliAdminToken({ POD_NAME: `${name}-other` }), { ok: true, token: undefined });
    } finally {
      await removeAdminTokenFile(defaultAdminTokenFile(name), token);
    }
  });
});

describe('the agent where it cannot write its admin token file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swimring-admin-setup-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  function setup(path: string): { config: SwimringConfig; logger: Logger; lines: () => { level: number; msg: string; file?: string }[] } {
    const r = loadConfig({ argv: ['--admin-token-file', path], env: {}, hostname: () => 'host-a', networkInterfaces: () => ({}), readFile: () => '{}' });
    assert.ok(r.ok);
    const out: string[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => out.push(s) });
    return { config: r.config, logger, lines: () => out.map((l) => JSON.parse(l) as { level: number; msg: string; file?: string }) };
  }

  test('starts without a token and warns how to configure one (a read-only /tmp gives EROFS, a missing folder ENOENT)', async () => {
    const path = join(dir, 'no-such-folder', 'a.token');
    const { config, logger, lines } = setup(path);
    const admin = await setupAdminToken(config, logger);
    assert.equal(admin.token, null);
    await admin.release();
    const warned = lines().filter((l) => l.level === 40);
    assert.equal(warned.length, 1);
    assert.equal(warned[0]?.file, path);
    assert.match(warned[0]?.msg ?? '', /admin actions .* are refused until an admin token is configured.*SWIMRING_ADMIN_TOKEN.*emptyDir/);
    assert.equal(existsSync(path), false);
  });

  test('a writable path still gets a fresh token file', async () => {
    const path = join(dir, 'b.token');
    const { config, logger } = setup(path);
    const admin = await setupAdminToken(config, logger);
    assert.ok(admin.token !== null);
    assert.deepEqual(await readAdminTokenFile(path), { ok: true, token: admin.token });
    await admin.release();
    assert.equal(existsSync(path), false);
  });
});
