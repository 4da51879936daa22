// The control-plane client: Negotiate, Closing and Ping to a peer's "host:port". One channel per
// address, kept in a bounded cache and dropped after it has been idle a while. Replies are held to
// the same limits as requests on the server; every failure is a rejected promise carrying a
// ControlPlaneCallError (gRPC status, RPC, address), never a throw.
import * as grpc from '@grpc/grpc-js';
import { headerVersionFields } from '../codec/protocol-version.js';
import { SPOKEN_RANGE } from '../codec/spoken.js';
import { CLAIM_ENCODING_VERSION } from '../ownership/canonical.js';
import type { MemberRecord } from '../core/types.js';
import { checkAddress, checkName, checkText, membersFromProto, membersToProto } from './convert.js';
import { credentialMetadata } from './auth-gate.js';
import type { CallProofs } from '../security/key-proof.js';
import type { Decoded } from './decode.js';
import { ControlPlaneCallError, isRejection, statusName } from './errors.js';
import type { RequestHeader } from './generated/swimring/v1/RequestHeader.js';
import { MAX_SHORT_STRING_BYTES, resolveLimits, type ControlPlaneLimits } from './limits.js';
import { boundedMethods, type BoundedMethod, type BoundedMethods } from './service.js';

export { ControlPlaneCallError } from './errors.js';

export interface ControlPlaneClientOptions {
  readonly limits?: Partial<ControlPlaneLimits>;
  /** Cluster label sent in every request header. Default "". */
  readonly label?: string;
  /** This member's name, sent in every request header (informational). Default "". */
  readonly sender?: string;
  /**
   * Most cached channels (peers) at least; `fitPeers` raises it to the cluster's size. The least
   * recently used idle one goes first. Default 64.
   */
  readonly maxChannels?: number;
  /**
   * Most channels `fitPeers` may size the pool to, however large the cluster: a bound on connections.
   * Below the number of peers a walk over every peer reopens connections again. Default: no bound.
   */
  readonly channelCeiling?: number;
  /** A channel unused this long is closed at the next call. Default 60,000 ms. */
  readonly idleMs?: number;
  /** Clock for idle eviction; injectable for tests. Default Date.now. */
  readonly now?: () => number;
  /**
   * Proofs of holding the gossip key (src/security/key-proof.ts), asked for at each call: a v2 proof made
   * for the request's bytes goes in the call metadata; a v1 proof, during an upgrade, in the header too.
   */
  readonly keyProof?: () => CallProofs | null;
  /** Transport security and its channel options (src/grpc/tls.ts clientTls). Default: plaintext. */
  readonly tls?: { readonly credentials: grpc.ChannelCredentials; readonly channelOptions: grpc.ChannelOptions };
}

export interface PingResult {
  readonly name: string;
  readonly unixTimeMs: number;
  readonly members: number;
  readonly healthScore: number;
  readonly tableVersion: string;
  /** Ids with a live owner in the peer's claim store (0 from a peer that predates the field). */
  readonly claims: number;
  /** Alive or suspect members in the peer's view, itself included. */
  readonly liveMembers: number;
}

interface Channel {
  readonly client: grpc.Client;
  lastUsed: number;
  inFlight: number;
}

const DEFAULT_MAX_CHANNELS = 64;
const DEFAULT_IDLE_MS = 60_000;
/**
 * grpc-js backs off reconnecting to an unreachable peer up to 120 s by default, failing calls fast
 * meanwhile; a restarted peer would stay unreachable that long. SWIM retries on its own schedule.
 */
const MAX_RECONNECT_BACKOFF_MS = 5_000;

