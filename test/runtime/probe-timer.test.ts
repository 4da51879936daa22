// ProbeTimer: a ping's round trip is the time to the ack with its sequence number from the member it
// pinged; relayed acks, strangers' acks and repeats are not counted, and the memory of pings is bounded.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Packet } from '../../src/core/types.js';
import { ProbeTimer } from '../../src/runtime/probe-timer.js';

const addr = '127.0.0.1:7946';
const ping = (seq: number, target: string): Packet => ({ message: { type: 'ping', seq, from: 'me', fromAddr: addr, target }, updates: [] });
const ack = (seq: number, from: string): Packet => ({ message: { type: 'ack', seq, from }, updates: [] });

describe('ProbeTimer', () => {
  test('an ack from the pinged member gives its round trip in seconds, once', () => {
    const seen: number[] = [];
    const timer = new ProbeTimer((s) => seen.push(s));
    timer.sent(ping(7, 'b'), 1000);
    timer.received(ack(7, 'b'), 1003.5);
    timer.received(ack(7, 'b'), 1010);
    assert.deepEqual(seen, [0.0035]);
    assert.equal(timer.outstanding, 0);
  });

  test('acks with another sequence number or from another member are not round trips', () => {
    const seen: number[] = [];
    const timer = new ProbeTimer((s) => seen.push(s));
    timer.sent(ping(1, 'b'), 0);
    timer.received(ack(2, 'b'), 5);
    timer.received(ack(1, 'c'), 5);
    timer.received({ message: null, updates: [] }, 5);
    timer.sent({ message: ack(9, 'me').message, updates: [] }, 0);
    assert.deepEqual(seen, []);
    assert.equal(timer.outstanding, 1);
  });

  test('pings never answered are forgotten oldest first beyond a bound', () => {
    const seen: number[] = [];
    const timer = new ProbeTimer((s) => seen.push(s));
    for (let seq = 0; seq < 1000; seq++) timer.sent(ping(seq, 'b'), seq);
    assert.ok(timer.outstanding <= 256);
    timer.received(ack(0, 'b'), 2000);
    timer.received(ack(999, 'b'), 1001);
    assert.deepEqual(seen, [0.002]);
  });
});
