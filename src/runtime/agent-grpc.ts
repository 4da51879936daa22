// The agent's control plane, moved out of the shell as it was: the label and key-proof checks every
// RPC passes, and the assembly of the gRPC server with the RPCs of each feature (membership, keyring,
// force-leave, Apply, digest anti-entropy and watch, claims).
import { status as grpcStatus } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { AntiEntropy } from '../antientropy/runtime.js';
import type { MemberRecord } from '../core/types.js';
import type { CallCredentials } from '../grpc/auth-gate.js';
import type { ControlPlaneClient } from '../grpc/client.js';
import { reject, type Rejection } from '../grpc/errors.js';
import { DEFAULT_LIMITS } from '../grpc/limits.js';
import { ControlPlaneError, startControlPlaneServer, type CallContext } from '../grpc/server.js';
import { watchServer, type WatchServer } from '../grpc/watch.js';
import type { RuntimeObservers } from '../ops-metrics.js';
import type { AgentClaims } from '../ownership/agent-claims.js';
import type { ClaimStoreView } from '../ownership/types.js';
import type { GossipEnvelope } from '../security/envelope.js';
import { keyringServerMethods } from '../security/grpc-keyring.js';
import type { KeyProver } from '../security/key-proof.js';
import type { MemberRunner } from '../shell/runner.js';
import type { AgentOptions } from './agent-options.js';
import { closingRefusal } from './closing-check.js';
import { forceLeaveServerMethods } from './force-leave.js';
import type { AgentStats } from './stats.js';
import type { AgentView, ForceLeaveResult } from './view.js';

/** The label and key-proof checks of every control-plane call, and the counting of refusals. */
export class CallChecks {
  constructor(
    private readonly opts: AgentOptions,
    private readonly stats: AgentStats,
    private readonly envelope: GossipEnvelope,
    readonly keyProver: KeyProver | null,
  ) {}

  /** Label and key proof, for RPCs that merge or reveal members. */
  checkContext(ctx: CallContext): void {
    this.checkLabel(ctx.label);
    this.checkKeyProof(ctx.keyProof);
  }

  /** Two clusters must never merge by accident (pod IPs are reused): a foreign label is refused. */
  checkLabel(label: string): void {
    const mine = this.opts.label ?? '';
    if (label !== mine) {
      this.bumpGrpcReject('label', 'mismatch');
      throw new ControlPlaneError(grpcStatus.PERMISSION_DENIED, `cluster label "${label}" does not match this member's label "${mine}"`);
    }
  }

  /** Counted in swimring_grpc_rejections_total by "rpc:reason", and logged. */
  countGrpcReject(rpc: string, reason: string, detail?: string): void {
    this.bumpGrpcReject(rpc, reason);
    this.opts.logger.warn({ rpc, reason, ...(detail === undefined ? {} : { detail }) }, 'grpc request rejected');
  }

  private bumpGrpcReject(rpc: string, reason: string): void {
    const key = `${rpc}:${reason}`;
    this.stats.grpcRejects.set(key, (this.stats.grpcRejects.get(key) ?? 0) + 1);
  }

  /** A member that refuses plaintext gossip refuses gRPC peers that cannot prove they hold a key too. */
  checkKeyProof(proof: Uint8Array | undefined): void {
    if (this.keyProver === null || !this.envelope.verifyIncoming) return;
    const problem = this.keyProver.verify(proof);
    if (problem === null) return;
    this.bumpGrpcReject('key-proof', 'refused');
    throw new ControlPlaneError(grpcStatus.PERMISSION_DENIED, problem);
  }

  /**
   * The label and key proof a caller sent as metadata, checked before its body is read. A caller that
   * sent no label metadata (an earlier version, a tool) is checked in the body instead (authorize).
   * Ping stays open: health probes and `swimring client ping` carry no label.
   */
  checkCallCredentials(rpc: string, credentials: CallCredentials): Rejection | null {
    if (rpc === 'Ping' || credentials.label === null) return null;
    const mine = this.opts.label ?? '';
    if (credentials.label !== mine) {
      this.bumpGrpcReject('label', 'mismatch');
      return reject(grpcStatus.PERMISSION_DENIED, 'refused', `cluster label "${credentials.label}" does not match this member's label "${mine}"`);
    }
    if (this.keyProver === null || !this.envelope.verifyIncoming) return null;
    const problem = this.keyProver.verify(credentials.keyProof ?? undefined);
    if (problem === null) return null;
    this.bumpGrpcReject('key-proof', 'refused');
    return reject(grpcStatus.PERMISSION_DENIED, 'refused', problem);
  }

