// The one schema: raw option values (text from flags and environment, JSON from the config file, or the
// defaults) in, the fully resolved SwimringConfig out. Field checks live in ./fields.ts; what spans
// several options (listener clashes, token on a non-loopback API, the SWIM settings as a whole) is here.
import { z } from 'zod';
import { PROFILE_NAMES, PROFILES, SETTINGS, SETTING_NAMES, validateConfig, type SettingName, type SwimConfig } from '../core/config.js';
import { MAX_REPLICAS, MAX_SHARDS } from '../placement/constants.js';
import { formatHostPort, isLoopbackHost, isWildcardHost, type HostPort } from '../net/address.js';
import { appHandlerUrl } from '../apply/config.js';
import type { ApplyConfig } from '../apply/service.js';
import type { ClaimConfig } from '../ownership/config.js';
import { appAddress, appHealth, boolean, host, hostPort, integer, oneOf, optional, seeds, tags, token } from './fields.js';

export { PROFILE_NAMES };
/** Periodic anti-entropy: Merkle digest (default), every bucket over the digest RPCs (a baseline), or Negotiate. */
export const ANTI_ENTROPY_MODES = ['digest', 'full', 'negotiate'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
const DAY_MS = 86_400_000;

function protocolField(min: number, max: number) {
  return optional(integer(min, max));
}

/** Options that override one field of the chosen SWIM profile, bounded where the core defines them. */
export const protocolShape = Object.fromEntries(
  SETTING_NAMES.map((setting) => [setting, protocolField(SETTINGS[setting].min, SETTINGS[setting].max)]),
) as { [K in SettingName]: ReturnType<typeof protocolField> };

export const configShape = {
  configFile: optional(z.string({ error: 'expected a file path' })),
  name: token('a member name', 253),
  gossipAddr: hostPort({ allowPortZero: true }),
  grpcAddr: hostPort({ allowPortZero: true }),
  advertiseHost: host(),
  httpAddr: hostPort({ allowPortZero: true }),
  opsAddr: hostPort({ allowPortZero: true }),
  appAddr: optional(appAddress()),
  appHealth: optional(appHealth()),
  seeds: seeds(),
  bootstrap: boolean(),
  profile: oneOf(PROFILE_NAMES),
  shards: integer(1, MAX_SHARDS),
  replicas: integer(0, MAX_REPLICAS),
  keyringFile: optional(z.string({ error: 'expected a file path' })),
  label: optional(token('a cluster label', 255)),
  // --- sec-gossip: encryption on in a running cluster, memberlist's three steps
  gossipVerifyIncoming: optional(boolean()),
  gossipVerifyOutgoing: optional(boolean()),
  keyProofV1: optional(boolean()),
  tags: tags(),
  logLevel: oneOf(LOG_LEVELS),
  logFormat: oneOf(LOG_FORMATS),
  joinTimeoutMs: integer(0, DAY_MS),
  joinRetryInitialMs: integer(10, DAY_MS),
  joinRetryMaxMs: integer(10, DAY_MS),
  rpcTimeoutMs: integer(10, 600_000),
  leaveTimeoutMs: integer(0, 600_000),
  drainMs: integer(0, 600_000),
  appCheckIntervalMs: integer(100, 600_000),
  appCheckTimeoutMs: integer(10, 600_000),
  appFailureThreshold: integer(1, 100),
  appSuccessThreshold: integer(1, 100),
  dnsServers: seeds(),
  settleMs: optional(integer(0, 600_000)),
  httpToken: optional(
    z
      .string({ error: 'expected a token' })
      .regex(/^[\x21-\x7e]{16,4096}$/, 'expected 16-4096 printable ASCII characters without spaces'),
  ),
  adminToken: optional(
    z
      .string({ error: 'expected a token' })
      .regex(/^[\x21-\x7e]{16,4096}$/, 'expected 16-4096 printable ASCII characters without spaces'),
  ),
  httpTrustLoopback: boolean(),
  // --- sec-edge: admin token file, control-plane TLS, Negotiate rate limit
  adminTokenFile: optional(z.string({ error: 'expected a file path' }).min(1, 'expected a file path')),
  tlsCertFile: optional(z.string({ error: 'expected a file path' }).min(1, 'expected a file path')),
  tlsKeyFile: optional(z.string({ error: 'expected a file path' }).min(1, 'expected a file path')),
  tlsCaFile: optional(z.string({ error: 'expected a file path' }).min(1, 'expected a file path')),
  tlsServerName: optional(token('a TLS server name', 253)),
  tlsReloadIntervalMs: integer(100, DAY_MS),
  negotiateRate: integer(1, 1_000_000),
  negotiateBurst: integer(1, 1_000_000),
  negotiatePeerRate: integer(1, 1_000_000),
  maxClusterSize: integer(16, 65_536),
  negotiatePeerBurst: integer(1, 1_000_000),
  negotiateHostRate: integer(1, 1_000_000),
  negotiateHostBurst: integer(1, 1_000_000),
  // --- digest-watch: periodic anti-entropy by Merkle digest, gRPC watch queue
  antiEntropy: oneOf(ANTI_ENTROPY_MODES),
  watchQueueEvents: integer(1, 1_000_000),
  // --- apply: POST /v1/apply delivery to the owner's app
  appHandlerUrl: optional(appHandlerUrl()),
  applyTimeoutMs: integer(10, 600_000),
  applyMaxBodyBytes: integer(1, 8 * 1024 * 1024),
  applyMaxAttempts: integer(1, 10),
  applyDedupTtlMs: integer(1000, DAY_MS),
  applyDedupEntries: integer(1, 10_000_000),
  applyDedupMaxBytes: integer(1024, 16 * 1024 * 1024 * 1024),
  applyMaxChannels: integer(1, 65_536),
  // --- claims: ownership claims (src/ownership)
  claimTtlMs: integer(0, 365 * DAY_MS),
  claimMaxTtlMs: integer(1, 365 * DAY_MS),
  claimMaxPerMember: integer(1, 10_000_000),
  claimMaxRecords: integer(1, 100_000_000),
  claimMaxReleasesPerMember: integer(1, 10_000_000),
  claimAnnounceWindowMs: integer(0, 60_000),
  claimAnnounceConcurrency: integer(1, 1024),
  claimAnnounceQueuePerPeer: integer(1, 1_000_000),
  claimReleaseRetentionMs: integer(1000, DAY_MS),
  claimMaxClockSkewMs: integer(1, 3_600_000),
  claimRelayGroupSize: integer(0, 1024),
  claimRelayWindowMs: integer(0, 10_000),
  ...protocolShape,
};

export type ConfigKey = keyof typeof configShape;
export type ProtocolKey = keyof typeof protocolShape;
export const PROTOCOL_KEYS = Object.keys(protocolShape) as ProtocolKey[];

type Fields = z.output<z.ZodObject<typeof configShape>>;

function addressesClash(a: HostPort, b: HostPort): boolean {
  if (a.port === 0 || a.port !== b.port) return false;
  return a.host === b.host || isWildcardHost(a.host) || isWildcardHost(b.host);
}

/** The overrides given, leaving out any that failed their own field check (already reported). */
function protocolOverrides(f: Fields): Partial<SwimConfig> {
  const out: Partial<SwimConfig> = {};
  for (const key of PROTOCOL_KEYS) {
    const v = f[key];
    if (typeof v === 'number' && protocolShape[key].safeParse(v).success) out[key] = v;
  }
  return out;
}

function checkAcross(f: Fields, ctx: z.RefinementCtx<Fields>): void {
  const issue = (path: ConfigKey, message: string): void => {
    ctx.addIssue({ code: 'custom', path: [path], message });
  };
  // Field problems still reach here with partial values, so each check guards what it reads.
  const tcp: [ConfigKey, HostPort | undefined][] = [
    ['grpcAddr', f.grpcAddr],
    ['httpAddr', f.httpAddr],
    ['opsAddr', f.opsAddr],
  ];
  for (let i = 0; i < tcp.length; i++) {
    for (let j = i + 1; j < tcp.length; j++) {
      const [ka, a] = tcp[i] ?? [];
      const [kb, b] = tcp[j] ?? [];
      if (ka && kb && a?.host !== undefined && b?.host !== undefined && addressesClash(a, b)) {
        issue(kb, `${formatHostPort(b)} clashes with ${flagOf(ka)} ${formatHostPort(a)} (both are TCP listeners)`);
      }
    }
  }
  if (!f.httpTrustLoopback && !f.httpToken) {
    issue('httpTrustLoopback', 'loopback clients are not trusted (--http-trust-loopback=false): set SWIMRING_HTTP_TOKEN for them to send');
  }
  if (f.httpAddr?.host !== undefined && !isLoopbackHost(f.httpAddr.host) && !f.httpToken) {
    issue(
      'httpAddr',
      `${formatHostPort(f.httpAddr)} is reachable from other machines: set SWIMRING_HTTP_TOKEN (or http-token in the config file), or listen on 127.0.0.1`,
    );
  }
  // --- sec-edge
  if ((f.tlsCertFile === null) !== (f.tlsKeyFile === null)) {
    issue(f.tlsCertFile === null ? 'tlsCertFile' : 'tlsKeyFile', 'TLS needs both --tls-cert-file and --tls-key-file');
  }
  if (f.tlsCertFile === null && f.tlsCaFile !== null) issue('tlsCaFile', 'a CA without --tls-cert-file and --tls-key-file: mutual TLS needs this member\'s own certificate too');
  if (f.tlsCertFile === null && f.tlsServerName !== null) issue('tlsServerName', 'only meaningful with --tls-cert-file and --tls-key-file');
  if (typeof f.joinRetryInitialMs === 'number' && typeof f.joinRetryMaxMs === 'number' && f.joinRetryInitialMs > f.joinRetryMaxMs) {
    issue('joinRetryMaxMs', `must be at least --join-retry-initial-ms (${f.joinRetryInitialMs})`);
  }
  // A profile that failed its own check may be any JSON value (even one that cannot become a key).
  const base = typeof f.profile === 'string' && Object.hasOwn(PROFILES, f.profile) ? PROFILES[f.profile] : undefined;
  if (base !== undefined) {
    const overrides = protocolOverrides(f);
    for (const problem of validateConfig({ ...base, ...overrides })) {
      // The profile alone is valid, so a problem names at least one override; blame the first named.
      const named = PROTOCOL_KEYS.filter((k) => problem.includes(k));
      const blamed = named.find((k) => k in overrides) ?? 'profile';
      issue(blamed, `${withFlagNames(problem)} (with profile ${f.profile})`);
    }
  }
}

/** Text about SWIM settings with each setting named by its flag, as users know it. */
export function withFlagNames(text: string): string {
  return text.replace(/\b[a-z]+[A-Z]\w*/g, (k) => (Object.hasOwn(protocolShape, k) ? flagOf(k as ConfigKey) : k));
}

/** "--probe-timeout-ms" for probeTimeoutMs: the flag spelling users see in every message. */
export function flagOf(key: ConfigKey): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export interface ResolvedConfig {
  /** The config file read, if any. */
  readonly configFile: string | null;
  readonly name: string;
  readonly gossipAddr: HostPort;
  readonly grpcAddr: HostPort;
  /** Host peers dial to reach this member; ports come from the listen addresses. */
  readonly advertiseHost: string;
  readonly httpAddr: HostPort;
  readonly opsAddr: HostPort;
  /** The app's address as advertised to peers; ":PORT" was resolved against advertiseHost. */
  readonly appAddr: HostPort | null;
  readonly appHealth: z.output<ReturnType<typeof appHealth>> | null;
  /** Seeds given without a port use this member's gRPC port. */
  readonly seeds: readonly HostPort[];
  readonly bootstrap: boolean;
  readonly profile: (typeof PROFILE_NAMES)[number];
  readonly shards: number;
  readonly replicas: number;
  readonly keyringFile: string | null;
  readonly label: string | null;
  /** With a keyring: refuse plaintext UDP packets (default true). */
  readonly gossipVerifyIncoming: boolean;
  /** With a keyring: encrypt outgoing UDP packets (default true). */
  readonly gossipVerifyOutgoing: boolean;
  /** With a keyring: also send and accept v1 gRPC key proofs, for a rolling upgrade (default false). */
  readonly keyProofV1: boolean;
  readonly tags: Readonly<Record<string, string>>;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  /** auto: JSON lines unless stdout is a terminal, readable lines on one. */
  readonly logFormat: (typeof LOG_FORMATS)[number];
  readonly joinTimeoutMs: number;
  readonly joinRetryInitialMs: number;
  readonly joinRetryMaxMs: number;
  readonly rpcTimeoutMs: number;
  readonly leaveTimeoutMs: number;
  /** On leave: stop serving, wait this long for in-flight work, then announce the leave. */
  readonly drainMs: number;
  readonly appCheck: { readonly intervalMs: number; readonly timeoutMs: number; readonly failureThreshold: number; readonly successThreshold: number };
  /** DNS servers for seed names ("ip" or "ip:port"); empty: the system resolver. */
  readonly dnsServers: readonly HostPort[];
  /** Readiness settle window; defaults to two probe intervals of the effective SWIM settings. */
  readonly settleMs: number;
  readonly httpToken: string | null;
  /** Admin routes' token (SWIMRING_ADMIN_TOKEN); null: a random one in adminTokenFile. */
  readonly adminToken: string | null;
  /** Loopback clients of the app API need no token (off behind a mesh proxy that connects from loopback). */
  readonly httpTrustLoopback: boolean;
  /** Where the generated admin token is written when no HTTP token is set; null: the default path. */
  readonly adminTokenFile: string | null;
  /** Control-plane TLS: null when off; caFile null = TLS without client certificates. */
  readonly tls: { readonly certFile: string; readonly keyFile: string; readonly caFile: string | null; readonly serverName: string | null; readonly reloadIntervalMs: number } | null;
  /** Most members expected; sizes the control plane's message and record limits (src/grpc/limits.ts). */
  readonly maxClusterSize: number;
  readonly negotiateRate: {
    readonly globalPerSecond: number;
    readonly globalBurst: number;
    readonly perPeerPerSecond: number;
    readonly perPeerBurst: number;
    readonly perHostPerSecond: number;
    readonly perHostBurst: number;
  };
  /** --- digest-watch */
  readonly antiEntropy: (typeof ANTI_ENTROPY_MODES)[number];
  /** Events a gRPC WatchMembership stream may have unsent before it is ended as too slow. */
  readonly watchQueueEvents: number;
  /** --- apply: --app-handler-url and the --apply-* options. */
  readonly apply: ApplyConfig;
  /** --- claims: the --claim-* options. */
  readonly claims: ClaimConfig;
  /** The profile with every override applied and validated. */
  readonly swim: Readonly<SwimConfig>;
}

function resolve(f: Fields): ResolvedConfig {
  const swim: SwimConfig = { ...PROFILES[f.profile], ...protocolOverrides(f) };
  return {
    configFile: f.configFile,
    name: f.name,
    gossipAddr: f.gossipAddr,
    grpcAddr: f.grpcAddr,
    advertiseHost: f.advertiseHost,
    httpAddr: f.httpAddr,
    opsAddr: f.opsAddr,
    appAddr: f.appAddr === null ? null : { host: f.appAddr.host || f.advertiseHost, port: f.appAddr.port },
    appHealth: f.appHealth,
    seeds: f.seeds.map((s) => ({ host: s.host, port: s.port ?? f.grpcAddr.port })),
    bootstrap: f.bootstrap,
    profile: f.profile,
    shards: f.shards,
    replicas: f.replicas,
    keyringFile: f.keyringFile,
    label: f.label,
    gossipVerifyIncoming: f.gossipVerifyIncoming ?? true,
    gossipVerifyOutgoing: f.gossipVerifyOutgoing ?? true,
    keyProofV1: f.keyProofV1 ?? false,
    tags: f.tags,
    logLevel: f.logLevel,
    logFormat: f.logFormat,
    joinTimeoutMs: f.joinTimeoutMs,
    joinRetryInitialMs: f.joinRetryInitialMs,
    joinRetryMaxMs: f.joinRetryMaxMs,
    rpcTimeoutMs: f.rpcTimeoutMs,
    leaveTimeoutMs: f.leaveTimeoutMs,
    drainMs: f.drainMs,
    appCheck: {
      intervalMs: f.appCheckIntervalMs,
      timeoutMs: f.appCheckTimeoutMs,
      failureThreshold: f.appFailureThreshold,
      successThreshold: f.appSuccessThreshold,
    },
    dnsServers: f.dnsServers.map((d) => ({ host: d.host, port: d.port ?? 53 })),
    settleMs: f.settleMs ?? 2 * swim.probeIntervalMs,
    httpToken: f.httpToken,
    adminToken: f.adminToken,
    httpTrustLoopback: f.httpTrustLoopback,
    adminTokenFile: f.adminTokenFile,
    tls:
      f.tlsCertFile !== null && f.tlsKeyFile !== null
        ? { certFile: f.tlsCertFile, keyFile: f.tlsKeyFile, caFile: f.tlsCaFile, serverName: f.tlsServerName, reloadIntervalMs: f.tlsReloadIntervalMs }
        : null,
    maxClusterSize: f.maxClusterSize,
    negotiateRate: {
      globalPerSecond: f.negotiateRate,
      globalBurst: f.negotiateBurst,
      perPeerPerSecond: f.negotiatePeerRate,
      perPeerBurst: f.negotiatePeerBurst,
      perHostPerSecond: f.negotiateHostRate,
      perHostBurst: f.negotiateHostBurst,
    },
    antiEntropy: f.antiEntropy,
    watchQueueEvents: f.watchQueueEvents,
    apply: {
      handlerUrl: f.appHandlerUrl,
      timeoutMs: f.applyTimeoutMs,
      maxBodyBytes: f.applyMaxBodyBytes,
      maxAttempts: f.applyMaxAttempts,
      dedupTtlMs: f.applyDedupTtlMs,
      dedupEntries: f.applyDedupEntries,
      dedupMaxBytes: f.applyDedupMaxBytes,
      maxChannels: f.applyMaxChannels,
    },
    claims: {
      defaultTtlMs: f.claimTtlMs === 0 ? null : f.claimTtlMs,
      maxTtlMs: f.claimMaxTtlMs,
      maxClaimsPerMember: f.claimMaxPerMember,
      maxRecords: f.claimMaxRecords,
      maxReleasesPerMember: f.claimMaxReleasesPerMember,
      announceWindowMs: f.claimAnnounceWindowMs,
      announceConcurrency: f.claimAnnounceConcurrency,
      announceQueuePerPeer: f.claimAnnounceQueuePerPeer,
      releaseRetentionMs: f.claimReleaseRetentionMs,
      maxClockSkewMs: f.claimMaxClockSkewMs,
      relayGroupSize: f.claimRelayGroupSize,
      relayWindowMs: f.claimRelayWindowMs,
    },
    swim: Object.freeze(swim),
  };
}

/** Raw values keyed by ConfigKey in, the resolved configuration out. loadConfig() is the usual door. */
export const configSchema = z
  .object(configShape)
  // Run even when single fields failed, so every problem is reported in one go.
  .superRefine(checkAcross, { when: () => true })
  .transform(resolve);

export type SwimringConfig = z.infer<typeof configSchema>;
