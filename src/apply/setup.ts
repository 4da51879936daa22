// Builds Apply for `swimring agent` (src/cli/agent.ts): the service before the agent (the agent serves
// its RPC), the view late (the agent answers routes once it runs), the metrics once they exist.
import type { Logger } from 'pino';
import { ControlPlaneClient, type ControlPlaneClientOptions } from '../grpc/client.js';
import type { Metrics } from '../metrics.js';
import type { ExtraMethods } from '../grpc/service.js';
import type { PeerChecks } from '../runtime/agent-rpcs.js';
import type { RouteAnswer } from '../runtime/view.js';
import type { CallProofs } from '../security/key-proof.js';
import { createApplyMetrics, type ApplyMetrics } from './metrics.js';
import { ApplyService, type ApplyConfig } from './service.js';

export interface ApplySetupOptions {
  readonly name: string;
  readonly label: string | null;
  readonly config: ApplyConfig;
  /** The running agent's route(); called only once the agent has started. */
  readonly route: (key: string) => RouteAnswer;
  /** Same limit as the HTTP API's keys. */
  readonly maxKeyBytes: number;
  /** Transport security of the control plane, as the agent's own client has it. */
  readonly tls?: ControlPlaneClientOptions['tls'];
  readonly logger: Logger;
}

export interface ApplySetup {
  readonly service: ApplyService;
  /** For AgentOptions.grpcMethods: serves Apply with the runtime's caller checks, and sends its key proof. */
  grpcMethods(peers: PeerChecks): ExtraMethods;
  /** Registers the Apply series on the agent's registry and keeps the owner's counters current. */
  attachMetrics(metrics: Metrics): ApplyMetrics;
  close(): void;
}

export function setupApply(opts: ApplySetupOptions): ApplySetup {
  // Its own channels (own connections, own stream limits): Applies waiting on a slow app must not hold
  // up Negotiate or Closing. The key proof is the runtime's, known once the agent starts.
  let keyProof: (() => CallProofs | null) | null = null;
  const client = new ControlPlaneClient({
    sender: opts.name,
    ...(opts.label ? { label: opts.label } : {}),
    ...(opts.tls ? { tls: opts.tls } : {}),
    keyProof: () => keyProof?.() ?? null,
  });
  let applyMetrics: ApplyMetrics | null = null;
  const service = new ApplyService({
    config: opts.config,
    view: { name: opts.name, route: opts.route },
    client,
    label: opts.label ?? '',
    maxKeyBytes: opts.maxKeyBytes,
    onRetry: (error) => {
      applyMetrics?.retries.inc({ reason: error.code });
      opts.logger.debug({ code: error.code, owner: error.ownerHint }, 'apply retried');
    },
    onReject: (rpc, reason, detail) => opts.logger.warn({ rpc, reason, detail }, 'grpc request rejected'),
  });
  if (opts.config.handlerUrl === null) opts.logger.info('no --app-handler-url: Applies for keys this member owns are answered no_app_handler');
  return {
    service,
    grpcMethods(peers) {
      keyProof = peers.keyProof;
      return service.grpcMethods((ctx) => peers.checkContext(ctx));
    },
    attachMetrics(metrics) {
      applyMetrics ??= createApplyMetrics(metrics);
      const m = applyMetrics;
      metrics.onScrape(() => m.syncOwner(service.deliverer));
      return m;
    },
    close: () => client.close(),
  };
}
