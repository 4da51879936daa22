// Preloaded into a sidecar (NODE_OPTIONS=--import <this file>) by test/integration/trace.test.ts: an
// OpenTelemetry SDK as an app's operator would register one, writing every ended span as a JSON line to
// $SWIMRING_TEST_SPANS_FILE.
import { appendFileSync } from 'node:fs';
import { propagation, trace } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

const file = process.env.SWIMRING_TEST_SPANS_FILE;
const exporter = {
  export(spans, done) {
    for (const s of spans) {
      const parent = s.parentSpanContext?.spanId ?? s.parentSpanId ?? null;
      appendFileSync(file, `${JSON.stringify({ name: s.name, kind: s.kind, traceId: s.spanContext().traceId, spanId: s.spanContext().spanId, parentSpanId: parent, attributes: s.attributes })}\n`);
    }
    done({ code: 0 });
  },
  shutdown: () => Promise.resolve(),
};
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
