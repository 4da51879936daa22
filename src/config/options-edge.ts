// The options of the member's edges: HTTP tokens, TLS, Negotiate rate limits, anti-entropy and watch
// queues, and Apply. Part of OPTIONS (options.ts); the order here is the order of docs/config.md.
import type { OptionMeta } from './option-meta.js';
import type { ConfigKey } from './schema.js';

export const EDGE_OPTIONS = {
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
  applyMaxChannels: {
    group: 'Apply',
    description:
      'Most gRPC connections this member keeps to owners for forwarding Applies. Below it the pool follows the membership: room for one per live peer plus a quarter and 8 more (at least 64), opened on first use, closed after 60 s unused or when the peer leaves or dies. Set it below the peer count only to bound sockets: Applies spread over more peers than this reopen connections (a TLS handshake each with mTLS).',
    default: '4096',
    defaultDoc: '4096',
  },
} satisfies Partial<Record<ConfigKey, OptionMeta>>;