  /** Closing only for the caller's own name, from its known address or with the key (closing-check.ts). */
  checkClosingCaller(name: string, ctx: CallContext, known: MemberRecord | undefined): void {
    const provedKey = this.keyProver !== null && ctx.keyProof !== undefined && this.keyProver.verify(ctx.keyProof) === null;
    const problem = closingRefusal(name, { sender: ctx.sender, peer: ctx.peer, provedKey }, known);
    if (problem === null) return;
    this.bumpGrpcReject('Closing', 'not-own-identity');
    throw new ControlPlaneError(grpcStatus.PERMISSION_DENIED, problem);
  }
}

/** What the control plane needs from the agent around it. */
export interface ControlPlaneHost {
  readonly opts: AgentOptions;
  readonly name: string;
  readonly checks: CallChecks;
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
  readonly server: Awaited<ReturnType<typeof startControlPlaneServer>>;
  readonly antiEntropy: AntiEntropy;
  readonly watch: WatchServer;
}

export async function startAgentControlPlane(host: ControlPlaneHost): Promise<ControlPlane> {
  const { opts, checks } = host;
  const log: Logger = opts.logger;
  const onDigestReject = (rpc: string, rejection: { reason: string; message: string }): void => {
    checks.countGrpcReject(rpc, rejection.reason, rejection.message);
  };
  const antiEntropy = new AntiEntropy({
    mode: opts.antiEntropy ?? 'digest',
    client: host.client,
    limits: opts.grpcLimits ?? DEFAULT_LIMITS,
    rpcTimeoutMs: opts.rpcTimeoutMs,
    memberState: () => host.runner().member.core.fullState(),
    mergeMembers: (records) => host.runner().merge(records),
    // FetchEntries merges members and claims like Negotiate does: the same label and key-proof gate.
    checkContext: (ctx) => checks.checkContext(ctx),
    onReject: onDigestReject,
    logger: log,
  });
  if (host.claimStore) antiEntropy.attachClaims(host.claimStore);
  const watch = watchServer({
    view: host.view,
    maxQueuedEvents: opts.watchQueueEvents ?? 1024,
    maxStreams: 64,
    // Names, addresses and tags of every member: the same label and key-proof gate as Negotiate.
    checkContext: (ctx) => checks.checkContext(ctx),
    onReject: onDigestReject,
    onEnd: (reason) => {
      if (reason !== 'client_closed') log.info({ reason }, 'gRPC watch stream ended');
    },
  });
  const server = await startControlPlaneServer({
    bind: opts.grpcBind,
    ...(opts.grpcLimits ? { limits: opts.grpcLimits } : {}),
    ...(opts.grpcTls ? { credentials: opts.grpcTls.server } : {}),
    ...(opts.negotiateRate ? { negotiateRate: opts.negotiateRate } : {}),
    onCall: (rpc, code, seconds) => host.observers.grpcCall(rpc, code, seconds),
    handlers: {
      // Label and key proof before the rate limit and the handlers (authorize), and, from callers
      // that send them as metadata, before the body is read (gate below).
      authorize: (ctx) => checks.checkContext(ctx),
      negotiate: (remote, join) => host.runner().negotiate(remote, join),
      closing: (name, incarnation, ctx) => {
        checks.checkClosingCaller(name, ctx, host.runner().member.core.member(name));
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
      checks.countGrpcReject(rpc, reason);
    },
    gate: { check: (rpc, credentials) => checks.checkCallCredentials(rpc, credentials) },
    extraMethods: {
      ...keyringServerMethods({
        local: opts.gossipSecurity?.keyring ?? null,
        label: opts.label ?? '',
        checkContext: (ctx) => checks.checkLabel(ctx.label),
        onReject: (rpc, rejection) => {
          checks.countGrpcReject(rpc, rejection.reason, rejection.message);
        },
        onApplied: (op, sender, result) => log.info({ op, by: sender, ok: result.ok, error: result.error, keys: result.keys.length }, 'keyring operation'),
      }),
      ...forceLeaveServerMethods({
        forceLeave: (name) => host.forceLeave(name),
        stateOf: (name) => host.runner().member.core.member(name)?.state ?? null,
        checkContext: (ctx) => checks.checkContext(ctx),
        onReject: (rpc, rejection) => {
          checks.countGrpcReject(rpc, rejection.reason, rejection.message);
        },
        onApplied: (name, sender) => log.info({ member: name, by: sender }, 'force-leave asked by another member'),
      }),
      // --- apply: Apply RPC, implemented in src/apply
      ...opts.grpcMethods?.({
        checkContext: (ctx) => checks.checkContext(ctx),
        keyProof: checks.keyProver ? () => checks.keyProver?.current() ?? null : null,
      }),
      // --- digest-watch: ExchangeRoots, GetLeaves, FetchEntries, WatchMembership
      ...antiEntropy.serverMethods(),
      ...watch.methods,
      // --- claims: GetLocalActorIds, AnnounceOwnership, AnnounceExpiry
      ...host.claims.extraMethods((rpc, reason, detail) => {
        checks.countGrpcReject(rpc, reason, detail);
      }),
    },
  });
  return { server, antiEntropy, watch };
}
