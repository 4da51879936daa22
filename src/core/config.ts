// Every protocol setting, documented once, with the three timing profiles and their validation.
// Formulas follow HashiCorp memberlist so numbers compare fairly against it.

/** SWIM + Lifeguard settings. All durations are milliseconds. */
export interface SwimConfig {
  /**
   * Time between probes: each period one member is pinged.
   * Lower detects failures sooner but costs more packets per second per member.
   * Scaled by the Lifeguard awareness multiplier (score + 1) while this member is unhealthy.
   * @default lan 1000, local 200, wan 5000
   */
  probeIntervalMs: number;
  /**
   * How long to wait for a direct ack before asking `indirectChecks` others to probe the target.
   * Should cover the network's 99th-percentile round trip; too low raises false indirect probes.
   * Scaled by the awareness multiplier. Must be below probeIntervalMs.
   * @default lan 500, local 100, wan 3000
   */
  probeTimeoutMs: number;
  /**
   * k: how many members are asked to ping-req a target that missed its direct ack.
   * More relays tolerate more lossy paths at the cost of k extra round trips per failed probe.
   * @default lan 3, local 2, wan 3
   */
  indirectChecks: number;
  /**
   * Suspicion minimum: min = suspicionMult * max(1, log10(max(n, 1))) * probeIntervalMs.
   * Higher gives a suspected member more time to refute (fewer false deaths), lower detects faster.
   * Also sets Lifeguard's expected confirmation count k = suspicionMult - 2.
   * @default lan 4, local 3, wan 6
   */
  suspicionMult: number;
  /**
   * Suspicion maximum: max = suspicionMaxTimeoutMult * min. A suspicion starts at max and shrinks
   * toward min as independent members confirm it; a lone (possibly unhealthy) accuser waits longest.
   * @default 6
   */
  suspicionMaxTimeoutMult: number;
  /**
   * Lifeguard local health: the awareness score lives in [0, awarenessMaxMultiplier - 1] and the probe
   * interval and timeout are multiplied by score + 1. Higher tolerates a slower (overloaded) host better
   * but makes it slower to detect others while it is unhealthy. 1 turns awareness off.
   * @default 8
   */
  awarenessMaxMultiplier: number;
  /**
   * Time between gossip rounds (sent only while updates are queued).
   * Lower spreads news faster at the cost of more packets.
   * @default lan 200, local 50, wan 500
   */
  gossipIntervalMs: number;
  /**
   * Members gossiped to each round (random alive/suspect ones, plus recently dead ones).
   * @default lan 3, local 3, wan 4
   */
  gossipNodes: number;
  /**
   * Each update is piggybacked retransmitMult * ceil(log10(n + 1)) times before it is dropped.
   * Higher makes delivery more certain on lossy networks, at the cost of packet space.
   * @default lan 4, local 3, wan 4
   */
  retransmitMult: number;
  /**
   * Full-state exchange (Negotiate) with one random member, to repair what gossip missed. Each period
   * also negotiates with one member held dead or recently reaped, which is how the two sides of a healed
   * partition find each other again. Scaled up for big clusters like memberlist's pushPullScale
   * (x2 above 32 members, x3 above 64, ...). 0 turns both off (join still negotiates).
   * @default lan 30000, local 5000, wan 60000
   */
  pushPullIntervalMs: number;
  /**
   * Dead and left records are kept (and still gossiped to) this long, then reaped.
   * Longer lets the news reach partitioned members; shorter frees the table sooner.
   * @default lan 30000, local 5000, wan 60000
   */
  deadRetentionMs: number;
  /**
   * After a record is reaped its name and incarnation are remembered this long, so a stale alive
   * (same or lower incarnation) still in flight does not resurrect it. Should exceed the time a stale
   * update can keep circulating (a few push-pull intervals). Tombstones also travel in full-state
   * exchanges, so this bounds how long after a partition the two sides still reconnect by themselves.
   * @default lan 300000, local 60000, wan 600000
   */
  tombstoneMs: number;
  /**
   * Maximum UDP packet size in bytes: a primary message plus piggybacked updates never exceed it.
   * 1400 fits a 1500-byte Ethernet MTU with room for IP/UDP and encryption headers.
   * @default 1400
   */
  packetBudget: number;
  /**
   * On a graceful leave, how many alive members get a direct Closing notice (gossip carries the rest).
   * @default 5
   */
  closingFanout: number;
}

