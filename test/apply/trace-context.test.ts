// W3C trace headers on Apply: read from the caller's request (an invalid traceparent ignored, as the
// spec asks), carried in AppMessage fields 3-5 byte for byte, refused there when out of bounds, and
// written to the owner's app only when present.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeAppMessage, encodeAppMessage } from '../../src/apply/payload.js';
import { NO_TRACE, traceHeadersFrom, traceHeadersOut, validTraceHeader } from '../../src/apply/trace-context.js';

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('trace headers', () => {
  test('a valid traceparent with tracestate and baggage is read as sent', () => {
    const headers = { traceparent: PARENT, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7', baggage: 'userId=alice,serverNode=DF%2028' };
    assert.deepEqual(traceHeadersFrom(headers), headers);
    assert.deepEqual(traceHeadersOut(traceHeadersFrom(headers)), headers);
  });

  test('an invalid traceparent is ignored, and the tracestate with it; baggage stands alone', () => {
    for (const bad of ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01']) {
      assert.deepEqual(traceHeadersFrom({ traceparent: bad, tracestate: 'a=b', baggage: 'k=v' }), { traceparent: '', tracestate: '', baggage: 'k=v' }, bad);
    }
    assert.equal(traceHeadersFrom({ traceparent: [PARENT, PARENT] }).traceparent, '', 'two traceparents');
    assert.equal(traceHeadersFrom({ traceparent: PARENT, tracestate: ['a=1', 'b=2'] }).tracestate, 'a=1,b=2');
    assert.equal(traceHeadersFrom({ baggage: 'x'.repeat(8193) }).baggage, '', 'oversized');
    assert.equal(traceHeadersFrom({ baggage: 'k=\u00e9' }).baggage, '', 'not printable ASCII');
    assert.deepEqual(traceHeadersOut(NO_TRACE), {});
  });

  test('AppMessage carries them byte for byte; without them the encoding is what it was', () => {
    const trace = { traceparent: PARENT, tracestate: 'vendor=x', baggage: 'k=v;p=1' };
    const decoded = decodeAppMessage(encodeAppMessage({ body: Buffer.from('b'), contentType: 'text/plain', trace }), 10);
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value.trace, trace);
    const plain = encodeAppMessage({ body: Buffer.from('b'), contentType: 'text/plain', trace: NO_TRACE });
    assert.deepEqual([...plain], [0x0a, 1, 0x62, 0x12, 10, ...Buffer.from('text/plain')]);
  });

  test('printable values within bounds round-trip; a bad one in the message is refused by name', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[\x20-\x7e]{0,200}$/), (baggage) => {
        const d = decodeAppMessage(encodeAppMessage({ body: Buffer.alloc(0), contentType: '', trace: { ...NO_TRACE, baggage } }), 10);
        assert.ok(d.ok && d.value.trace.baggage === baggage);
      }),
    );
    const bad = decodeAppMessage(encodeAppMessage({ body: Buffer.alloc(0), contentType: '', trace: { ...NO_TRACE, traceparent: 'nope' } }), 10);
    assert.ok(!bad.ok && bad.reason.startsWith('traceparent:'));
    assert.equal(validTraceHeader('tracestate', 'a'.repeat(8192)), true);
    assert.equal(validTraceHeader('tracestate', 'a'.repeat(8193)), false);
  });
});
