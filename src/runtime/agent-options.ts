// What `new Agent(...)` takes (src/runtime/agent.ts), and what RPCs implemented outside the runtime get.
import type { Logger } from 'pino';
import { wireMeasure } from '../codec/index.js';
import type { MemberConfig } from '../member/member.js';
import type { ServerCredentials } from '@grpc/grpc-js';
import type { SwimConfig } from '../core/config.js';
import type { ExtraMethods } from '../grpc/server.js';
import { checkAddress } from '../grpc/convert.js';
import type { PeerChecks } from './agent-rpcs.js';
import type { NegotiateRateLimiter } from '../grpc/rate-limit.js';
import type { ClientTls } from '../grpc/tls.js';
import type { ControlPlaneLimits } from '../grpc/limits.js';
import type { AntiEntropyMode } from '../antientropy/runtime.js';
import type { ClaimConfig } from '../ownership/config.js';
import type { RuntimeObservers } from '../ops-metrics.js';
import type { LocalKeyring } from '../security/key-ops.js';
import type { UdpSocketFactory } from '../transport/udp.js';
import type { AppHealthTarget } from './app-health.js';
import { startRandomBytes } from './start-random.js';

export interface AgentOptions {
  readonly name: string;
  readonly gossipBind: string;
  readonly grpcBind: string;
  /** Host peers use to reach this member; the bound ports are appended. */
  readonly advertiseHost: string;
  readonly appAddr: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly seeds: readonly string[];
  /** With seeds: form a new cluster alone when none answers (the first pod of a headless Service). */
  readonly bootstrap: boolean;
  readonly swim: SwimConfig;
  readonly shards: number;
  readonly replicas: number;
  /** Readiness needs the member view unchanged this long. */
  readonly settleMs: number;
  /** Bound on the wait for leave news to spread before the process may exit. */
  readonly leaveTimeoutMs: number;
  readonly joinRetryInitialMs: number;
  readonly joinRetryMaxMs: number;
  /** With bootstrap: how long to try the seeds before forming a cluster alone. */
  readonly joinTimeoutMs: number;
  readonly rpcTimeoutMs: number;
  readonly dnsServers?: readonly string[];
  /** The co-located app's readiness check; null: the app is taken as ready. */
  readonly appHealth: AppHealthTarget | null;
  readonly appCheck: { readonly intervalMs: number; readonly timeoutMs: number; readonly failureThreshold: number; readonly successThreshold: number };
  /** On leave: time between giving up shards (serving=false) and announcing the leave, for in-flight work. */
  readonly drainMs: number;
  /** Cluster label: control-plane calls carrying another label are refused. */
  readonly label: string | null;
  /** Gossip encryption (src/security); absent: no keyring, plaintext. */
  readonly gossipSecurity?: {
    readonly keyring: LocalKeyring | null;
    readonly verifyIncoming: boolean;
    readonly verifyOutgoing: boolean;
    /** Also send and accept v1 gRPC key proofs (a rolling upgrade; docs/security.md). Default false. */
    readonly keyProofV1?: boolean;
  };
  readonly logger: Logger;
  /** --- apply: RPCs implemented outside the runtime (Apply: src/apply/service.ts). */
  readonly grpcMethods?: (peers: PeerChecks) => ExtraMethods;
  // --- sec-edge: control-plane TLS (src/grpc/tls.ts) and the Negotiate rate limit
  readonly grpcTls?: { readonly server: ServerCredentials; readonly client: ClientTls };
  readonly negotiateRate?: NegotiateRateLimiter;
  // --- digest-watch: periodic anti-entropy mode (default digest), gRPC watch queue bound
  readonly antiEntropy?: AntiEntropyMode;
  // --- claims: ownership claims (src/ownership); default DEFAULT_CLAIM_CONFIG
  readonly claims?: ClaimConfig;
  readonly watchQueueEvents?: number;
  /** Measurements taken as events happen (probe round trips, table builds, gRPC calls); default none. */
  readonly observers?: RuntimeObservers;
  /** /livez fails once the gossip socket has not been receiving this long; default RECEIVE_DOWN_LIMIT_MS. */
  readonly receiveDownLimitMs?: number;
  /** Makes the gossip socket (tests inject socket errors through it). */
  readonly udpSocketFactory?: UdpSocketFactory;
  /** Control-plane limits (limitsForClusterSize); default DEFAULT_LIMITS. */
  readonly grpcLimits?: ControlPlaneLimits;
}

/**
 * A gossip socket that has failed is reopened within about a second (DEFAULT_REOPEN_BACKOFF); one that
 * still cannot receive after this long will not recover by itself, and a restart is the way out.
 */
export const RECEIVE_DOWN_LIMIT_MS = 5000;

/** The member's settings from the agent's options, the bound addresses, and a new life (id, incarnation, random seed). */
export function memberConfigOf(
  opts: AgentOptions,
  bound: { readonly gossipAddr: string; readonly grpcAddr: string; readonly envelopeOverhead: number; readonly antiEntropy: AntiEntropyMode },
): MemberConfig {
  return {
    name: opts.name,
    appAddr: opts.appAddr,
    tags: opts.tags,
    swim: opts.swim,
    seeds: opts.seeds,
    bootstrap: opts.bootstrap,
    joinRetryInitialMs: opts.joinRetryInitialMs,
    joinRetryMaxMs: opts.joinRetryMaxMs,
    joinTimeoutMs: opts.joinTimeoutMs,
    settleMs: opts.settleMs,
    drainMs: opts.drainMs,
    lifeId: startRandomBytes(8).toString('hex'),
    incarnation: Date.now(),
    gossipAddr: bound.gossipAddr,
    grpcAddr: bound.grpcAddr,
    randomSeed: startRandomBytes(4).readUInt32LE(0),
    // The envelope (label, nonce, tag) rides on every packet: the core fills only what is left.
    measure: { ...wireMeasure, packetOverhead: wireMeasure.packetOverhead + bound.envelopeOverhead },
    // Only addresses Negotiate can carry, or one gossiped record would make every join reply be refused.
    acceptsAddress: (addr) => typeof checkAddress(addr, 'address') === 'string',
    appChecked: opts.appHealth !== null,
    antiEntropy: bound.antiEntropy,
  };
}
