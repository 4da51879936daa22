// The sec-edge options: control-plane TLS files, the admin token file, the Negotiate rates.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { warnIfOpen } from '../../src/cli/edge-setup.js';
import { loadConfig } from '../../src/config.js';

function load(argv: string[]) {
  return loadConfig({ argv, env: {}, hostname: () => 'host-a', networkInterfaces: () => ({}), readFile: () => '{}' });
}

describe('sec-edge options', () => {
  test('defaults: no TLS, default token file, the documented Negotiate rates', () => {
    const r = load([]);
    assert.ok(r.ok);
    assert.equal(r.config.tls, null);
    assert.equal(r.config.adminTokenFile, null);
    assert.deepEqual(r.config.negotiateRate, { globalPerSecond: 100, globalBurst: 200, perPeerPerSecond: 2, perPeerBurst: 10, perHostPerSecond: 20, perHostBurst: 50 });
  });

  test('cert and key turn TLS on; a CA makes it mutual; the server name and reload interval pass through', () => {
    const r = load(['--tls-cert-file', '/t/c', '--tls-key-file', '/t/k', '--tls-ca-file', '/t/ca', '--tls-server-name', 'swimring.ns.svc', '--tls-reload-interval-ms', '500']);
    assert.ok(r.ok, r.ok ? '' : r.problems.join('; '));
    assert.deepEqual(r.config.tls, { certFile: '/t/c', keyFile: '/t/k', caFile: '/t/ca', serverName: 'swimring.ns.svc', reloadIntervalMs: 500 });
  });

  test('half a TLS configuration is refused naming the missing option', () => {
    const cases: [string[], RegExp][] = [
      [['--tls-cert-file', '/t/c'], /--tls-key-file/],
      [['--tls-key-file', '/t/k'], /--tls-cert-file/],
      [['--tls-ca-file', '/t/ca'], /--tls-ca-file.*own certificate/],
      [['--tls-server-name', 'x'], /--tls-server-name.*only meaningful/],
    ];
    for (const [argv, problem] of cases) {
      const r = load(argv);
      assert.equal(r.ok, false, argv.join(' '));
      if (!r.ok) assert.ok(r.problems.some((p) => problem.test(p)), `${argv.join(' ')}: ${r.problems.join('; ')}`);
    }
  });

  test('rates are positive integers', () => {
    assert.equal(load(['--negotiate-rate', '0']).ok, false);
    const r = load(['--negotiate-peer-rate', '5', '--negotiate-peer-burst', '20', '--admin-token-file', '/run/swimring/token']);
    assert.ok(r.ok);
    assert.equal(r.config.negotiateRate.perPeerPerSecond, 5);
    assert.equal(r.config.adminTokenFile, '/run/swimring/token');
  });
});

describe('a warning when gossip is open on the network', () => {
  const warnings = (argv: string[], encrypted: boolean): string[] => {
    const r = load(argv);
    if (!r.ok) assert.fail(r.problems.join('\n'));
    const lines: string[] = [];
    warnIfOpen(r.config, encrypted, pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) }));
    return lines;
  };

  test('plaintext on a non-loopback address is warned about; loopback or a keyring is not', () => {
    const open = warnings(['--gossip-addr', '10.0.0.5:7946', '--advertise-host', '10.0.0.5'], false);
    assert.equal(open.length, 1);
    assert.match(open[0] ?? '', /gossip is plaintext and unauthenticated on a non-loopback address/);
    assert.deepEqual(warnings(['--gossip-addr', '10.0.0.5:7946', '--advertise-host', '10.0.0.5'], true), []);
    assert.deepEqual(warnings(['--gossip-addr', '127.0.0.1:7946', '--advertise-host', '127.0.0.1'], false), []);
  });
});
