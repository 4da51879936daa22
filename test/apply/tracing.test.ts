// Without an OpenTelemetry SDK in the process (this test process registers none) tracing is off: the
// route path skips its span, and traced() runs its work with a span that records nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contextFromTrace, SpanKind, traced, tracingActive } from '../../src/tracing.js';

test('no SDK registered: tracing is inactive and spans record nothing, work runs as usual', async () => {
  assert.equal(tracingActive(), false);
  const parent = contextFromTrace({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: '', baggage: '' });
  const result = await traced('swimring.apply', SpanKind.SERVER, parent, {}, async (span) => {
    assert.equal(span.isRecording(), false);
    return 42;
  });
  assert.equal(result, 42);
  await assert.rejects(traced('swimring.apply', SpanKind.SERVER, parent, {}, () => Promise.reject(new Error('boom'))), /boom/);
});