export class ControlPlaneClient {
  private readonly limits: ControlPlaneLimits;
  private readonly methods: BoundedMethods;
  private readonly fixedHeader: RequestHeader;
  private readonly keyProof: (() => CallProofs | null) | undefined;
  private readonly minChannels: number;
  private readonly channelCeiling: number;
  private maxChannels: number;
  /** Channels created since start: with a pool the size of the cluster, one per peer, not one per call. */
  private opened = 0;
  private readonly idleMs: number;
  private readonly now: () => number;
  /** Made at the first channel, not here: the agent builds its clients before grpc-js need be loaded. */
  private credentials: grpc.ChannelCredentials | null;
  private readonly channelOptions: grpc.ChannelOptions;
  /** Map order is recency order: a used channel is moved to the end. */
  private readonly channels = new Map<string, Channel>();
  private closed = false;

  constructor(opts: ControlPlaneClientOptions = {}) {
    this.limits = resolveLimits(opts.limits);
    this.methods = boundedMethods(this.limits);
    const label = checkText(opts.label ?? '', 'label', 0, MAX_SHORT_STRING_BYTES);
    if (isRejection(label)) throw new RangeError(`control plane client: ${label.message}`);
    const sender = opts.sender ?? '';
    const checkedSender = sender === '' ? '' : checkName(sender, 'sender');
    if (isRejection(checkedSender)) throw new RangeError(`control plane client: ${checkedSender.message}`);
    // The claim record version this member reads rides on every request, so replies carry records it reads.
    this.fixedHeader = { ...headerVersionFields(SPOKEN_RANGE), label, sender: checkedSender, claimRecordVersion: CLAIM_ENCODING_VERSION };
    this.keyProof = opts.keyProof;
    this.channelCeiling = positiveInteger('channelCeiling', opts.channelCeiling ?? Number.MAX_SAFE_INTEGER);
    this.minChannels = Math.min(this.channelCeiling, positiveInteger('maxChannels', opts.maxChannels ?? DEFAULT_MAX_CHANNELS));
    this.maxChannels = this.minChannels;
    this.idleMs = positiveInteger('idleMs', opts.idleMs ?? DEFAULT_IDLE_MS);
    this.now = opts.now ?? Date.now;
    this.credentials = opts.tls?.credentials ?? null;
    this.channelOptions = opts.tls?.channelOptions ?? {};
  }

  /** The header of the next request: fixed fields plus the v1 key proof while upgrading from it. */
  private get header(): RequestHeader {
    const proof = this.keyProof?.()?.legacyProof();
    return proof ? { ...this.fixedHeader, keyProof: Buffer.from(proof) } : this.fixedHeader;
  }

  /** Sends our full state; resolves with the peer's full state after its merge, validated. */
  async negotiate(addr: string, state: readonly MemberRecord[], join: boolean, timeoutMs: number): Promise<MemberRecord[]> {
    const request = { header: this.header, members: membersToProto(state), join };
    const reply = await this.call(this.methods.Negotiate, addr, request, timeoutMs);
    const members = membersFromProto(reply.members, 'members', this.limits);
    if (isRejection(members)) throw replyRefused('Negotiate', addr, members.code, members.message);
    return members;
  }

  /** Tells the peer this member is leaving with `incarnation`. */
  async closing(addr: string, name: string, incarnation: number, timeoutMs: number): Promise<void> {
    await this.call(this.methods.Closing, addr, { header: this.header, name, incarnation: String(incarnation) }, timeoutMs);
  }

  async ping(addr: string, timeoutMs: number): Promise<PingResult> {
    const reply = await this.call(this.methods.Ping, addr, { header: this.header }, timeoutMs);
    const name = checkName(reply.name, 'name');
    if (isRejection(name)) throw replyRefused('Ping', addr, name.code, name.message);
    const tableVersion = checkText(reply.tableVersion, 'table_version', 0, MAX_SHORT_STRING_BYTES);
    if (isRejection(tableVersion)) throw replyRefused('Ping', addr, tableVersion.code, tableVersion.message);
    const unixTimeMs = Number(reply.unixTimeMs);
    if (!Number.isSafeInteger(unixTimeMs)) {
      throw replyRefused('Ping', addr, grpc.status.INVALID_ARGUMENT, `unixTimeMs: ${reply.unixTimeMs} is not a safe integer`);
    }
    const claims = Number(reply.claims);
    if (!Number.isSafeInteger(claims) || claims < 0) throw replyRefused('Ping', addr, grpc.status.INVALID_ARGUMENT, `claims: ${reply.claims} is not a safe integer`);
    return { name, unixTimeMs, members: reply.members, healthScore: reply.healthScore, tableVersion, claims, liveMembers: reply.liveMembers };
  }

