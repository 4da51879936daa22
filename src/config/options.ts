// What each option is called in each source, its default and its description: the single source for
// the loader, the error messages and docs/config.md.
import { DEFAULT_REPLICAS, DEFAULT_SHARDS, MAX_REPLICAS, MAX_SHARDS } from '../placement/constants.js';
import { PROFILES, SETTINGS, SETTING_NAMES, type SettingName } from '../core/config.js';
import { flagOf, PROFILE_NAMES, withFlagNames, type ConfigKey } from './schema.js';
import { MAX_SEEDS, MAX_TAG_BYTES } from './fields.js';

/** What a default may depend on: the process environment and the machine. */
export interface DefaultContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly hostname: () => string;
  /** The first non-loopback IPv4 address of this machine, if any. */
  readonly firstIPv4: () => string | undefined;
}

export interface OptionMeta {
  readonly description: string;
  /** Raw default, parsed like user input; undefined = none. */
  readonly default?: string | ((ctx: DefaultContext) => string);
  /** The default as the docs show it. */
  readonly defaultDoc: string;
  /** False for secrets: a flag would show in `ps` and shell history. */
  readonly flag?: boolean;
  /** False for options that cannot sit in the config file (the path of the file itself). */
  readonly file?: boolean;
  /** Redacted in problem messages. */
  readonly secret?: boolean;
  /** Heading the option is listed under in docs/config.md. */
  readonly group: 'Identity and addresses' | 'Cluster' | 'Placement' | 'App health' | 'Timing' | 'HTTP' | 'Apply' | 'Protocol overrides' | 'Other';
}

/** "lan 1000, local 200, wan 5000", or the one value when every profile agrees. */
function profileDefaults(setting: SettingName): string {
  const values = PROFILE_NAMES.map((profile) => PROFILES[profile][setting]);
  if (values.every((v) => v === values[0])) return `profile (${values[0]})`;
  return `profile (${PROFILE_NAMES.map((profile, i) => `${profile} ${values[i]}`).join(', ')})`;
}

/** The protocol options: described and bounded by the core's SETTINGS, defaults from its profiles. */
function protocolOptions(): Record<SettingName, OptionMeta> {
  const entries = SETTING_NAMES.map((setting): [SettingName, OptionMeta] => [
    setting,
    {
      group: 'Protocol overrides',
      description: `${withFlagNames(SETTINGS[setting].description)} Range ${SETTINGS[setting].min} to ${SETTINGS[setting].max}.`,
      defaultDoc: profileDefaults(setting),
    },
  ]);
  return Object.fromEntries(entries) as Record<SettingName, OptionMeta>;
}

