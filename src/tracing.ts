// OpenTelemetry spans of the sidecar, through @opentelemetry/api only: with no SDK registered in this
// process the API hands out no-op tracers, so nothing is recorded and nothing is loaded for it (the API
// is already loaded by prom-client). To record them, register an SDK (a tracer provider and the W3C
// propagator) before the agent starts, e.g. `node --import ./otel-setup.mjs dist/main.js agent`.
import { context, propagation, ProxyTracerProvider, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { traceHeadersOut, type TraceHeaders } from './apply/trace-context.js';

export { SpanKind };

const TRACER_NAME = 'swimring';
/** What the API answers while no SDK is registered (a fresh proxy's delegate is the API's no-op provider). */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

let active: boolean | undefined;

/**
 * Whether an SDK is registered, decided on first use and kept: the route hot path reads one boolean.
 * An SDK must therefore be registered before the agent answers its first request.
 */
export function tracingActive(): boolean {
  if (active === undefined) {
    const provider = trace.getTracerProvider();
    active = (provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider) !== NOOP_PROVIDER;
  }
  return active;
}

/** The caller's context from W3C headers, through the registered propagator (none: no parent). */
export function contextFromHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): Context {
  return propagation.extract(context.active(), headers);
}

export function contextFromTrace(headers: TraceHeaders): Context {
  return contextFromHeaders(traceHeadersOut(headers));
}

/** Starts a span under `parent` (at `startTime`, epoch ms, when given); the caller ends it. */
export function startSpan(name: string, kind: SpanKind, parent: Context, attributes: Attributes = {}, startTime?: number): Span {
  return trace.getTracer(TRACER_NAME).startSpan(name, { kind, attributes, ...(startTime === undefined ? {} : { startTime }) }, parent);
}

/** Runs `work` in a span under `parent` (passed to it as a context, for child spans); ends it however it ends. */
export async function traced<T>(name: string, kind: SpanKind, parent: Context, attributes: Attributes, work: (span: Span, inside: Context) => Promise<T>): Promise<T> {
  const span = startSpan(name, kind, parent, attributes);
  const inside = trace.setSpan(parent, span);
  try {
    return await context.with(inside, () => work(span, inside));
  } catch (err) {
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    span.end();
  }
}

export { SpanStatusCode };
