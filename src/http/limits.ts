// Bounds on what one client may ask of the app API. Defaults are documented in docs/http.md.
export interface HttpLimits {
  /** Longest key, in UTF-8 bytes. */
  readonly maxKeyBytes: number;
  /** Most keys in one POST /v1/route. */
  readonly maxBatchKeys: number;
  /** Largest request body (POST /v1/route), bytes. */
  readonly maxBodyBytes: number;
  /** Most open /v1/watch streams at once. */
  readonly maxWatchers: number;
  /** Bytes a watcher may leave unread in its buffers when a new event comes before it is cut off (memory bound). */
  readonly watchBufferBytes: number;
  /** How long bytes written to a watcher may wait unread before it is cut off, ms. */
  readonly watchDrainMs: number;
  /** Interval of the keep-alive comment on watch streams, ms. */
  readonly heartbeatMs: number;
  /** After the final error event, how long a stuck watcher gets to read it before its socket is destroyed, ms. */
  readonly watchCloseGraceMs: number;
  /** Most validation issues listed in one error body. */
  readonly maxIssues: number;
}

export const DEFAULT_LIMITS: Readonly<HttpLimits> = Object.freeze({
  maxKeyBytes: 1024,
  maxBatchKeys: 10_000,
  // 10,000 keys of 1,024 bytes plus JSON quoting and commas fit; heavily escaped keys may not.
  maxBodyBytes: 12 * 1024 * 1024,
  maxWatchers: 64,
  // A cap on memory per stream, not on one event: an event of any size goes to a reader that has
  // taken what came before. 64 streams at the cap hold 512 MiB; a stuck reader hits watchDrainMs first
  // unless table changes come faster than the cap allows.
  watchBufferBytes: 8 * 1024 * 1024,
  watchDrainMs: 10_000,
  heartbeatMs: 15_000,
  watchCloseGraceMs: 5_000,
  maxIssues: 20,
});

export function resolveLimits(overrides: Partial<HttpLimits> | undefined): Readonly<HttpLimits> {
  const limits = Object.freeze({ ...DEFAULT_LIMITS, ...overrides });
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`HTTP limit ${name} must be a positive integer, got ${String(value)}`);
  }
  return limits;
}
