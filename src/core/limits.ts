// Hard bounds on everything the core keeps, so no peer (buggy or hostile) can grow its memory without limit.

/** Default member table size; alive updates about further unknown members are dropped and counted. */
export const DEFAULT_MAX_MEMBERS = 65_536;
/** ping-req relays in flight at once; more requests are refused (the requester's other relays still help). */
export const MAX_PENDING_RELAYS = 1024;
/** Updates read from one packet or records from one negotiate; the rest are ignored. */
export const MAX_UPDATES_PER_PACKET = 1024;
/**
 * Highest incarnation any member may hold or send: 2^50. A life starts at its boot time in Unix
 * milliseconds (about 2^41 today; 2^50 is reached in the year 37,600) and each refutation or metadata
 * change adds one, so no honest member comes near it. It sits 2^53 - 2^50 below the largest integer a
 * JS number holds exactly, so `incarnation + 1` is exact wherever it is computed. Decoders (UDP and
 * gRPC) refuse higher values, the core ignores them, and the core's own arithmetic saturates here
 * (README "Incarnation ceiling").
 */
export const MAX_INCARNATION = 2 ** 50;
/**
 * Longest member name and life id, in UTF-8 bytes: what the control plane carries (src/grpc/limits.ts,
 * and --name). A record the core kept beyond them would make every full-state exchange that carries
 * it (join replies, push-pull, anti-entropy) be refused as a whole, so one forged member blocked joins.
 */
export const MAX_NAME_BYTES = 253;
export const MAX_LIFE_ID_BYTES = 255;
/** Other lives of our own name superseding us this many times within the window: a second process (or a forger). */
export const NAME_CONFLICT_SUPERSESSIONS = 3;
export const NAME_CONFLICT_WINDOW_MS = 60_000;
/** memberlist's pushPullScaleThreshold: above this many members the push-pull interval grows. */
export const PUSH_PULL_SCALE_THRESHOLD = 32;

/** memberlist pushPullScale: interval * (ceil(log2(n) - log2(32)) + 1) above 32 members. */
export function pushPullInterval(intervalMs: number, clusterSize: number): number {
  if (clusterSize <= PUSH_PULL_SCALE_THRESHOLD) return intervalMs;
  const multiplier = Math.ceil(Math.log2(clusterSize) - Math.log2(PUSH_PULL_SCALE_THRESHOLD)) + 1;
  return multiplier * intervalMs;
}

/**
 * Follow-up full-state exchanges after a join, in probe intervals after the first join reply (each
 * plus up to one probe interval of jitter). Members that start together each get a join reply holding
 * only those that reached the seed first; the first follow-up (with a seed that answered the join,
 * which by then has heard from everyone that joined at once) and the second (with a random member)
 * hand every joiner the rest, instead of waiting for gossip or the first push-pull.
 */
export const JOIN_SYNC_DELAYS_PROBES: readonly number[] = [1, 3];
