// The agent's control plane: the gRPC server with Ping, Negotiate and Closing answered by the running
// member, every call passed through one authorizer (label, version, key proof), and the RPCs each
// feature registers (agent-rpcs.ts: keyring, force-leave, Apply, digest anti-entropy and watch, claims).
import { status as grpcStatus } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { AntiEntropy } from '../antientropy/runtime.js';
import type { MemberRecord } from '../core/types.js';
import { CallAuthorizer, checkedByAuthorizer } from '../grpc/authorizer.js';
import type { GossipEnvelope } from '../security/envelope.js';
import type { ControlPlaneClient } from '../grpc/client.js';
import { DEFAULT_LIMITS } from '../grpc/limits.js';
import { listenForControlPlane } from '../grpc/listener.js';
import { ControlPlaneError, startControlPlaneServer, type CallContext, type ControlPlaneServer, type ControlPlaneServerOptions } from '../grpc/server.js';
import { watchServer, type WatchServer } from '../grpc/watch.js';
import type { RuntimeObservers } from '../ops-metrics.js';
import type { AgentClaims } from '../ownership/agent-claims.js';
import type { ClaimStoreView } from '../ownership/types.js';
import { KeyProver } from '../security/key-proof.js';
import type { MemberRunner } from '../shell/runner.js';
import type { AgentOptions } from './agent-options.js';
import { closingRefusal } from './closing-check.js';
import { agentRpcs } from './agent-rpcs.js';
import { JoinRefusals, PeerVersions } from './peer-versions.js';
import type { AgentStats } from './stats.js';
import type { AgentView, ForceLeaveResult } from './view.js';

/** Counts (and logs) refused control-plane calls, and refuses a Closing for another member's identity. */
export class CallRejects {
  constructor(
    private readonly opts: AgentOptions,
    private readonly stats: AgentStats,
  ) {}

  /** Counted in swimring_grpc_rejections_total by "rpc:reason", and logged. */
  countGrpcReject(rpc: string, reason: string, detail?: string): void {
    this.bumpGrpcReject(rpc, reason);
    this.opts.logger.warn({ rpc, reason, ...(detail === undefined ? {} : { detail }) }, 'grpc request rejected');
  }

  /** Counted only: the authorizer's refusals (label, version, key proof) are frequent under a flood. */
  bumpGrpcReject(rpc: string, reason: string): void {
    const key = `${rpc}:${reason}`;
    this.stats.grpcRejects.set(key, (this.stats.grpcRejects.get(key) ?? 0) + 1);
  }

  /** Closing only for the caller's own name, from its known address or with the key (closing-check.ts). */
  checkClosingCaller(name: string, ctx: CallContext, known: MemberRecord | undefined): void {
    const problem = closingRefusal(name, { sender: ctx.sender, peer: ctx.peer, provedKey: ctx.keyProven === true }, known);
    if (problem === null) return;
    this.bumpGrpcReject('Closing', 'not-own-identity');
    throw new ControlPlaneError(grpcStatus.PERMISSION_DENIED, problem);
  }
}

/** What guards the control plane and the calls a member makes. */
export interface CallGuards {
  readonly rejects: CallRejects;
  /** Label, protocol version and key proof of every call, before its body and its handler. */
  readonly authorizer: CallAuthorizer;
  /** With a keyring: proves (and checks) holding the gossip key on gRPC calls. */
  readonly keyProver: KeyProver | null;
  /** The protocol version each peer is talked to in (docs/wire.md "Versions and rolling upgrades"). */
  readonly peerVersions: PeerVersions;
  /** Seeds that refused the join (no protocol version in common): never serve alone beside them. */
  readonly joinRefusals: JoinRefusals;
}

export function callGuards(opts: AgentOptions, stats: AgentStats, envelope: GossipEnvelope): CallGuards {
  const keyring = opts.gossipSecurity?.keyring?.keyring;
  const keyProver = keyring ? new KeyProver(keyring, opts.label ?? '', { legacy: opts.gossipSecurity?.keyProofV1 === true }) : null;
  const rejects = new CallRejects(opts, stats);
  const authorizer = new CallAuthorizer({
    label: opts.label ?? '',
    keyProver,
    requireKeyProof: keyProver !== null && envelope.verifyIncoming,
    count: (what, reason) => rejects.bumpGrpcReject(what, reason),
  });
  return { rejects, authorizer, keyProver, peerVersions: new PeerVersions(envelope.spoken, stats.packetsByVersion), joinRefusals: new JoinRefusals(stats.joinRefusals, opts.logger) };
}

/** What the control plane needs from the agent around it. */
export interface ControlPlaneHost {
  readonly opts: AgentOptions;
  readonly name: string;
  readonly guards: CallGuards;
  readonly client: ControlPlaneClient;
  readonly observers: RuntimeObservers;
  readonly claims: AgentClaims;
  readonly claimStore: ClaimStoreView | null;
  readonly view: AgentView;
  /** The running member; throws before it exists. */
  runner(): MemberRunner;
  forceLeave(name: string): ForceLeaveResult;
}