export const OPTIONS: Readonly<Record<ConfigKey, OptionMeta>> = {
  configFile: {
    group: 'Other',
    description: 'JSON file with options keyed by their flag names without dashes (e.g. {"seeds": ["a:7947"]}). Flags and environment override it.',
    defaultDoc: 'none',
    file: false,
  },
  name: {
    group: 'Identity and addresses',
    description: 'Unique member name; a restarted pod keeps it. No spaces or control characters, at most 253 bytes.',
    default: (ctx) => ctx.env['POD_NAME'] || ctx.hostname(),
    defaultDoc: '`POD_NAME`, else the hostname',
  },
  gossipAddr: {
    group: 'Identity and addresses',
    description: 'UDP address the SWIM protocol binds. IPv6 as [addr]:port; port 0 picks a free port.',
    default: '0.0.0.0:7946',
    defaultDoc: '0.0.0.0:7946',
  },
  grpcAddr: {
    group: 'Identity and addresses',
    description: 'TCP address the gRPC control plane (join, anti-entropy, leave) binds.',
    default: '0.0.0.0:7947',
    defaultDoc: '0.0.0.0:7947',
  },
  advertiseHost: {
    group: 'Identity and addresses',
    description: 'Host peers use to reach this member (IP or DNS name); the ports of --gossip-addr and --grpc-addr are appended.',
    default: (ctx) => ctx.env['POD_IP'] || ctx.firstIPv4() || '127.0.0.1',
    defaultDoc: '`POD_IP`, else the first non-loopback IPv4 address, else 127.0.0.1',
  },
  httpAddr: {
    group: 'HTTP',
    description: 'App API listen address. Keep it on loopback; any other address requires an HTTP token.',
    default: '127.0.0.1:7948',
    defaultDoc: '127.0.0.1:7948',
  },
  opsAddr: {
    group: 'HTTP',
    description: 'Ops listener (/livez, /readyz, /metrics) for kubelet and Prometheus, which reach the pod IP.',
    default: '0.0.0.0:7949',
    defaultDoc: '0.0.0.0:7949',
  },
  appAddr: {
    group: 'Identity and addresses',
    description: 'The co-located app\'s address, advertised to peers and returned in route answers. ":PORT" means the advertise host at that port.',
    defaultDoc: 'none',
  },
  appHealth: {
    group: 'Identity and addresses',
    description: 'How to tell the app is ready: an http:// URL (2xx = ready) or tcp://host:port (connect = ready). Only serving members own shards.',
    defaultDoc: 'none (app taken as ready)',
  },
  seeds: {
    group: 'Cluster',
    description: `Comma list of host:port (gRPC) or DNS names (a headless Service; its addresses at this member's gRPC port); at most ${MAX_SEEDS}. Empty: form a cluster alone.`,
    default: '',
    defaultDoc: 'none (bootstrap alone)',
  },
  bootstrap: {
    group: 'Cluster',
    description: 'With seeds: form a new cluster alone when no seed answers within --join-timeout-ms (the first pod of a new cluster).',
    default: 'false',
    defaultDoc: 'false',
  },
  profile: {
    group: 'Cluster',
    description: 'SWIM timing profile: lan (memberlist defaults), local (loopback and tests, fast), wan (long round trips).',
    default: 'lan',
    defaultDoc: 'lan',
  },
  shards: {
    group: 'Placement',
    description: `Shard count, 1-${MAX_SHARDS}. Must be the same on every member (docs/placement.md explains the default).`,
    default: String(DEFAULT_SHARDS),
    defaultDoc: String(DEFAULT_SHARDS),
  },
  replicas: {
    group: 'Placement',
    description: `Replicas listed after the owner in route answers, 0-${MAX_REPLICAS}.`,
    default: String(DEFAULT_REPLICAS),
    defaultDoc: String(DEFAULT_REPLICAS),
  },
  keyringFile: {
    group: 'Cluster',
    description: 'File with the gossip encryption keys: base64 AES-256 keys one per line, the first primary (Serf\'s JSON array too). Rotations are written back to it. Keys may instead come from SWIMRING_KEYRING (never a flag).',
    defaultDoc: 'none',
  },
  label: {
    group: 'Cluster',
    description: 'Cluster label (at most 255 bytes); packets with another label are rejected.',
    defaultDoc: 'none',
  },
  // --- sec-gossip
  gossipVerifyIncoming: {
    group: 'Cluster',
    description: 'With a keyring: refuse plaintext gossip packets. Set false (with --gossip-verify-outgoing false, then true) to turn encryption on in a running cluster; docs/security.md.',
    defaultDoc: 'true',
  },
  gossipVerifyOutgoing: {
    group: 'Cluster',
    description: 'With a keyring: encrypt outgoing gossip packets. False sends plaintext while accepting both (step 1 of turning encryption on).',
    defaultDoc: 'true',
  },
  keyProofV1: {
    group: 'Cluster',
    description: 'With a keyring: also send and accept the v1 gRPC key proof (one sealed timestamp for every call, good for 10 minutes). Only while upgrading from a version that knows no other; docs/security.md.',
    defaultDoc: 'false',
  },
  tags: {
    group: 'Identity and addresses',
    description: `Member tags as key=value,key=value (a JSON object in the config file); at most ${MAX_TAG_BYTES} bytes written that way.`,
    default: '',
    defaultDoc: 'none',
  },
  logLevel: {
    group: 'Other',
    description: 'fatal, error, warn, info, debug, trace or silent.',
    default: 'info',
    defaultDoc: 'info',
  },
  logFormat: {
    group: 'Other',
    description: 'json: one JSON object per line (for log collectors); pretty: readable colored lines (pino-pretty); auto: pretty when stdout is a terminal, else json.',
    default: 'auto',
    defaultDoc: 'auto',
  },
  joinTimeoutMs: {
    group: 'Timing',
    description: 'How long to try the seeds at start before --bootstrap forms a cluster alone (without --bootstrap the tries go on, and the member stays unready).',
    default: '5000',
    defaultDoc: '5000',
  },
  joinRetryInitialMs: {
    group: 'Timing',
    description: 'Wait before the second round of join tries; doubles each round up to --join-retry-max-ms.',
    default: '500',
    defaultDoc: '500',
  },
  joinRetryMaxMs: {
    group: 'Timing',
    description: 'Longest wait between join rounds.',
    default: '10000',
    defaultDoc: '10000',
  },
  rpcTimeoutMs: {
    group: 'Timing',
    description: 'Deadline of one gRPC call to a peer (Negotiate, Closing).',
    default: '2000',
    defaultDoc: '2000',
  },
  leaveTimeoutMs: {
    group: 'Timing',
    description: 'On leave (SIGTERM or POST /v1/leave), longest wait for the news to spread before exiting.',
    default: '5000',
    defaultDoc: '5000',
  },
  drainMs: {
    group: 'Timing',
    description: 'On leave: the member stops serving at once (its shards move to others), keeps answering routes this long for in-flight work, then announces the leave. Counts against the Kubernetes termination grace period together with --leave-timeout-ms.',
    default: '2000',
    defaultDoc: '2000',
  },
  appCheckIntervalMs: {
    group: 'App health',
    description: 'How often the app is checked (with --app-health).',
    default: '1000',
    defaultDoc: '1000',
  },
  appCheckTimeoutMs: {
    group: 'App health',
    description: 'A check that has no answer within this long counts as a failure.',
    default: '1000',
    defaultDoc: '1000',
  },
  appFailureThreshold: {
    group: 'App health',
    description: 'Failed checks in a row before the member stops serving (its shards move away). Damps a flapping app.',
    default: '3',
    defaultDoc: '3',
  },
  appSuccessThreshold: {
    group: 'App health',
    description: 'Passed checks in a row before the member serves (owns shards) again.',
    default: '1',
    defaultDoc: '1',
  },
  dnsServers: {
    group: 'Cluster',
    description: 'DNS servers ("ip" or "ip:port", comma list) used to resolve seed names; by default the system resolver. Names are re-resolved on every join retry and seed re-check.',
    default: '',
    defaultDoc: 'none (system resolver)',
  },
  settleMs: {
    group: 'Timing',
    description: 'Before its first readiness a member waits for its view to stay unchanged this long (at most five such windows after joining); afterwards other members\' churn never affects readiness (docs/http.md, "Readiness").',
    defaultDoc: 'two probe intervals (lan 2000, local 400, wan 10000)',
  },
  httpToken: {
    group: 'HTTP',
    description: 'Bearer token the app API demands from non-loopback clients (16-4096 printable characters). Environment or config file only: a flag would show in `ps`.',
    defaultDoc: 'none',
    flag: false,
    secret: true,
  },
  adminToken: {
    group: 'HTTP',
    description:
      'Bearer token of the admin actions (POST /v1/leave, key rotation), 16-4096 printable characters. Environment or config file only. Unset: the agent draws one and writes --admin-token-file. It is never the HTTP token: an app client must not rotate the gossip key (to keep one token for both, as before, set this to the same value).',
    defaultDoc: 'none (a random token in --admin-token-file)',
    flag: false,
    secret: true,
  },
  httpTrustLoopback: {
    group: 'HTTP',
    description:
      'Serve loopback clients of the app API without the HTTP token. Turn it off (false, with SWIMRING_HTTP_TOKEN set) behind a service mesh whose inbound proxy connects from 127.0.0.6 or 127.0.0.1: otherwise every request relayed by the proxy, from anywhere, counts as local.',
    default: 'true',
    defaultDoc: 'true',
  },
  // --- sec-edge
  adminTokenFile: {
    group: 'HTTP',
    description: 'Admin actions (POST /v1/leave, key rotation) always need a bearer token, loopback included. Without SWIMRING_ADMIN_TOKEN the agent makes a random one at start and writes it here (mode 0600); the CLI and deploy/bin/swimring-hook.mjs read it. If the file cannot be written the agent starts anyway, warns, and refuses admin actions.',
    defaultDoc: '`<os tmpdir>/swimring-<name>.token` (name percent-encoded)',
  },
  tlsCertFile: {
    group: 'Cluster',
    description: 'PEM certificate (chain) for the gRPC control plane, presented as server and as client. With --tls-key-file it turns TLS on; every member must then use TLS. Re-read when it changes.',
    defaultDoc: 'none (plaintext gRPC)',
  },
  tlsKeyFile: {
    group: 'Cluster',
    description: 'PEM private key of --tls-cert-file. Re-read when it changes.',
    defaultDoc: 'none',
  },
  tlsCaFile: {
    group: 'Cluster',
    description: 'PEM CA bundle: turns on mutual TLS. Callers without a client certificate signed by it are refused, and peers are verified against it. Without it peers are verified against the system roots and no client certificate is asked for.',
    defaultDoc: 'none (no client certificates)',
  },
  tlsServerName: {
    group: 'Cluster',
    description: 'Name peers\' certificates are verified against (members are dialed by IP; one certificate naming e.g. "swimring.NAMESPACE.svc" may serve them all). Without it, the dialed host (an IP SAN) must be in the certificate.',
    defaultDoc: 'the dialed host',
  },
  tlsReloadIntervalMs: {
    group: 'Cluster',
    description: 'Period of the stat check that backs up the directory watch on the TLS files (Kubernetes swaps a ..data symlink on secret rotation).',
    default: '10000',
    defaultDoc: '10000',
  },
  negotiateRate: {
    group: 'Cluster',
    description: 'Negotiates per second this member answers from all callers together; more are refused RESOURCE_EXHAUSTED with a retry-after.',
    default: '100',
    defaultDoc: '100',
  },
  negotiateBurst: {
    group: 'Cluster',
    description: 'Negotiates from all callers accepted back to back before --negotiate-rate applies.',
    default: '200',
    defaultDoc: '200',
  },
  maxClusterSize: {
    group: 'Cluster',
    description:
      'Most members the cluster is expected to hold. Sizes the control plane: a full-state exchange may carry twice this many records (members and tombstones), and gRPC messages are refused above 64 KiB + 1 KiB per such record (8 MiB at the default). Raise it for larger clusters or members with many tags.',
    default: '4096',
    defaultDoc: '4096',
  },
  negotiatePeerRate: {
    group: 'Cluster',
    description: 'Negotiates per second answered from one caller (its IP and claimed member name).',
    default: '2',
    defaultDoc: '2',
  },
  negotiatePeerBurst: {
    group: 'Cluster',
    description: 'Negotiates from one caller accepted back to back before --negotiate-peer-rate applies.',
    default: '10',
    defaultDoc: '10',
  },
  negotiateHostRate: {
    group: 'Cluster',
    description: 'Negotiates per second answered from one IP address, whatever member names it sends: a flood under invented names from one address cannot use up --negotiate-rate for joiners elsewhere. Raise it when many members share one address.',
    default: '20',
    defaultDoc: '20',
  },
  negotiateHostBurst: {
    group: 'Cluster',
    description: 'Negotiates from one IP address accepted back to back before --negotiate-host-rate applies.',
    default: '50',
    defaultDoc: '50',
  },
  // --- digest-watch
  antiEntropy: {
    group: 'Cluster',
    description:
      'Periodic anti-entropy each push-pull interval: `digest` compares Merkle roots of the member table and the claims and swaps only differing buckets; `full` swaps every bucket (the baseline it is measured against); `negotiate` sends the full member list (the old way). Join always uses Negotiate.',
    default: 'digest',
    defaultDoc: 'digest',
  },
  watchQueueEvents: {
    group: 'HTTP',
    description: 'Events a gRPC WatchMembership stream may have waiting to be sent; a consumer further behind is ended with RESOURCE_EXHAUSTED.',
    default: '1024',
    defaultDoc: '1024',
  },
  // --- apply
  appHandlerUrl: {
    group: 'Apply',
    description: 'Where this member\'s app takes work sent with POST /v1/apply/KEY (by its own app or, through the owner\'s sidecar, by others): an http:// URL on localhost with a port, e.g. http://127.0.0.1:8080/apply. Without it this member still forwards Applies, and answers those for keys it owns with no_app_handler (501). docs/apply.md.',
    defaultDoc: 'none',
  },
  applyTimeoutMs: {
    group: 'Apply',
    description: 'Overall budget of one Apply at the sidecar that received it, retries included; also the longest an owner waits for its app.',
    default: '5000',
    defaultDoc: '5000',
  },
  applyMaxBodyBytes: {
    group: 'Apply',
    description: 'Largest Apply request body (413 beyond) and largest app answer relayed back. Keep it equal on every member.',
    default: '1048576',
    defaultDoc: '1048576 (1 MiB)',
  },
  applyMaxAttempts: {
    group: 'Apply',
    description: 'Attempts per Apply, the first included, on NOT_OWNER (following the owner hint) and on an unreachable owner, with jittered backoff, within --apply-timeout-ms.',
    default: '3',
    defaultDoc: '3',
  },
  applyDedupTtlMs: {
    group: 'Apply',
    description: 'How long an owner remembers a request id it delivered, with the app\'s answer: a retry with the same id within this time gets the stored answer instead of a second delivery.',
    default: '300000',
    defaultDoc: '300000 (5 minutes)',
  },
  applyDedupEntries: {
    group: 'Apply',
    description: 'Most request ids an owner remembers at once; the oldest are forgotten first (counted in swimring_apply_records_evicted_early_total).',
    default: '100000',
    defaultDoc: '100000',
  },
  applyDedupMaxBytes: {
    group: 'Apply',
    description: 'Most bytes of stored app answers an owner keeps for deduplication; the oldest are forgotten first.',
    default: '67108864',
    defaultDoc: '67108864 (64 MiB)',
  },
  ...protocolOptions(),
  // --- claims: ownership claims, docs/ownership.md
  claimTtlMs: {
    group: 'Placement',
    description: 'TTL of a claim made without ttl_ms (POST /v1/claims) and of a first-touch claim (route with ?claim=true); touching or claiming again renews it. 0: claims last until released, or until their owner leaves or dies.',
    default: '600000',
    defaultDoc: '600000 (10 minutes)',
  },
  claimMaxTtlMs: {
    group: 'Placement',
    description: 'Longest ttl_ms a claim may ask for.',
    default: '86400000',
    defaultDoc: '86400000 (1 day)',
  },
  claimMaxPerMember: {
    group: 'Placement',
    description: 'Most live claims one member may hold; its own claims beyond it are refused (status "limit"), and so are a peer\'s beyond it (the announcement is answered TOO_LARGE). Keep it equal on every member.',
    default: '100000',
    defaultDoc: '100000',
  },
  claimMaxReleasesPerMember: {
    group: 'Placement',
    description: 'Most releases of one member kept (each for --claim-release-retention-ms); beyond it that member\'s oldest releases are forgotten early (swimring_claim_releases_compacted_total). Keep it equal on every member.',
    default: '50000',
    defaultDoc: '50000',
  },
  claimMaxRecords: {
    group: 'Placement',
    description: 'Ceiling on the claim records (claims and releases) a member keeps of other members, about 300 bytes each. Below it the bound grows with the cluster: live members x (--claim-max-per-member + --claim-max-releases-per-member). A member\'s own claims never count against it.',
    default: '2000000',
    defaultDoc: '2000000',
  },
  claimAnnounceWindowMs: {
    group: 'Placement',
    description: 'Claims and releases made within this window go to each peer as one AnnounceOwnership / AnnounceExpiry.',
    default: '20',
    defaultDoc: '20',
  },
  claimAnnounceConcurrency: {
    group: 'Placement',
    description: 'Announcement calls in flight at once, over all peers; each peer has at most one, so a peer that hangs holds one slot only.',
    default: '8',
    defaultDoc: '8',
  },
  claimAnnounceQueuePerPeer: {
    group: 'Placement',
    description: 'Claims and releases waiting to be announced to one peer (the newest per id). Beyond it the oldest is dropped and counted (swimring_claim_announcements_dropped_total); the digest exchange repairs what was dropped.',
    default: '2048',
    defaultDoc: '2048',
  },
  claimMaxClockSkewMs: {
    group: 'Placement',
    description: 'Most a member\'s wall clock may be off from the others\' for its claims to count. Announcements carry the sender\'s clock and acks the receiver\'s: a claimant off by more is refused (swimring_claim_clock_refused_total), and a member off from most of its peers takes no claims (503 clock_skew) until its clock is fixed. Keep it well below --claim-release-retention-ms.',
    default: '10000',
    defaultDoc: '10000 (10 s)',
  },
  claimReleaseRetentionMs: {
    group: 'Placement',
    description: 'How long a release is remembered, so that it overtakes the claim it ends on every member (and the digest exchange carries it).',
    default: '120000',
    defaultDoc: '120000 (2 minutes)',
  },
};

export const CONFIG_KEYS = Object.keys(OPTIONS) as ConfigKey[];

/** The environment variable of an option, e.g. SWIMRING_GOSSIP_ADDR; SWIMRING_CONFIG for the file. */
export function envOf(key: ConfigKey): string {
  const base = key === 'configFile' ? 'config' : key;
  return `SWIMRING_${base.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** The flag of an option, e.g. --gossip-addr; --config for the file. */
export function flagName(key: ConfigKey): string {
  return key === 'configFile' ? '--config' : flagOf(key);
}

/** The config file key of an option: its flag without the dashes. */
export function fileKeyOf(key: ConfigKey): string {
  return flagName(key).slice(2);
}

export interface OptionDoc {
  readonly flag: string;
  readonly env: string;
  readonly default: string;
  readonly description: string;
}

export const OPTION_DOCS: readonly OptionDoc[] = CONFIG_KEYS.map((key) => {
  const meta = OPTIONS[key];
  return {
    flag: meta.flag === false ? '' : flagName(key),
    env: envOf(key),
    default: meta.defaultDoc,
    description: meta.description,
  };
});
