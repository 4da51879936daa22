// Which feature serves which RPC. Features (keyring, force-leave, Apply, anti-entropy, the watch, claims)
// register their methods here instead of being spread into one object by the runtime: an RPC claimed by
// two features, or one the service does not define, is a startup error naming both, not a silent
// overwrite. Registering an RPC adds no caller checks: every call is authorized before its handler
// runs, whatever feature serves it (src/grpc/authorizer.ts).
import { controlPlaneDefinition, CONTROL_PLANE_SERVICE } from './proto.js';
import type { ExtraMethod, ExtraMethods } from './service.js';

/** Served by the control-plane server itself (src/grpc/server.ts), never by a feature. */
const BUILT_IN_RPCS: ReadonlySet<string> = new Set(['Ping', 'Negotiate', 'Closing']);

export class RpcRegistry {
  private readonly byRpc = new Map<string, { readonly feature: string; readonly method: ExtraMethod }>();

  /** Adds `feature`'s methods (keyed by the proto's method name). Throws on a conflict. */
  register(feature: string, methods: ExtraMethods): this {
    const service = controlPlaneDefinition();
    for (const [rpc, method] of Object.entries(methods)) {
      if (!(rpc in service)) throw new Error(`${feature} registers ${rpc}, which is not a method of ${CONTROL_PLANE_SERVICE}`);
      if (BUILT_IN_RPCS.has(rpc)) throw new Error(`${feature} registers ${rpc}, which the control-plane server serves itself`);
      const prior = this.byRpc.get(rpc);
      if (prior) throw new Error(`${rpc} registered by both ${prior.feature} and ${feature}`);
      this.byRpc.set(rpc, { feature, method });
    }
    return this;
  }

  /** For startControlPlaneServer's extraMethods. */
  methods(): ExtraMethods {
    return Object.fromEntries([...this.byRpc].map(([rpc, { method }]) => [rpc, method]));
  }

  /** RPC -> the feature serving it, for diagnostics and tests. */
  features(): ReadonlyMap<string, string> {
    return new Map([...this.byRpc].map(([rpc, { feature }]) => [rpc, feature]));
  }
}
