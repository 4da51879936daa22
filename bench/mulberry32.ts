// A small seeded generator for the benches' own draws (hop delays, store contents), so every build
// measured sees the same ones. The members' randomness is src/core/random.ts; this one only has to
// stay the same from run to run, so that figures in bench/README.md can be reproduced.
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