  /**
   * An RPC implemented outside src/grpc (Apply: src/apply/): same channels, deadline, reply limits and
   * errors as the built-in calls. `build` gets the request header this client sends.
   */
  unary<ReqIn, ReqOut, ResIn, ResOut>(
    method: BoundedMethod<ReqIn, ReqOut, ResIn, ResOut>,
    addr: string,
    build: (header: RequestHeader) => NoInfer<ReqIn>,
    timeoutMs: number,
  ): Promise<ResOut> {
    return this.call(method, addr, build(this.header), timeoutMs);
  }

  /** Closes every cached channel; later calls are rejected. */
  close(): void {
    this.closed = true;
    for (const channel of this.channels.values()) channel.client.close();
    this.channels.clear();
  }

  /**
   * Sizes the pool to the cluster: `peers` live peers each keep a channel (plus headroom for members
   * joining), never fewer than the configured maxChannels nor more than channelCeiling. Fan-outs walk
   * every peer in turn, so a pool smaller than the cluster would close and reopen a connection (a TLS
   * handshake) per call. Shrinking evicts nothing at once: idle expiry and later calls trim the surplus.
   */
  fitPeers(peers: number): void {
    this.maxChannels = Math.min(this.channelCeiling, Math.max(this.minChannels, Math.ceil(peers * 1.25) + 8));
  }

  /**
   * Closes the channels of addresses not in `live` (peers that left or died), so a pool sized to the
   * cluster holds the live peers' connections rather than the departed ones' until they idle out. A
   * channel with a call in flight is kept; idle expiry or eviction closes it later.
   */
  retainOnly(live: ReadonlySet<string>): void {
    for (const [addr, channel] of this.channels) {
      if (channel.inFlight === 0 && !live.has(addr)) this.drop(addr, channel);
    }
  }

  /** The current pool bound (after fitPeers). */
  channelLimit(): number {
    return this.maxChannels;
  }

  /** Channels created so far (each a new connection). */
  channelsOpened(): number {
    return this.opened;
  }

  /** Addresses with a cached channel, least recently used first (for tests and diagnostics). */
  cachedAddresses(): string[] {
    return [...this.channels.keys()];
  }

