// One member's Apply: the owner side (Deliverer, served over gRPC) and the caller side (Forwarder, behind
// POST /v1/apply/:key), built from the configuration and the running member's view.
import type { ControlPlaneClient } from '../grpc/client.js';
import type { CallContext } from '../grpc/convert.js';
import type { RejectReason } from '../grpc/errors.js';
import type { ExtraMethods } from '../grpc/service.js';
import { Deliverer, type OwnerView } from './deliverer.js';
import { Forwarder } from './forwarder.js';
import { applyServerMethod, remoteApply, type ApplyWireLimits } from './grpc-apply.js';
import { DEFAULT_RETRY } from './retry.js';
import type { ApplyCall, ApplyError, ApplyOutcome } from './types.js';

/** The --apply-* options and --app-handler-url, resolved. */
export interface ApplyConfig {
  /** Where this member's app takes Applies; null: it takes none (this member still forwards). */
  readonly handlerUrl: URL | null;
  /** Overall budget of one Apply at the caller (retries included), and the longest wait for the app. */
  readonly timeoutMs: number;
  /** Largest request body and largest app answer relayed, bytes. */
  readonly maxBodyBytes: number;
  /** Attempts per Apply, the first included. */
  readonly maxAttempts: number;
  /** How long a delivered request id is remembered. */
  readonly dedupTtlMs: number;
  /** Most request ids remembered at once. */
  readonly dedupEntries: number;
  /** Most bytes of stored answers remembered at once. */
  readonly dedupMaxBytes: number;
}

/** Most Applies one member hands to its app at once; more are answered busy (retriable). */
export const MAX_IN_FLIGHT = 1024;

/** What the HTTP route needs. */
export interface Applier {
  readonly maxBodyBytes: number;
  apply(call: ApplyCall): Promise<ApplyOutcome>;
}

export interface ApplyServiceOptions {
  readonly config: ApplyConfig;
  readonly view: OwnerView;
  /** Channels for the Apply RPC (its own client keeps Apply traffic off the membership channels). */
  readonly client: ControlPlaneClient;
  /** This member's cluster label, "" for none. */
  readonly label: string;
  readonly maxKeyBytes: number;
  readonly onRetry?: (error: ApplyError) => void;
  readonly onReject?: (rpc: string, reason: RejectReason, detail: string) => void;
}

export class ApplyService implements Applier {
  readonly deliverer: Deliverer;
  readonly maxBodyBytes: number;
  private readonly forwarder: Forwarder;
  private readonly limits: ApplyWireLimits;

  constructor(private readonly opts: ApplyServiceOptions) {
    const c = opts.config;
    this.maxBodyBytes = c.maxBodyBytes;
    this.limits = { maxBodyBytes: c.maxBodyBytes, maxKeyBytes: opts.maxKeyBytes };
    this.deliverer = new Deliverer({
      view: opts.view,
      handlerUrl: c.handlerUrl,
      timeoutMs: c.timeoutMs,
      maxBodyBytes: c.maxBodyBytes,
      dedup: { maxEntries: c.dedupEntries, maxBytes: c.dedupMaxBytes, ttlMs: c.dedupTtlMs, maxInFlight: MAX_IN_FLIGHT },
    });
    this.forwarder = new Forwarder({
      view: opts.view,
      local: (call, budgetMs) => this.deliverer.deliver(call, '', budgetMs),
      remote: remoteApply(opts.client, this.limits),
      policy: { ...DEFAULT_RETRY, maxAttempts: c.maxAttempts },
      timeoutMs: c.timeoutMs,
      ...(opts.onRetry ? { onRetry: opts.onRetry } : {}),
    });
  }

  apply(call: ApplyCall): Promise<ApplyOutcome> {
    return this.forwarder.apply(call);
  }

  /** For startControlPlaneServer's extraMethods; `checkContext` refuses callers the runtime would. */
  grpcMethods(checkContext?: (ctx: CallContext) => void): ExtraMethods {
    return {
      Apply: applyServerMethod({
        ...(checkContext ? { checkContext } : {}),
        deliverer: this.deliverer,
        label: this.opts.label,
        limits: this.limits,
        timeoutMs: this.opts.config.timeoutMs,
        ...(this.opts.onReject ? { onReject: this.opts.onReject } : {}),
      }),
    };
  }
}
