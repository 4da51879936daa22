// Keyring operations against a running cluster (`swimring keys ...`, POST /v1/keys/*). The local
// member fans each operation out to every live member over gRPC (KeyringOp); the request is sealed
// with the sender's current primary key, the cluster label as associated data, so only a holder of a
// current key of this cluster can change keyrings (Serf does the same with its encrypted queries) and
// new key material never crosses the network in clear.
import { randomBytes } from 'node:crypto';
import { decodeKey, encodeKey, writeKeyringFile } from './keyring-file.js';
import { keyId, type KeyInfo, type Keyring } from './keyring.js';
import { ReplayGuard } from './replay-guard.js';

export const KEY_OPS = ['list', 'install', 'use', 'remove'] as const;
export type KeyOpName = (typeof KEY_OPS)[number];

/** What travels (sealed) in a KeyringOp request. `key` is base64 key material or a key id. */
export interface KeyOp {
  readonly op: KeyOpName;
  readonly key?: string;
}

/** One member's answer. */
export interface KeyOpResult {
  readonly ok: boolean;
  readonly error?: string;
  readonly keys: readonly KeyInfo[];
}

/** A sealed request is a few hundred bytes; a bound keeps junk from costing a decrypt of megabytes. */
export const MAX_SEALED_KEY_OP_BYTES = 1024;
const AAD_PREFIX = 'swimring keyring-op v1\0';

function aad(label: string): Buffer {
  return Buffer.from(AAD_PREFIX + label, 'utf8');
}

/**
 * How far a sealed operation's time may be from the receiver's clock. With its random id and the
 * receiver's ReplayGuard, a recorded request ("install K") cannot be replayed later, say after K was
 * removed because it leaked.
 */
export const KEY_OP_MAX_SKEW_MS = 2 * 60_000;

/** Sealed with the time and a random id, which the receiver checks (ReplayGuard). */
export function sealKeyOp(keyring: Keyring, label: string, op: KeyOp, now: number = Date.now()): Buffer {
  const stamped = { ...op, at: Math.floor(now), id: randomBytes(12).toString('hex') };
  return keyring.seal(Buffer.from(JSON.stringify(stamped), 'utf8'), aad(label));
}

/** The guard a KeyringOp server keeps: ids of operations applied within KEY_OP_MAX_SKEW_MS. */
export function keyOpReplayGuard(now: () => number = Date.now, maxEntries = 4096): ReplayGuard {
  return new ReplayGuard({ maxSkewMs: KEY_OP_MAX_SKEW_MS, maxEntries, what: 'sealed keyring request', now });
}

/** The operation inside a sealed request, or why it was refused (never echoing the bytes). */
export function openKeyOp(keyring: Keyring, label: string, sealed: Uint8Array, guard: ReplayGuard): KeyOp | string {
  if (sealed.length > MAX_SEALED_KEY_OP_BYTES) return `sealed request of ${sealed.length} bytes; at most ${MAX_SEALED_KEY_OP_BYTES}`;
  const plain = keyring.open(sealed, aad(label));
  if (plain === null) return 'no installed key opens the request (the caller does not hold a current key of this cluster)';
  let parsed: unknown;
  try {
    parsed = JSON.parse(plain.toString('utf8'));
  } catch {
    return 'sealed request is not JSON';
  }
  if (typeof parsed !== 'object' || parsed === null) return 'sealed request is not an object';
  const { op, key, at, id } = parsed as { op?: unknown; key?: unknown; at?: unknown; id?: unknown };
  if (typeof op !== 'string' || !(KEY_OPS as readonly string[]).includes(op)) return 'unknown keyring operation';
  if (key !== undefined && typeof key !== 'string') return 'key must be a string';
  if (op !== 'list' && (key === undefined || key === '')) return `${op} needs a key`;
  if (typeof at !== 'number' || !Number.isSafeInteger(at) || typeof id !== 'string' || !/^[0-9a-f]{16,64}$/.test(id)) {
    return 'sealed request has no time and id (sent by an earlier version? upgrade every member before rotating keys)';
  }
  const replay = guard.admit(id, at);
  if (replay !== null) return replay;
  return key === undefined ? { op: op as KeyOpName } : { op: op as KeyOpName, key };
}

/** A base64 key, or (for use and remove) a key id as `keys list` shows it. */
function keyArg(key: string): Buffer | string {
  const trimmed = key.trim();
  if (/^[0-9a-f]{16}$/.test(trimmed)) return trimmed;
  return decodeKey(trimmed);
}

/** This member's keyring plus where to persist it. */
export class LocalKeyring {
  constructor(
    readonly keyring: Keyring,
    private readonly file: string | null,
    private readonly onPersistError: (message: string) => void = () => {},
  ) {}

  apply(op: KeyOp): KeyOpResult {
    const result = this.applyUnpersisted(op);
    if (result.ok && op.op !== 'list') this.persist();
    return { ...result, keys: this.keyring.list() };
  }

  private applyUnpersisted(op: KeyOp): { ok: boolean; error?: string } {
    if (op.op === 'list') return { ok: true };
    const arg = keyArg(op.key ?? '');
    if (op.op === 'install') {
      if (typeof arg === 'string' && /^[0-9a-f]{16}$/.test(arg)) return { ok: false, error: 'install needs the base64 key, not its id' };
      if (typeof arg === 'string') return { ok: false, error: `invalid key: ${arg}` };
      return this.keyring.install(arg);
    }
    if (typeof arg === 'string' && !/^[0-9a-f]{16}$/.test(arg)) return { ok: false, error: `invalid key: ${arg}` };
    return op.op === 'use' ? this.keyring.use(arg) : this.keyring.remove(arg);
  }

  private persist(): void {
    if (this.file === null) return;
    try {
      writeKeyringFile(this.file, this.keyring.exportKeys());
    } catch (err) {
      // The rotation holds in memory; only a restart would lose it. Say so loudly, without key text.
      this.onPersistError(`could not write the keyring file ${this.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
}

export interface MemberKeyOpResult extends KeyOpResult {
  readonly member: string;
}

/** The cluster-wide answer, shaped like `serf keys`: per-member failures and, for list, key counts. */
export interface KeyOpSummary {
  readonly op: KeyOpName;
  readonly members: number;
  readonly succeeded: number;
  readonly failures: readonly { readonly member: string; readonly error: string }[];
  /** Each key seen, how many members hold it, and on how many it is primary. */
  readonly keys: readonly { readonly id: string; readonly members: number; readonly primary: number }[];
}

export function summarize(op: KeyOpName, results: readonly MemberKeyOpResult[]): KeyOpSummary {
  const counts = new Map<string, { members: number; primary: number }>();
  for (const r of results) {
    for (const k of r.keys) {
      const c = counts.get(k.id) ?? { members: 0, primary: 0 };
      c.members++;
      if (k.primary) c.primary++;
      counts.set(k.id, c);
    }
  }
  const failures = results.filter((r) => !r.ok).map((r) => ({ member: r.member, error: r.error ?? 'failed' }));
  return {
    op,
    members: results.length,
    succeeded: results.length - failures.length,
    failures,
    keys: [...counts].map(([id, c]) => ({ id, ...c })).sort((a, b) => b.primary - a.primary || b.members - a.members || a.id.localeCompare(b.id)),
  };
}

/** The id a key argument refers to, for the caller's messages. */
export function describeKeyArg(key: string): string {
  const arg = keyArg(key);
  return typeof arg === 'string' ? arg : keyId(arg);
}

export { encodeKey };
