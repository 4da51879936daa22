import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeedResolver } from '../../src/runtime/discovery.js';

test('static seeds pass through, deduplicated and sorted, with the default port filled in', async () => {
  const r = new SeedResolver({ defaultPort: 7947 });
  const { addresses, problems } = await r.resolve(['10.0.0.2:7000', '10.0.0.1', '10.0.0.2:7000', '[::1]:7001']);
  assert.deepEqual(addresses, ['10.0.0.1:7947', '10.0.0.2:7000', '[::1]:7001']);
  assert.deepEqual(problems, []);
});

test('a name the system resolver knows (localhost) yields its addresses', async () => {
  const r = new SeedResolver({ defaultPort: 7947 });
  const { addresses } = await r.resolve(['localhost:7100']);
  assert.ok(addresses.some((a) => a === '127.0.0.1:7100' || a === '[::1]:7100'), addresses.join(','));
});

test('an unresolvable name and a malformed entry are reported, not thrown', async () => {
  const r = new SeedResolver({ defaultPort: 7947, dnsServers: ['127.0.0.1:1'], timeoutMs: 200 });
  const { addresses, problems } = await r.resolve(['no-such-host.invalid:7947', 'bad host:1', '10.1.1.1:80']);
  assert.deepEqual(addresses, ['10.1.1.1:80']);
  assert.equal(problems.length, 2);
  assert.match(problems.join('\n'), /no-such-host\.invalid/);
});