export type ProfileName = 'lan' | 'local' | 'wan';

const LAN: Readonly<SwimConfig> = Object.freeze({
  probeIntervalMs: 1000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  awarenessMaxMultiplier: 8,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  retransmitMult: 4,
  pushPullIntervalMs: 30_000,
  deadRetentionMs: 30_000,
  tombstoneMs: 300_000,
  packetBudget: 1400,
  closingFanout: 5,
});

/** Loopback and tests: fast detection, chatty. */
const LOCAL: Readonly<SwimConfig> = Object.freeze({
  ...LAN,
  probeIntervalMs: 200,
  probeTimeoutMs: 100,
  indirectChecks: 2,
  suspicionMult: 3,
  gossipIntervalMs: 50,
  gossipNodes: 3,
  retransmitMult: 3,
  pushPullIntervalMs: 5_000,
  deadRetentionMs: 5_000,
  tombstoneMs: 60_000,
});

/** memberlist DefaultWANConfig: long round trips, more tolerance. */
const WAN: Readonly<SwimConfig> = Object.freeze({
  ...LAN,
  probeIntervalMs: 5000,
  probeTimeoutMs: 3000,
  suspicionMult: 6,
  gossipIntervalMs: 500,
  gossipNodes: 4,
  pushPullIntervalMs: 60_000,
  deadRetentionMs: 60_000,
  tombstoneMs: 600_000,
});

export const PROFILES: Readonly<Record<ProfileName, Readonly<SwimConfig>>> = Object.freeze({
  lan: LAN,
  local: LOCAL,
  wan: WAN,
});

/** Smallest packet budget that still fits a ping with long names plus one update. */
export const MIN_PACKET_BUDGET = 512;

/** Returns a list of problems with `config`, empty when it is usable. */
export function validateConfig(config: SwimConfig): string[] {
  const problems: string[] = [];
  const intAtLeast = (field: keyof SwimConfig, min: number): void => {
    const v = config[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      problems.push(`${field} must be an integer >= ${min} (got ${String(v)})`);
    }
  };
  intAtLeast('probeIntervalMs', 1);
  intAtLeast('probeTimeoutMs', 1);
  intAtLeast('indirectChecks', 0);
  intAtLeast('suspicionMult', 1);
  intAtLeast('suspicionMaxTimeoutMult', 1);
  intAtLeast('awarenessMaxMultiplier', 1);
  intAtLeast('gossipIntervalMs', 1);
  intAtLeast('gossipNodes', 0);
  intAtLeast('retransmitMult', 1);
  intAtLeast('pushPullIntervalMs', 0);
  intAtLeast('deadRetentionMs', 0);
  intAtLeast('tombstoneMs', 0);
  intAtLeast('packetBudget', MIN_PACKET_BUDGET);
  intAtLeast('closingFanout', 0);
  if (
    Number.isInteger(config.probeTimeoutMs) &&
    Number.isInteger(config.probeIntervalMs) &&
    config.probeTimeoutMs >= config.probeIntervalMs
  ) {
    problems.push(`probeTimeoutMs (${config.probeTimeoutMs}) must be below probeIntervalMs (${config.probeIntervalMs})`);
  }
  if (config.packetBudget > 65_507) problems.push(`packetBudget must fit one UDP datagram (<= 65507, got ${config.packetBudget})`);
  for (const key of Object.keys(config)) {
    if (!(key in LAN)) problems.push(`unknown setting ${key}`);
  }
  return problems;
}

/** A profile with overrides applied, validated. Throws an Error listing every problem. */
export function profileConfig(name: ProfileName, overrides: Partial<SwimConfig> = {}): SwimConfig {
  const base = PROFILES[name];
  if (base === undefined) throw new Error(`unknown SWIM profile "${String(name)}" (expected lan, local or wan)`);
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<SwimConfig>;
  const config: SwimConfig = { ...base, ...defined };
  const problems = validateConfig(config);
  if (problems.length > 0) throw new Error(`invalid SWIM config (profile ${name}): ${problems.join('; ')}`);
  return config;
}
