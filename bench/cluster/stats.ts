// Small order statistics for benchmark samples. Empty inputs give NaN so a missing scenario shows as "n/a",
// never as a made-up zero.
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (pos - lo);
}

export const median = (samples: readonly number[]): number => quantile(samples, 0.5);

export function minMax(samples: readonly number[]): readonly [number, number] {
  if (samples.length === 0) return [Number.NaN, Number.NaN];
  return [Math.min(...samples), Math.max(...samples)];
}
