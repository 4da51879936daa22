// Choosing k random members without scanning the table: draw indices into an array that may hold
// ineligible names (dead, reaped, the probe target) and skip them, with a bounded number of tries.
import type { Random } from './types.js';

/**
 * Up to `count` distinct names drawn uniformly from `names`, skipping those `exclude` rejects. Bounded
 * tries keep it O(count) even when many candidates are ineligible; a small array is scanned instead, so
 * nothing eligible is missed there.
 */
export function pickRandom(names: readonly string[], count: number, random: Random, exclude: (name: string) => boolean): string[] {
  const picked: string[] = [];
  const total = names.length;
  if (count <= 0 || total === 0) return picked;
  if (total <= count * 4 + 8) {
    const eligible: string[] = [];
    for (const name of names) if (!exclude(name) && !eligible.includes(name)) eligible.push(name);
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
    const name = names[random.int(total)] as string;
    if (exclude(name) || picked.includes(name)) continue;
    picked.push(name);
  }
  return picked;
}
