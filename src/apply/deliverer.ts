// The owner's side of Apply, for requests from its own app and from other members alike: answer a
// request id it has seen from its record; otherwise check that it owns the key in its own view, hand
// the request to its app, and remember the answer.
import type { RouteAnswer } from '../runtime/view.js';
import { callApp, type AppCallResult } from './app-client.js';
import { DedupCache } from './dedup.js';
import { applyError, failed, type ApplyCall, type DeliveryResult } from './types.js';

/** What the deliverer needs from the running member. */
export interface OwnerView {
  readonly name: string;
  route(key: string): RouteAnswer;
}

export interface DelivererOptions {
  readonly view: OwnerView;
  /** --app-handler-url; null when this member's app takes no Applies. */
  readonly handlerUrl: URL | null;
  /** Longest wait for the app (also bounded by the caller's deadline). */
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  readonly dedup: { readonly maxEntries: number; readonly maxBytes: number; readonly ttlMs: number; readonly maxInFlight: number };
  readonly now?: () => number;
  /** The app call; injectable for tests. */
  readonly callApp?: typeof callApp;
}

export interface DeliveryCounters {
  /** Requests handed to the app, by how that went. */
  readonly delivered: Map<'answered' | 'not_delivered' | 'unknown', number>;
  /** Retries answered from the record instead of reaching the app again. */
  duplicatesSuppressed: number;
}

/** Suggested wait before retrying an app that refused the connection (restarting, say). */
const APP_UNREACHABLE_RETRY_MS = 500;
const BUSY_RETRY_MS = 100;

export class Deliverer {
  private readonly records: DedupCache<DeliveryResult>;
  private readonly call: typeof callApp;
  readonly counters: DeliveryCounters = { delivered: new Map(), duplicatesSuppressed: 0 };

  constructor(private readonly opts: DelivererOptions) {
    this.records = new DedupCache<DeliveryResult>({ ...opts.dedup, now: opts.now ?? Date.now }, recordBytes);
    this.call = opts.callApp ?? callApp;
  }

  /** Ids remembered, bytes held, deliveries under way, ids forgotten early (metrics). */
  recordStats(): { size: number; bytes: number; pending: number; evictedEarly: number } {
    return { size: this.records.size, bytes: this.records.bytes, pending: this.records.pending, evictedEarly: this.records.evictedEarly };
  }

  /** `origin`: the member whose app sent it ("" for this member's own app). `budgetMs`: time left. */
  async deliver(call: ApplyCall, origin: string, budgetMs: number): Promise<DeliveryResult> {
    // Request ids hold no spaces, so this joins the two without ambiguity.
    const begun = this.records.begin(`${call.requestId} ${call.key}`);
    switch (begun.kind) {
      case 'done':
        return this.duplicate(begun.value);
      case 'pending':
        return this.duplicate(await begun.wait);
      case 'busy':
        return failed(applyError('busy', `${this.opts.view.name} has too many Applies in flight`, { retriable: true, retryAfterMs: BUSY_RETRY_MS }));
      case 'first': {
        const result = await this.firstDelivery(call, origin, budgetMs);
        // Remember answers and every case where the app may have acted; forget what never reached it.
        const remember = result.ok || result.error.mayHaveBeenDelivered;
        begun.settle(result, remember);
        return result;
      }
    }
  }

  private async firstDelivery(call: ApplyCall, origin: string, budgetMs: number): Promise<DeliveryResult> {
    const self = this.opts.view.name;
    const route = this.opts.view.route(call.key);
    const owner = route.owner;
    if (owner === null) {
      return failed(applyError('no_owner', 'no member owns shards', { retriable: true, retryAfterMs: APP_UNREACHABLE_RETRY_MS, tableVersion: route.version }));
    }
    if (owner.name !== self) {
      return failed(
        applyError('not_owner', `${self} does not own this key; ${owner.name} does in its view`, {
          retriable: true,
          ownerHint: owner.name,
          ownerAddrHint: owner.addresses.grpc,
          tableVersion: route.version,
        }),
      );
    }
    const url = this.opts.handlerUrl;
    if (url === null) return failed(applyError('no_app_handler', `${self} owns this key but has no --app-handler-url`, { tableVersion: route.version }));
    const timeoutMs = Math.max(1, Math.min(this.opts.timeoutMs, Math.floor(budgetMs)));
    // A claimed key carries its fencing token, so the app can refuse a write once a newer owner wrote.
    const fence = route.claimed === true ? route.fence : undefined;
    const delivery = { key: call.key, requestId: call.requestId, origin, message: call.message, timeoutMs, ...(fence === undefined ? {} : { fence }) };
    const outcome: AppCallResult = await this.call(url, delivery, this.opts.maxBodyBytes);
    switch (outcome.kind) {
      case 'answered':
        this.count('answered');
        return { ok: true, answer: outcome.answer, owner: self, duplicate: false };
      case 'not-delivered':
        this.count('not_delivered');
        return failed(
          applyError('app_unreachable', `${self} could not reach its app: ${outcome.reason}`, {
            retriable: true,
            retryAfterMs: APP_UNREACHABLE_RETRY_MS,
            ownerHint: self,
            tableVersion: route.version,
          }),
        );
      case 'unknown':
        this.count('unknown');
        return failed(
          applyError(outcome.code === 'app_answer_too_large' ? 'app_answer_too_large' : 'app_timeout', `${self}: ${outcome.reason}`, {
            mayHaveBeenDelivered: true,
            ownerHint: self,
            tableVersion: route.version,
          }),
        );
    }
  }

  /** A request id met again: from the record, or from a first delivery that was under way. */
  private duplicate(first: DeliveryResult): DeliveryResult {
    // The first never reached the app (not the owner, app refused): nothing was suppressed.
    if (!first.ok && !first.error.mayHaveBeenDelivered) return first;
    this.counters.duplicatesSuppressed++;
    if (first.ok) return { ...first, duplicate: true };
    return failed(
      applyError('outcome_unknown', `this request id was delivered before and its outcome is unknown (${first.error.code}); it is not delivered again`, {
        mayHaveBeenDelivered: true,
        ownerHint: first.error.ownerHint,
        tableVersion: first.error.tableVersion,
      }),
    );
  }

  private count(kind: 'answered' | 'not_delivered' | 'unknown'): void {
    this.counters.delivered.set(kind, (this.counters.delivered.get(kind) ?? 0) + 1);
  }
}

/** Stored answers dominate an entry's memory; the rest is a small constant. */
function recordBytes(r: DeliveryResult): number {
  return 256 + (r.ok ? r.answer.body.length + r.answer.contentType.length : r.error.message.length);
}
