import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeAppAnswer, decodeAppMessage, encodeAppAnswer, encodeAppMessage } from '../../src/apply/payload.js';
import { NO_TRACE } from '../../src/apply/trace-context.js';
import { scanRepeatedField } from '../../src/grpc/wire-scan.js';

const contentType = fc.stringMatching(/^[\x20-\x7e]{0,40}$/);

describe('Apply payloads', () => {
  test('AppMessage and AppAnswer round-trip', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), contentType, fc.integer({ min: 100, max: 599 }), (body, ct, status) => {
        const m = decodeAppMessage(encodeAppMessage({ body: Buffer.from(body), contentType: ct, trace: NO_TRACE }), 1000);
        assert.ok(m.ok);
        assert.deepEqual([...m.value.body], [...body]);
        assert.equal(m.value.contentType, ct);
        const a = decodeAppAnswer(encodeAppAnswer({ status, body: Buffer.from(body), contentType: ct }), 1000);
        assert.ok(a.ok);
        assert.equal(a.value.status, status);
        assert.equal(a.value.contentType, ct);
      }),
    );
  });

  test('arbitrary bytes never throw: a value or a reason', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const m = decodeAppMessage(bytes, 50);
        const a = decodeAppAnswer(bytes, 50);
        assert.ok(m.ok || m.reason.length > 0);
        assert.ok(a.ok || a.reason.length > 0);
      }),
    );
  });

  test('bounds: an oversized body, a control character in the content type, a status that is not HTTP', () => {
    const big = decodeAppMessage(encodeAppMessage({ body: Buffer.alloc(11), contentType: '', trace: NO_TRACE }), 10);
    assert.ok(!big.ok && big.reason.includes('limit 10'));
    const ct = decodeAppMessage(encodeAppMessage({ body: Buffer.alloc(1), contentType: 'a\nb', trace: NO_TRACE }), 10);
    assert.ok(!ct.ok && ct.reason.includes('content_type'));
    const status = decodeAppAnswer(encodeAppAnswer({ status: 42, body: Buffer.alloc(0), contentType: '' }), 10);
    assert.ok(!status.ok && status.reason.includes('status'));
    const truncated = decodeAppMessage(encodeAppMessage({ body: Buffer.alloc(5), contentType: '', trace: NO_TRACE }).subarray(0, 4), 10);
    assert.ok(!truncated.ok);
  });

  test('broken framing is refused with the same reason the gRPC request guard gives', () => {
    const cases: number[][] = [
      [0x12, 0x05, 0x61],
      [0x12],
      [0x00, 0x01],
      [0x0b],
      [0x09, 1, 2, 3],
      [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
    ];
    for (const framing of cases) {
      const bytes = Uint8Array.from(framing);
      const guard = scanRepeatedField(bytes, 1);
      assert.equal(typeof guard, 'string', `${framing.join(',')} passed the guard`);
      const message = decodeAppMessage(bytes, 10);
      const answer = decodeAppAnswer(bytes, 10);
      assert.ok(!message.ok && !answer.ok, `${framing.join(',')} decoded`);
      assert.equal(message.reason, guard);
      assert.equal(answer.reason, guard);
    }
  });
});
