import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PROFILES, profileConfig, validateConfig } from '../../src/core/config.js';

describe('profiles', () => {
  test('lan matches memberlist DefaultLANConfig, except suspicionMult 3 (memberlist\'s local value)', () => {
    const lan = PROFILES.lan;
    assert.equal(lan.probeIntervalMs, 1000);
    assert.equal(lan.probeTimeoutMs, 500);
    assert.equal(lan.indirectChecks, 3);
    assert.equal(lan.suspicionMult, 3);
    assert.equal(lan.suspicionMaxTimeoutMult, 6);
    assert.equal(lan.awarenessMaxMultiplier, 8);
    assert.equal(lan.gossipIntervalMs, 200);
    assert.equal(lan.gossipNodes, 3);
    assert.equal(lan.retransmitMult, 4);
    assert.equal(lan.pushPullIntervalMs, 30_000);
    assert.equal(lan.deadRetentionMs, 30_000);
    assert.equal(lan.packetBudget, 1400);
  });

  test('wan is slower than lan and local is faster', () => {
    assert.equal(PROFILES.wan.probeIntervalMs, 5000);
    assert.equal(PROFILES.wan.probeTimeoutMs, 3000);
    assert.equal(PROFILES.wan.suspicionMult, 6);
    assert.equal(PROFILES.wan.gossipNodes, 4);
    assert.equal(PROFILES.local.probeIntervalMs, 200);
    assert.equal(PROFILES.local.probeTimeoutMs, 100);
    assert.equal(PROFILES.local.indirectChecks, 2);
    assert.equal(PROFILES.local.gossipIntervalMs, 50);
    assert.equal(PROFILES.local.deadRetentionMs, 5000);
  });

  test('every profile is valid and frozen', () => {
    for (const [name, config] of Object.entries(PROFILES)) {
      assert.deepEqual(validateConfig({ ...config }), [], name);
      assert.ok(Object.isFrozen(config), name);
    }
  });
});

describe('profileConfig', () => {
  test('applies overrides on top of the profile and returns a fresh object', () => {
    const config = profileConfig('lan', { probeIntervalMs: 2000, gossipNodes: 5 });
    assert.equal(config.probeIntervalMs, 2000);
    assert.equal(config.gossipNodes, 5);
    assert.equal(config.probeTimeoutMs, 500);
    config.closingFanout = 1;
    assert.equal(PROFILES.lan.closingFanout, 5);
  });

  test('ignores overrides that are undefined', () => {
    const config = profileConfig('local', { probeIntervalMs: undefined });
    assert.equal(config.probeIntervalMs, 200);
  });

  test('throws one error listing every problem', () => {
    assert.throws(
      () => profileConfig('lan', { probeTimeoutMs: 1500, gossipNodes: -1, packetBudget: 100 }),
      (err: Error) =>
        /probeTimeoutMs \(1500\) must be below probeIntervalMs/.test(err.message) &&
        /gossipNodes must be an integer from 0 to 64/.test(err.message) &&
        /packetBudget must be an integer from 512 to 65507/.test(err.message),
    );
  });

  test('rejects non-integers, unknown settings and unknown profiles', () => {
    assert.throws(() => profileConfig('lan', { probeIntervalMs: 1.5 }), /probeIntervalMs must be an integer/);
    assert.throws(() => profileConfig('lan', { bogus: 1 } as never), /unknown setting bogus/);
    assert.throws(() => profileConfig('nope' as never), /unknown SWIM profile "nope"/);
  });
});
