// Derives independent 32-bit seeds from one run seed, so the network, each core life and the scenario
// draw from separate streams: adding a fault never shifts the numbers another stream sees.

/** splitmix32's finaliser: a good 32-bit mixer. */
function mix32(x: number): number {
  let z = x >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** Stream numbers: one per purpose. Node lives use NODE_STREAM_BASE + node id. */
export const NETWORK_STREAM = 1;
export const SCENARIO_STREAM = 2;
export const NODE_STREAM_BASE = 16;

/** A seed for (run seed, stream, index), e.g. (seed, NODE_STREAM_BASE + nodeId, life). */
export function deriveSeed(seed: number, stream: number, index = 0): number {
  let h = mix32(seed ^ 0x5bd1e995);
  h = mix32(h ^ Math.imul(stream + 1, 0x9e3779b9));
  h = mix32(h ^ Math.imul(index + 1, 0x7feb352d));
  return h;
}

/** A deterministic value in [0, 1) for an unordered-free (ordered) pair, used for per-link latency. */
export function pairHash01(seed: number, a: number, b: number): number {
  const h = mix32(mix32(seed ^ Math.imul(a + 1, 0x27d4eb2d)) ^ Math.imul(b + 1, 0x165667b1));
  return h / 4294967296;
}

/** The claims workload (src/sim/claims.ts). */
export const CLAIMS_STREAM = 3;
