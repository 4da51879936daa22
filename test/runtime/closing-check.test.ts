// Closing is for the caller's own identity only (src/runtime/closing-check.ts, docs/grpc.md "Closing").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MemberRecord } from '../../src/core/types.js';
import { closingRefusal } from '../../src/runtime/closing-check.js';
import { memberRecord } from '../support/member-record.js';

function known(host: string): MemberRecord {
  const at = host.includes(':') ? `[${host}]` : host;
  return memberRecord('m', { lifeId: 'l', incarnation: 5, gossipAddr: `${at}:7946`, grpcAddr: `${at}:7947` });
}

test('another member\'s name is refused, whatever the address or key', () => {
  for (const provedKey of [false, true]) {
    assert.match(closingRefusal('m', { sender: 'x', peer: 'ipv4:10.0.0.5:4000', provedKey }, known('10.0.0.5')) ?? '', /may only announce its own leave/);
    assert.match(closingRefusal('m', { sender: '', peer: 'ipv4:10.0.0.5:4000', provedKey }, undefined) ?? '', /may only announce its own leave/);
  }
});

test('its own name: from its known address, with the key, or for a member not known', () => {
  assert.equal(closingRefusal('m', { sender: 'm', peer: 'ipv4:10.0.0.5:4000', provedKey: false }, known('10.0.0.5')), null);
  assert.equal(closingRefusal('m', { sender: 'm', peer: 'ipv6:[::ffff:10.0.0.5]:4000', provedKey: false }, known('10.0.0.5')), null);
  assert.equal(closingRefusal('m', { sender: 'm', peer: 'ipv6:[fd00::5]:4000', provedKey: false }, known('fd00::5')), null);
  assert.equal(closingRefusal('m', { sender: 'm', peer: 'ipv4:127.0.0.1:4000', provedKey: false }, known('127.0.0.12')), null);
  assert.equal(closingRefusal('m', { sender: 'm', peer: 'ipv4:10.9.9.9:4000', provedKey: true }, known('10.0.0.5')), null);
  assert.equal(closingRefusal('m', { sender: 'm', peer: 'ipv4:10.9.9.9:4000', provedKey: false }, undefined), null);
});

test('its own name from another address, without the key, is refused', () => {
  assert.match(closingRefusal('m', { sender: 'm', peer: 'ipv4:10.9.9.9:4000', provedKey: false }, known('10.0.0.5')) ?? '', /came from 10\.9\.9\.9, not from its known address \(10\.0\.0\.5\)/);
  assert.notEqual(closingRefusal('m', { sender: 'm', peer: 'ipv4:127.0.0.1:4000', provedKey: false }, known('10.0.0.5')), null, 'loopback is not any address');
  assert.notEqual(closingRefusal('m', { sender: 'm', peer: 'ipv4:10.0.0.5:4000', provedKey: false }, known('pod-0.svc.cluster.local')), null, 'a DNS name is not resolved');
});
