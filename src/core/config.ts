// Every protocol setting, documented and bounded once, with the three timing profiles and their
// validation. The agent's options (src/config) are derived from SETTINGS, so the flag tables in
// docs/config.md show these descriptions and the loader enforces these bounds.
// Formulas follow HashiCorp memberlist so numbers compare fairly against it.

const DAY_MS = 86_400_000;

/** One setting: what it does and the trade-off (shown in docs/config.md), and its inclusive bounds. */
export interface SettingSpec {
  readonly description: string;
  readonly min: number;
  readonly max: number;
}

/** SWIM + Lifeguard settings. All durations are milliseconds; every value is an integer. */
export const SETTINGS = {
  probeIntervalMs: {
    description:
      'Time between probes: each period one member is pinged. Lower detects failures sooner but costs more packets per second per member. Multiplied by the Lifeguard awareness score + 1 while this member is unhealthy.',
    min: 10,
    max: 600_000,
  },
  probeTimeoutMs: {
    description:
      'How long to wait for a direct ack before asking indirectChecks others to probe the target. Should cover the network\'s 99th-percentile round trip; too low raises needless indirect probes. Multiplied by the awareness score + 1. Must be below the probe interval.',
    min: 1,
    max: 600_000,
  },
  indirectChecks: {
    description:
      'k: members asked to ping-req a target that missed its direct ack. More relays tolerate more lossy paths at the cost of k extra round trips per failed probe.',
    min: 0,
    max: 16,
  },
  suspicionMult: {
    description:
      'Suspicion minimum = mult x max(1, log10(n)) x probe interval. Higher gives a suspected member more time to refute (fewer false deaths), lower detects faster. Also sets Lifeguard\'s expected confirmations k = mult - 2.',
    min: 1,
    max: 100,
  },
  suspicionMaxTimeoutMult: {
    description:
      'Suspicion maximum = this x the minimum. A suspicion starts at the maximum and shrinks toward the minimum as independent members confirm it, so a lone (possibly unhealthy) accuser waits longest.',
    min: 1,
    max: 100,
  },
  awarenessMaxMultiplier: {
    description:
      'Lifeguard local health: the awareness score lives in [0, this - 1] and the probe interval and timeout are multiplied by score + 1. Higher tolerates a slower (overloaded) host better but detects others more slowly while it is unhealthy; 1 turns awareness off.',
    min: 1,
    max: 100,
  },
  gossipIntervalMs: {
    description: 'Time between gossip rounds, sent only while updates are queued. Lower spreads news faster at the cost of more packets.',
    min: 1,
    max: 600_000,
  },
  gossipNodes: {
    description: 'Members gossiped to each round (random alive and suspect ones, plus recently dead ones); 0 leaves news to piggyback on probes alone.',
    min: 0,
    max: 64,
  },
  retransmitMult: {
    description:
      'Each update is piggybacked mult x ceil(log10(n + 1)) times before it is dropped. Higher makes delivery more certain on lossy networks, at the cost of packet space.',
    min: 1,
    max: 100,
  },
  pushPullIntervalMs: {
    description:
      'Full-state exchange (Negotiate) with one random member, to repair what gossip missed; each period also negotiates with one member held dead or recently reaped, which is how the two sides of a healed partition find each other. Scaled up above 32 members like memberlist\'s pushPullScale. 0 turns both off (join still negotiates).',
    min: 0,
    max: DAY_MS,
  },
  deadRetentionMs: {
    description: 'Dead and left members are kept (and still gossiped to) this long, then reaped. Longer lets the news reach partitioned members; shorter frees the table sooner.',
    min: 0,
    max: DAY_MS,
  },
  tombstoneMs: {
    description:
      'After a member is reaped its name and incarnation are remembered this long, so a stale alive still in flight does not resurrect it. Should exceed a few push-pull intervals; tombstones also travel in full-state exchanges, so this bounds how long after a partition the two sides still reconnect by themselves.',
    min: 0,
    max: DAY_MS,
  },
  packetBudget: {
    description:
      'Largest UDP packet in bytes: a message plus piggybacked updates never exceed it. 1400 fits a 1500-byte Ethernet MTU with room for IP/UDP and encryption headers.',
    min: 512,
    max: 65_507,
  },
  closingFanout: {
    description: 'On a graceful leave, how many alive members get a direct Closing notice (gossip carries the rest).',
    min: 0,
    max: 64,
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

/** SWIM + Lifeguard settings (SETTINGS says what each does and bounds it). */
export type SwimConfig = { [K in SettingName]: number };

export const PROFILE_NAMES = ['lan', 'local', 'wan'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

const LAN: Readonly<SwimConfig> = Object.freeze({
  probeIntervalMs: 1000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  suspicionMult: 3,
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
export const MIN_PACKET_BUDGET = SETTINGS.packetBudget.min;

/** Returns a list of problems with `config`, empty when it is usable. */
export function validateConfig(config: SwimConfig): string[] {
  const problems: string[] = [];
  for (const field of SETTING_NAMES) {
    const { min, max } = SETTINGS[field];
    const v = config[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      problems.push(`${field} must be an integer from ${min} to ${max} (got ${String(v)})`);
    }
  }
  if (
    Number.isInteger(config.probeTimeoutMs) &&
    Number.isInteger(config.probeIntervalMs) &&
    config.probeTimeoutMs >= config.probeIntervalMs
  ) {
    problems.push(`probeTimeoutMs (${config.probeTimeoutMs}) must be below probeIntervalMs (${config.probeIntervalMs})`);
  }
  for (const key of Object.keys(config)) {
    if (!Object.hasOwn(SETTINGS, key)) problems.push(`unknown setting ${key}`);
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
