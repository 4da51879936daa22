// The options of the member itself: its identity and addresses, the cluster it joins, placement,
// gossip keys, logging, timing and the app health check. Part of OPTIONS (options.ts); the order here is
// the order of docs/config.md.
import { DEFAULT_REPLICAS, DEFAULT_SHARDS, MAX_REPLICAS, MAX_SHARDS } from '../placement/constants.js';
import { MAX_STRING_BYTES } from '../codec/constants.js';
import { SEEDS_PER_ATTEMPT } from '../member/join.js';
import { MAX_SEEDS, MAX_TAGS_TEXT_BYTES } from './fields.js';
import type { OptionMeta } from './option-meta.js';
import type { ConfigKey } from './schema.js';

export const MEMBER_OPTIONS = {
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
    description: `Comma list of host:port (gRPC) or DNS names (a headless Service; its addresses at this member's gRPC port); at most ${MAX_SEEDS}. Each join try contacts at most ${SEEDS_PER_ATTEMPT} of the resolved addresses, drawn at random. Empty: form a cluster alone.`,
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
    description: `Member tags as key=value,key=value (a JSON object in the config file); at most ${MAX_TAGS_TEXT_BYTES} bytes written that way, each value at most ${MAX_STRING_BYTES}.`,
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
    description: 'Wait before the second round of join tries; doubles each round up to --join-retry-max-ms. Each wait is shortened by up to half at random (members started together do not retry in step). A join try waits for its answer up to --join-retry-max-ms (or --rpc-timeout-ms when longer), and a round sends nothing to a seed whose earlier try still waits.',
    default: '500',
    defaultDoc: '500',
  },
  joinRetryMaxMs: {
    group: 'Timing',
    description: 'Longest wait between join rounds, and how long a join try waits for its answer.',
    default: '10000',
    defaultDoc: '10000',
  },
  rpcTimeoutMs: {
    group: 'Timing',
    description: 'Deadline of one gRPC call to a peer (Negotiate, Closing); a join try waits up to --join-retry-max-ms when that is longer.',
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
} satisfies Partial<Record<ConfigKey, OptionMeta>>;
