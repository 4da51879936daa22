// Choosing k random members without scanning the table: draw indices into an array that may hold
// ineligible names (dead, reaped, the probe target) and skip them, with a bounded number of tries.
import type { Random } from './types.js';

/**
 * Up to `count` distinct names drawn uniformly from `names`, skipping those `exclude` rejects. Bounded
 * tries keep it O(count) even when many candidates are ineligible; a small array is scanned instead, so
 * nothing eligible is missed there.
 */
export function pickRandom(names: readonly string[], count: number, random: Random, exclude: (name: string) => boolean): string[] {
  return pickRandomAt(names.length, (i) => names[i] as string, count, random, exclude);
}

/** pickRandom over `total` names given by position (`nameAt`), drawing the same numbers. */
export function pickRandomAt(total: number, nameAt: (i: number) => string, count: number, random: Random, exclude: (name: string) => boolean): string[] {
  const picked: string[] = [];
  if (count <= 0 || total === 0) return picked;
  if (total <= count * 4 + 8) {
    const eligible: string[] = [];
    for (let i = 0; i < total; i++) {
      const name = nameAt(i);
      if (!exclude(name) && !eligible.includes(name)) eligible.push(name);
    }
    while (picked.length < count && eligible.length > 0) {
      const i = random.int(eligible.length);
      picked.push(eligible[i] as string);
      eligible[i] = eligible[eligible.length - 1] as string;
      eligible.pop();
    }
    return picked;
  }
  const maxTries = count * 8 + 16;
  for (let tries = 0; tries < maxTries && picked.length < count; tries++) {
    const name = nameAt(random.int(total));
    if (exclude(name) || picked.includes(name)) continue;
    picked.push(name);
  }
  return picked;
}