export interface ControlPlane {
  /** The bound port (the chosen one when grpcBind asked for port 0). */
  readonly port: number;
  readonly antiEntropy: AntiEntropy;
  readonly watch: WatchServer;
  /** Whether the gRPC server has taken the port (serve()); until then its connections wait, unread. */
  readonly serving: boolean;
  /** Loads grpc-js and serves the port, the connections that waited first. Idempotent. */
  serve(): Promise<void>;
  /** gRPC health status of the server (remembered until it serves). */
  setServing(serving: boolean): void;
  close(): Promise<void>;
}

export async function startAgentControlPlane(host: ControlPlaneHost): Promise<ControlPlane> {
  const { opts } = host;
  const { rejects, authorizer, keyProver, peerVersions } = host.guards;
  const log: Logger = opts.logger;
  const onDigestReject = (rpc: string, rejection: { reason: string; message: string }): void => {
    rejects.countGrpcReject(rpc, rejection.reason, rejection.message);
  };
  const antiEntropy = new AntiEntropy({
    mode: opts.antiEntropy ?? 'digest',
    client: host.client,
    limits: opts.grpcLimits ?? DEFAULT_LIMITS,
    rpcTimeoutMs: opts.rpcTimeoutMs,
    memberState: () => host.runner().member.core.fullState(),
    mergeMembers: (records) => host.runner().merge(records),
    // FetchEntries merges members and claims like Negotiate does: the authorizer checks it the same way.
    checkContext: checkedByAuthorizer,
    onReject: onDigestReject,
    logger: log,
  });
  if (host.claimStore) antiEntropy.attachClaims(host.claimStore);
  const watch = watchServer({
    view: host.view,
    maxQueuedEvents: opts.watchQueueEvents ?? 1024,
    maxStreams: 64,
    // Names, addresses and tags of every member: the authorizer checks it like Negotiate.
    checkContext: checkedByAuthorizer,
    onReject: onDigestReject,
    onEnd: (reason) => {
      if (reason !== 'client_closed') log.info({ reason }, 'gRPC watch stream ended');
    },
  });
  // Bound now (the member announces the address; a taken port fails the start); served by serve().
  // With TLS, grpc-js is loaded for the credentials already and binds the port itself, serving at once.
  const listener = opts.grpcTls ? null : await listenForControlPlane(opts.grpcBind);
  const serverOptions = (healthy: boolean): ControlPlaneServerOptions => ({
    bind: opts.grpcBind,
    ...(listener ? { listener } : {}),
    serving: healthy,
    ...(opts.grpcLimits ? { limits: opts.grpcLimits } : {}),
    ...(opts.grpcTls ? { credentials: opts.grpcTls.server } : {}),
    ...(opts.negotiateRate ? { negotiateRate: opts.negotiateRate } : {}),
    onCall: (rpc, code, seconds) => host.observers.grpcCall(rpc, code, seconds),
    handlers: {
      negotiate: (remote, join, ctx) => {
        // A joiner must share a version with every member, or some pair would refuse each other's packets.
        const versionRefusal = join ? peerVersions.joinRefusal(ctx.protocolRange, ctx.sender, host.name) : null;
        if (versionRefusal !== null) throw new ControlPlaneError(grpcStatus.FAILED_PRECONDITION, versionRefusal, 'unsupported-version');
        return host.runner().negotiate(remote, join);
      },
      closing: (name, incarnation, ctx) => {
        rejects.checkClosingCaller(name, ctx, host.runner().member.core.member(name));
        host.runner().closing(name, incarnation);
      },
      ping: () => {
        const runner = host.runner();
        return {
          name: host.name,
          members: runner.member.core.members().length,
          liveMembers: runner.member.core.aliveCount(),
          healthScore: runner.member.core.healthScore(),
          tableVersion: runner.table.version,
          claims: host.claimStore?.claimCount() ?? 0,
        };
      },
    },
    onReject: (rpc, reason) => {
      rejects.countGrpcReject(rpc, reason);
    },
    // Label, version and key proof: from the metadata before the body is read, then on the body.
    gate: { check: (rpc, credentials) => authorizer.check(rpc, credentials), digestBodies: keyProver !== null },
    extraMethods: agentRpcs({
      keyring: opts.gossipSecurity?.keyring ?? null,
      label: opts.label ?? '',
      forceLeave: (name) => host.forceLeave(name),
      stateOf: (name) => host.runner().member.core.member(name)?.state ?? null,
      apply: opts.grpcMethods,
      keyProof: keyProver ? () => keyProver : null,
      antiEntropy,
      watch,
      claims: host.claims,
      countReject: (rpc, reason, detail) => rejects.countGrpcReject(rpc, reason, detail),
      logger: log,
    }).methods(),
  });
  let server: ControlPlaneServer | null = listener ? null : await startControlPlaneServer(serverOptions(true));
  let starting: Promise<void> | undefined;
  let healthy = true;
  const port = server?.port ?? listener?.port ?? 0;
  return {
    port,
    antiEntropy,
    watch,
    get serving() {
      return server !== null;
    },
    serve: () =>
      (starting ??=
        server !== null
          ? Promise.resolve()
          : startControlPlaneServer(serverOptions(healthy)).then((started) => {
              server = started;
            })),
    setServing: (serving) => {
      healthy = serving;
      server?.setServing(serving);
    },
    close: async () => {
      await starting?.catch(() => undefined);
      await (server?.close() ?? listener?.close());
    },
  };
}
