// The control-plane RPCs a member serves besides Ping, Negotiate and Closing, each registered by the
// feature that implements it (src/grpc/registry.ts). None of them checks the caller: the server's
// authorizer (src/grpc/authorizer.ts) has checked label, version and key proof before any handler runs.
import type { Logger } from 'pino';
import type { AntiEntropy } from '../antientropy/runtime.js';
import { checkedByAuthorizer } from '../grpc/authorizer.js';
import type { CallContext } from '../grpc/convert.js';
import { RpcRegistry } from '../grpc/registry.js';
import type { ExtraMethods } from '../grpc/service.js';
import type { WatchServer } from '../grpc/watch.js';
import type { AgentClaims } from '../ownership/agent-claims.js';
import { keyringServerMethods } from '../security/grpc-keyring.js';
import type { LocalKeyring } from '../security/key-ops.js';
import type { CallProofs } from '../security/key-proof.js';
import type { MemberState } from '../core/types.js';
import { forceLeaveServerMethods } from './force-leave.js';
import type { ForceLeaveResult } from './view.js';

/** What RPCs implemented outside the runtime (Apply: src/apply/setup.ts) need to reach peers as it does. */
export interface PeerChecks {
  /** Kept for features that take a caller check: every call is authorized before it, so it checks nothing. */
  checkContext(ctx: CallContext): void;
  /** For a client's keyProof option; null without a keyring. */
  readonly keyProof: (() => CallProofs | null) | null;
}

export interface AgentRpcDeps {
  readonly keyring: LocalKeyring | null;
  readonly label: string;
  readonly forceLeave: (name: string) => ForceLeaveResult;
  readonly stateOf: (name: string) => MemberState | null;
  /** Apply, when configured (AgentOptions.grpcMethods). */
  readonly apply: ((peers: PeerChecks) => ExtraMethods) | undefined;
  readonly keyProof: (() => CallProofs | null) | null;
  readonly antiEntropy: AntiEntropy;
  readonly watch: WatchServer;
  readonly claims: AgentClaims;
  /** Counts and logs a refusal (swimring_grpc_rejections_total). */
  readonly countReject: (rpc: string, reason: string, detail: string) => void;
  readonly logger: Logger;
}

export function agentRpcs(deps: AgentRpcDeps): RpcRegistry {
  const log = deps.logger;
  const onReject = (rpc: string, rejection: { reason: string; message: string }): void => deps.countReject(rpc, rejection.reason, rejection.message);
  const registry = new RpcRegistry()
    .register(
      'keyring',
      keyringServerMethods({
        local: deps.keyring,
        label: deps.label,
        checkContext: checkedByAuthorizer,
        onReject,
        onApplied: (op, sender, result) => log.info({ op, by: sender, ok: result.ok, error: result.error, keys: result.keys.length }, 'keyring operation'),
      }),
    )
    .register(
      'force-leave',
      forceLeaveServerMethods({
        forceLeave: deps.forceLeave,
        stateOf: deps.stateOf,
        checkContext: checkedByAuthorizer,
        onReject,
        onApplied: (name, sender) => log.info({ member: name, by: sender }, 'force-leave asked by another member'),
      }),
    )
    .register('anti-entropy', deps.antiEntropy.serverMethods())
    .register('watch', deps.watch.methods)
    .register('claims', deps.claims.extraMethods(deps.countReject));
  if (deps.apply) registry.register('apply', deps.apply({ checkContext: checkedByAuthorizer, keyProof: deps.keyProof }));
  return registry;
}