  private call<ReqIn, ReqOut, ResIn, ResOut>(
    method: BoundedMethod<ReqIn, ReqOut, ResIn, ResOut>,
    addr: string,
    request: NoInfer<ReqIn>,
    timeoutMs: number,
  ): Promise<ResOut> {
    const rpc = method.name;
    if (this.closed) return Promise.reject(new ControlPlaneCallError(rpc, addr, grpc.status.CANCELLED, `${rpc} to ${addr}: client is closed`));
    const checked = checkAddress(addr, 'address');
    if (isRejection(checked)) {
      return Promise.reject(new ControlPlaneCallError(rpc, addr, grpc.status.INVALID_ARGUMENT, `${rpc}: bad peer ${checked.message}`));
    }
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      return Promise.reject(
        new ControlPlaneCallError(rpc, addr, grpc.status.INVALID_ARGUMENT, `${rpc} to ${addr}: timeout ${timeoutMs} ms is not a positive number`),
      );
    }
    // Serialized once, here: the key proof is made for exactly the bytes that are sent.
    let body: Buffer;
    try {
      body = method.requestSerialize(request);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return Promise.reject(new ControlPlaneCallError(rpc, addr, grpc.status.INVALID_ARGUMENT, `${rpc} to ${addr}: request not serializable: ${why}`));
    }
    // The channel sends up to the largest bound; each RPC is held to its own here, with a clear error.
    const maxBytes = method.maxRequestBytes ?? this.limits.maxMessageBytes;
    if (body.length > maxBytes) {
      return Promise.reject(
        new ControlPlaneCallError(rpc, addr, grpc.status.RESOURCE_EXHAUSTED, `${rpc} to ${addr}: request of ${body.length} bytes; this RPC sends at most ${maxBytes}`),
      );
    }
    const proofs = this.keyProof?.() ?? null;
    const metadata = credentialMetadata(this.fixedHeader.label ?? '', proofs && { v2: proofs.prove(method.path, body), v1: proofs.legacyProof() });
    const channel = this.channelFor(addr);
    channel.inFlight++;
    return new Promise<ResOut>((resolve, rejectCall) => {
      const done = (): void => {
        channel.inFlight--;
        channel.lastUsed = this.now();
      };
      channel.client.makeUnaryRequest<Buffer, Decoded<ResOut>>(
        method.path,
        (bytes) => bytes,
        method.responseDeserialize,
        body,
        metadata,
        { deadline: Date.now() + timeoutMs },
        (err, reply) => {
          done();
          if (err) return rejectCall(callFailed(rpc, addr, err, timeoutMs));
          if (!reply) return rejectCall(replyRefused(rpc, addr, grpc.status.INTERNAL, 'empty reply'));
          if (!reply.ok) return rejectCall(replyRefused(rpc, addr, reply.rejection.code, reply.rejection.message));
          resolve(reply.value);
        },
      );
    });
  }

  private channelFor(addr: string): Channel {
    const now = this.now();
    this.evictIdle(now);
    const existing = this.channels.get(addr);
    if (existing) {
      this.channels.delete(addr);
      this.channels.set(addr, existing);
      existing.lastUsed = now;
      return existing;
    }
    while (this.channels.size >= this.maxChannels && this.evictLeastRecent());
    this.opened++;
    this.credentials ??= grpc.credentials.createInsecure();
    const client = new grpc.Client(addr, this.credentials, {
      ...this.channelOptions,
      'grpc.max_receive_message_length': this.limits.maxMessageBytes,
      // Each call is held to its RPC's bound before it is sent (call()); -1: grpc-js adds no other.
      'grpc.max_send_message_length': -1,
      // Lets the connection itself go when idle, even if no further call comes to evict the entry.
      'grpc.client_idle_timeout_ms': this.idleMs,
      'grpc.max_reconnect_backoff_ms': MAX_RECONNECT_BACKOFF_MS,
    });
    const channel: Channel = { client, lastUsed: now, inFlight: 0 };
    this.channels.set(addr, channel);
    return channel;
  }

  private evictIdle(now: number): void {
    for (const [addr, channel] of this.channels) {
      if (channel.inFlight === 0 && now - channel.lastUsed >= this.idleMs) this.drop(addr, channel);
    }
  }

  /**
   * Drops the least recently used channel with no call in flight. When every cached channel is busy
   * the cache grows past maxChannels until calls finish; in-flight calls are never cut off.
   */
  private evictLeastRecent(): boolean {
    for (const [addr, channel] of this.channels) {
      if (channel.inFlight === 0) {
        this.drop(addr, channel);
        return true;
      }
    }
    return false;
  }

  private drop(addr: string, channel: Channel): void {
    this.channels.delete(addr);
    channel.client.close();
  }
}

function callFailed(rpc: string, addr: string, err: grpc.ServiceError, timeoutMs: number): ControlPlaneCallError {
  const code = err.code;
  const details = err.details || err.message;
  const message =
    code === grpc.status.DEADLINE_EXCEEDED
      ? `${rpc} to ${addr} timed out after ${timeoutMs} ms (${details})`
      : `${rpc} to ${addr} failed: ${statusName(code)}: ${details}`;
  return new ControlPlaneCallError(rpc, addr, code, message);
}

function replyRefused(rpc: string, addr: string, code: grpc.status, why: string): ControlPlaneCallError {
  return new ControlPlaneCallError(rpc, addr, code, `${rpc} reply from ${addr} refused: ${why}`);
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`control plane client: ${name} must be a positive integer, got ${value}`);
  return value;
}
