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
import type { Context } from '@opentelemetry/api';
import { contextFromTrace, SpanKind, traced } from '../tracing.js';

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
  /** Most gRPC channels (connections) to owners, however large the cluster (setup.ts sizes the pool). */
  readonly maxChannels: number;
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
    const remote = remoteApply(opts.client, this.limits);
    this.forwarder = new Forwarder({
      view: opts.view,
      local: (call, budgetMs) => this.tracedDelivery.deliver(call, '', budgetMs),
      remote: (owner, addr, call, tableVersion, timeoutMs) =>
        traced('swimring.forward', SpanKind.CLIENT, this.spanParents.get(call) ?? contextFromTrace(call.message.trace), { 'swimring.owner': owner, 'server.address': addr }, async (span) => {
          const attempt = await remote(owner, addr, call, tableVersion, timeoutMs);
          if (!attempt.result.ok) span.setAttribute('swimring.error', attempt.result.error.code);
          return attempt;
        }),
      policy: { ...DEFAULT_RETRY, maxAttempts: c.maxAttempts },
      timeoutMs: c.timeoutMs,
      ...(opts.onRetry ? { onRetry: opts.onRetry } : {}),
    });
  }

  apply(call: ApplyCall): Promise<ApplyOutcome> {
    return traced('swimring.apply', SpanKind.SERVER, contextFromTrace(call.message.trace), { 'swimring.request_id': call.requestId }, async (span, inside) => {
      this.spanParents.set(call, inside);
      const outcome = await this.forwarder.apply(call);
      span.setAttributes({ 'swimring.path': outcome.path, 'swimring.attempts': outcome.attempts });
      if (outcome.result.ok) span.setAttribute('swimring.owner', outcome.result.owner);
      else span.setAttribute('swimring.error', outcome.result.error.code);
      return outcome;
    });
  }

  /** Deliveries to this member's app, from itself or over gRPC, each in a span under the caller's trace. */
  private readonly tracedDelivery: Pick<Deliverer, 'deliver'> = {
    deliver: (call, origin, budgetMs) =>
      traced('swimring.deliver', SpanKind.SERVER, contextFromTrace(call.message.trace), { 'swimring.request_id': call.requestId, 'swimring.origin': origin }, async (span) => {
        const result = await this.deliverer.deliver(call, origin, budgetMs);
        if (!result.ok) span.setAttribute('swimring.error', result.error.code);
        else if (result.duplicate) span.setAttribute('swimring.duplicate', true);
        return result;
      }),
  };

  /** Each Apply's own span context, so its forward attempts are its children (no context manager needed). */
  private readonly spanParents = new WeakMap<ApplyCall, Context>();

  /** For startControlPlaneServer's extraMethods; `checkContext` refuses callers the runtime would. */
  grpcMethods(checkContext?: (ctx: CallContext) => void): ExtraMethods {
    return {
      Apply: applyServerMethod({
        ...(checkContext ? { checkContext } : {}),
        deliverer: this.tracedDelivery,
        label: this.opts.label,
        limits: this.limits,
        timeoutMs: this.opts.config.timeoutMs,
        ...(this.opts.onReject ? { onReject: this.opts.onReject } : {}),
      }),
    };
  }
}
