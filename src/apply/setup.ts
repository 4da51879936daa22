// Builds Apply for `swimring agent` (src/cli/agent.ts): the service before the agent (the agent serves
// its RPC), the view late (the agent answers routes once it runs), the metrics once they exist.
import type { Logger } from 'pino';
import { ControlPlaneClient, type ControlPlaneClientOptions } from '../grpc/client.js';
import type { Metrics } from '../metrics.js';
import type { ExtraMethods } from '../grpc/service.js';
import type { PeerChecks } from '../runtime/agent-rpcs.js';
import type { MemberView, RouteAnswer } from '../runtime/view.js';
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
  /**
   * Fits Apply's channel pool to the membership (call it whenever the view changes): room for a channel
   * per live peer, and the channels of members that left or died closed.
   */
  peersChanged(members: readonly MemberView[]): void;
  /** Channels opened since start (each a new connection), the pool's bound and the channels open now. */
  channels(): { readonly opened: number; readonly limit: number; readonly open: number };
  close(): void;
}

export function setupApply(opts: ApplySetupOptions): ApplySetup {
  // Its own channels (own connections, own stream limits): Applies waiting on a slow app must not hold
  // up Negotiate or Closing. The key proof is the runtime's, known once the agent starts. Applies go to
  // the owners of keys spread over the whole cluster, so the pool follows the live peers (peersChanged):
  // a fixed pool smaller than the cluster would reopen a connection (a TLS handshake) on most Applies.
  let keyProof: (() => CallProofs | null) | null = null;
  const client = new ControlPlaneClient({
    sender: opts.name,
    channelCeiling: opts.config.maxChannels,
    ...(opts.label ? { label: opts.label } : {}),
    ...(opts.tls ? { tls: opts.tls } : {}),
    keyProof: () => keyProof?.() ?? null,
  });
  const channels = (): { opened: number; limit: number; open: number } => ({ opened: client.channelsOpened(), limit: client.channelLimit(), open: client.cachedAddresses().length });
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
      metrics.onScrape(() => {
        m.syncOwner(service.deliverer);
        m.syncChannels(channels());
      });
      return m;
    },
    peersChanged(members) {
      const live = new Set<string>();
      for (const m of members) {
        if (!m.self && (m.state === 'alive' || m.state === 'suspect') && m.addresses.grpc !== '') live.add(m.addresses.grpc);
      }
      client.fitPeers(live.size);
      client.retainOnly(live);
    },
    channels,
    close: () => client.close(),
  };
}
