// The caller's side of Apply: find the key's owner, deliver locally or send the Apply RPC, and retry
// within the overall budget as ./retry.ts decides. Every outcome, success or not, is data.
import type { RemoteApply } from './grpc-apply.js';
import type { OwnerView } from './deliverer.js';
import { nextStep, type RetryPolicy } from './retry.js';
import { applyError, failed, type ApplyCall, type ApplyError, type ApplyOutcome, type DeliveryResult } from './types.js';

export interface ForwarderOptions {
  readonly view: OwnerView;
  /** Delivery on this member (its own app). */
  readonly local: (call: ApplyCall, budgetMs: number) => Promise<DeliveryResult>;
  readonly remote: RemoteApply;
  readonly policy: RetryPolicy;
  /** Overall budget of one Apply, retries included. */
  readonly timeoutMs: number;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called before each retry with the error that caused it. */
  readonly onRetry?: (error: ApplyError) => void;
}

/** Wait suggested when nobody owns shards or the owner's view keeps moving. */
const NO_OWNER_RETRY_MS = 1000;

export class Forwarder {
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: ForwarderOptions) {
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async apply(call: ApplyCall): Promise<ApplyOutcome> {
    const { view } = this.opts;
    const deadline = this.now() + this.opts.timeoutMs;
    let attempts = 0;
    let mayHaveReached: string | null = null;
    /** Set when following an owner hint; otherwise the view's owner is asked for each attempt. */
    let hinted: { name: string; addr: string } | null = null;
    for (;;) {
      const route = view.route(call.key);
      const target: { name: string; addr: string } | null = hinted ?? (route.owner ? { name: route.owner.name, addr: route.owner.addresses.grpc } : null);
      if (target === null) {
        return this.give(applyError('no_owner', 'no member owns shards (is every app unready?)', { retriable: true, retryAfterMs: NO_OWNER_RETRY_MS, tableVersion: route.version }), attempts, mayHaveReached);
      }
      const remaining = deadline - this.now();
      if (remaining <= 0) return this.give(this.timedOut(route.version, target.name), attempts, mayHaveReached);
      attempts++;
      const local = target.name === view.name;
      let result: DeliveryResult;
      if (local) {
        result = await this.opts.local(call, remaining);
      } else if (target.addr === '') {
        result = failed(applyError('owner_unavailable', `no gRPC address known for ${target.name}`, { retriable: true, retryAfterMs: NO_OWNER_RETRY_MS, ownerHint: target.name }));
      } else {
        const attempt = await this.opts.remote(target.name, target.addr, call, route.version, remaining);
        if (attempt.mayHaveReached) mayHaveReached = target.name;
        result = attempt.result;
      }
      if (result.ok) return { result, path: local ? 'local' : 'forwarded', attempts };

      const error = result.error;
      const current = view.route(call.key).owner;
      const decision = nextStep(this.opts.policy, {
        attempts,
        error,
        mayHaveReached,
        currentOwner: current?.name ?? null,
        remainingMs: deadline - this.now(),
        random: this.random,
      });
      if (decision.kind === 'owner-changed') {
        return this.give(
          applyError('owner_changed', `the request may have reached ${decision.reached}, and the owner is now ${decision.owner}; not retried there, as that could deliver it twice`, {
            retriable: true,
            ownerHint: decision.owner,
            ownerAddrHint: current?.name === decision.owner ? current.addresses.grpc : error.ownerAddrHint,
            tableVersion: route.version,
            mayHaveBeenDelivered: true,
          }),
          attempts,
          mayHaveReached,
        );
      }
      if (decision.kind === 'stop') {
        const last = decision.why === 'no-time' && (error.code === 'owner_unavailable' || error.code === 'timeout') ? this.timedOut(route.version, target.name) : error;
        return this.give(last, attempts, mayHaveReached, current ? { name: current.name, addr: current.addresses.grpc } : null);
      }
      this.opts.onRetry?.(error);
      await this.sleep(decision.delayMs);
      hinted =
        decision.target === error.ownerHint && error.code === 'not_owner'
          ? { name: decision.target, addr: decision.target === view.name ? '' : error.ownerAddrHint }
          : null;
    }
  }

  private timedOut(tableVersion: string, owner: string): ApplyError {
    return applyError('timeout', `no answer within ${this.opts.timeoutMs} ms (--apply-timeout-ms)`, { retriable: true, ownerHint: owner, tableVersion });
  }

  /**
   * The final error, with what the app needs to decide: whether some attempt may have reached an app, and
   * who owns the key now (this member's view at the end, unless a member that refused named another).
   */
  private give(error: ApplyError, attempts: number, mayHaveReached: string | null, current: { name: string; addr: string } | null = null): ApplyOutcome {
    let final = error;
    if (current !== null && error.code !== 'not_owner') final = { ...final, ownerHint: current.name, ownerAddrHint: current.addr };
    if (mayHaveReached !== null) final = { ...final, mayHaveBeenDelivered: true };
    return { result: failed(final), path: 'none', attempts };
  }
}
