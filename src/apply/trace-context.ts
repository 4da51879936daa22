// W3C Trace Context (traceparent, tracestate) and W3C Baggage headers that an Apply carries from the
// caller's HTTP request to the owner's app, byte for byte, across the gRPC hop (AppMessage fields 3-5).
// Each is bounded and printable ASCII; an invalid traceparent is ignored, as the W3C spec says a
// receiver must, and so are oversized or unprintable tracestate and baggage values.

/** The trace headers an Apply carries; absent ones are "". */
export interface TraceHeaders {
  readonly traceparent: string;
  readonly tracestate: string;
  readonly baggage: string;
}

export const NO_TRACE: TraceHeaders = Object.freeze({ traceparent: '', tracestate: '', baggage: '' });

export const TRACE_HEADER_NAMES = ['traceparent', 'tracestate', 'baggage'] as const;

/** Longest accepted value of each: W3C's limits (tracestate 32 members of 256 bytes, baggage 8192 bytes). */
export const MAX_TRACE_HEADER_BYTES: Readonly<Record<keyof TraceHeaders, number>> = Object.freeze({
  traceparent: 55,
  tracestate: 8192,
  baggage: 8192,
});

/** version-traceid-parentid-flags; the all-zero ids and version ff are invalid. */
const TRACEPARENT = /^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
const PRINTABLE = /^[\x20-\x7e]*$/;

/** Whether a value may travel as that header: "" or a valid, bounded value. */
export function validTraceHeader(name: keyof TraceHeaders, value: string): boolean {
  if (value === '') return true;
  if (value.length > MAX_TRACE_HEADER_BYTES[name] || !PRINTABLE.test(value)) return false;
  return name !== 'traceparent' || TRACEPARENT.test(value);
}

/** The trace headers of an incoming HTTP request (node's lower-case header object). */
export function traceHeadersFrom(headers: Readonly<Record<string, string | string[] | undefined>>): TraceHeaders {
  const read = (name: keyof TraceHeaders): string => {
    const raw = headers[name];
    // Repeated tracestate and baggage headers combine with commas (RFC 9110); two traceparents are invalid.
    const value = Array.isArray(raw) ? (name === 'traceparent' ? '' : raw.join(',')) : (raw ?? '');
    return validTraceHeader(name, value) ? value : '';
  };
  const traceparent = read('traceparent');
  // tracestate means nothing without a traceparent (W3C Trace Context 3.3.1).
  return { traceparent, tracestate: traceparent === '' ? '' : read('tracestate'), baggage: read('baggage') };
}

/** The headers to send the app: only those present. */
export function traceHeadersOut(trace: TraceHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of TRACE_HEADER_NAMES) if (trace[name] !== '') out[name] = trace[name];
  return out;
}
