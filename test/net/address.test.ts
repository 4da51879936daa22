import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  formatHostPort,
  isLoopbackHost,
  isWildcardHost,
  mustParseHostPort,
  parseHost,
  parseHostPort,
  type HostPortRules,
} from '../../src/net/address.js';

const STRICT: HostPortRules = { allowPortZero: false };
const SHAPE: HostPortRules = { allowPortZero: true, hosts: 'shape' };

function value(text: string, rules: HostPortRules): unknown {
  const r = parseHostPort(text, rules);
  return r.ok ? r.value : `refused: ${r.reason}`;
}

function reason(text: string, rules: HostPortRules): string {
  const r = parseHostPort(text, rules);
  assert.ok(!r.ok, `"${text}" accepted`);
  return r.reason;
}

describe('parseHostPort', () => {
  test('parses IPv4, names and bracketed IPv6 under both host checks', () => {
    for (const rules of [STRICT, SHAPE]) {
      assert.deepEqual(value('10.0.0.1:7946', rules), { host: '10.0.0.1', port: 7946 });
      assert.deepEqual(value('swimring.default.svc:7947', rules), { host: 'swimring.default.svc', port: 7947 });
      assert.deepEqual(value('[::1]:7946', rules), { host: '::1', port: 7946 });
      assert.deepEqual(value(' seed ', { ...rules, defaultPort: 7947 }), { host: 'seed', port: 7947 });
    }
  });

  test('rejects what is not an address, with a reason, under both host checks', () => {
    for (const rules of [STRICT, SHAPE]) {
      for (const bad of ['', '::1:7946', '[::1', '[::1]x', '[nothex]:1', '[1.2.3.4]:1', 'host:99999', 'host:abc', 'a b:1', ':7946', 'host']) {
        assert.ok(reason(bad, rules).length > 0);
      }
    }
    assert.match(reason('::1:7946', SHAPE), /\[addr\]:port/);
    assert.match(reason(':7946', SHAPE), /missing host/);
    assert.match(reason('host', SHAPE), /missing ":port"/);
  });

  test('port 0 only where the rules allow it', () => {
    assert.match(reason('10.0.0.1:0', STRICT), /port 0 is outside 1-65535/);
    assert.deepEqual(value('10.0.0.1:0', SHAPE), { host: '10.0.0.1', port: 0 });
    assert.match(reason('10.0.0.1:65536', SHAPE), /port 65536 is outside 0-65535/);
  });

  test('the strict check catches host typos the shape check lets through', () => {
    for (const [text, why] of [
      ['300.1.1.1:80', /not an IPv4 address/],
      ['a..b:80', /not an IP address or DNS name/],
      ['-leading.dash:80', /not an IP address or DNS name/],
      [`${'a'.repeat(64)}:80`, /not an IP address or DNS name/],
    ] as const) {
      assert.match(reason(text, STRICT), why);
      assert.equal(parseHostPort(text, SHAPE).ok, true, text);
    }
    assert.match(reason('h o:1', SHAPE), /not a valid host name/);
  });

  test('whatever the strict check accepts, the shape check accepts as the same address', () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
    const host = fc.oneof(
      fc.ipV4(),
      fc.ipV6().map((h) => `[${h}]`),
      fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.')),
    );
    fc.assert(
      fc.property(host, fc.integer({ min: 1, max: 65535 }), (h, port) => {
        const text = `${h}:${port}`;
        const strict = parseHostPort(text, STRICT);
        if (!strict.ok) return;
        assert.deepEqual(value(text, SHAPE), strict.value);
        assert.equal(formatHostPort(strict.value), formatHostPort(mustParseHostPort(formatHostPort(strict.value))));
      }),
    );
  });
});

describe('formatHostPort and mustParseHostPort', () => {
  test('formats IPv6 in brackets and round-trips', () => {
    assert.equal(formatHostPort({ host: '::1', port: 7946 }), '[::1]:7946');
    assert.equal(formatHostPort({ host: '127.0.0.1', port: 1 }), '127.0.0.1:1');
    for (const s of ['[fe80::1]:80', '1.2.3.4:5', 'name:6', '0.0.0.0:0']) assert.equal(formatHostPort(mustParseHostPort(s)), s);
  });

  test('mustParseHostPort throws on what is not an address', () => {
    assert.throws(() => mustParseHostPort('no-port'), RangeError);
    assert.throws(() => mustParseHostPort('a b:1'), RangeError);
  });
});

describe('hosts', () => {
  test('parseHost takes IPv4, IPv6 with or without brackets, and DNS names', () => {
    assert.deepEqual(parseHost(' 10.1.2.3 '), { ok: true, value: '10.1.2.3' });
    assert.deepEqual(parseHost('[fd00::5]'), { ok: true, value: 'fd00::5' });
    assert.deepEqual(parseHost('fd00::5'), { ok: true, value: 'fd00::5' });
    assert.deepEqual(parseHost('pod-1.svc.cluster.local.'), { ok: true, value: 'pod-1.svc.cluster.local.' });
    for (const bad of ['', '[zz]', 'fd00:::5:x', '1.2.3', 'a_b-.c', `${'a'.repeat(250)}.com`]) assert.equal(parseHost(bad).ok, false, bad);
  });

  test('loopback and wildcard hosts', () => {
    for (const h of ['localhost', '::1', '127.0.0.1', '127.9.9.9', '::ffff:127.0.0.1']) assert.ok(isLoopbackHost(h), h);
    for (const h of ['10.0.0.1', '::2', 'example.com', '128.0.0.1']) assert.ok(!isLoopbackHost(h), h);
    for (const h of ['0.0.0.0', '::', '0:0:0:0:0:0:0:0']) assert.ok(isWildcardHost(h), h);
    for (const h of ['0.0.0.1', '::1', 'localhost']) assert.ok(!isWildcardHost(h), h);
  });
});
