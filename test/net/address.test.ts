import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatHostPort, parseHostPort } from '../../src/net/address.js';

test('parses IPv4, names and bracketed IPv6', () => {
  assert.deepEqual(parseHostPort('10.0.0.1:7946'), { host: '10.0.0.1', port: 7946 });
  assert.deepEqual(parseHostPort('swimring.default.svc:7947'), { host: 'swimring.default.svc', port: 7947 });
  assert.deepEqual(parseHostPort('[::1]:7946'), { host: '::1', port: 7946 });
  assert.deepEqual(parseHostPort('seed', 7947), { host: 'seed', port: 7947 });
});

test('rejects what is not an address, with a reason', () => {
  for (const bad of ['', '::1:7946', '[::1', '[nothex]:1', 'host:99999', 'host:abc', 'a b:1', ':7946', 'host']) {
    const r = parseHostPort(bad);
    assert.equal(typeof r, 'string', `${bad} should be rejected`);
  }
});

test('formats IPv6 in brackets and round-trips', () => {
  assert.equal(formatHostPort('::1', 7946), '[::1]:7946');
  assert.equal(formatHostPort('127.0.0.1', 1), '127.0.0.1:1');
  for (const s of ['[fe80::1]:80', '1.2.3.4:5', 'name:6']) {
    const hp = parseHostPort(s);
    assert.notEqual(typeof hp, 'string');
    if (typeof hp !== 'string') assert.equal(formatHostPort(hp.host, hp.port), s);
  }
});
