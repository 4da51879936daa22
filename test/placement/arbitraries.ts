// Member-name sets for the placement properties.
import fc from 'fast-check';

/** A realistic name: pod-style ASCII, sometimes with other scripts. */
export const memberName = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }) },
);

/** n distinct names (n in [min, max]). */
export function memberSet(min: number, max: number): fc.Arbitrary<string[]> {
  return fc.uniqueArray(memberName, { minLength: min, maxLength: max });
}

/** Exactly n distinct pod names, cheap to generate for large n. */
export function podNames(n: number): fc.Arbitrary<string[]> {
  return fc.uniqueArray(fc.integer({ min: 0, max: 0x7fffffff }), { minLength: n, maxLength: n }).map((ids) =>
    ids.map((id) => `pod-${id.toString(36)}`),
  );
}

/** Small ring shapes that the brute-force reference can check quickly. */
export const smallShape = fc.record({
  shards: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(64, 97, 256, 1000)),
  replicas: fc.integer({ min: 0, max: 4 }),
  vnodes: fc.constantFrom(1, 2, 4, 8, 16),
});
