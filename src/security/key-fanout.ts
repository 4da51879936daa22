// One keyring operation applied cluster-wide: here at once, on every other live member over gRPC, the
// request sealed once with this member's primary key (before a `use` here changes which key that is).
import { sealKeyOp, summarize, type KeyOp, type KeyOpResult, type KeyOpSummary, type LocalKeyring, type MemberKeyOpResult } from './key-ops.js';

export interface FanOutTarget {
  readonly name: string;
  readonly grpcAddr: string;
}

export interface FanOutOptions {
  readonly local: LocalKeyring;
  readonly label: string;
  readonly selfName: string;
  /** Live members other than this one. */
  readonly peers: readonly FanOutTarget[];
  readonly call: (grpcAddr: string, sealed: Uint8Array) => Promise<KeyOpResult>;
}

export async function fanOutKeyOp(op: KeyOp, opts: FanOutOptions): Promise<KeyOpSummary> {
  const sealed = sealKeyOp(opts.local.keyring, opts.label, op);
  const remote = Promise.all(
    opts.peers.map(async (p): Promise<MemberKeyOpResult> => ({ member: p.name, ...(await opts.call(p.grpcAddr, sealed)) })),
  );
  const here: MemberKeyOpResult = { member: opts.selfName, ...opts.local.apply(op) };
  return summarize(op.op, [here, ...(await remote)]);
}
