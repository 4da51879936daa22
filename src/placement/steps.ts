// Long computations (a table build, a move summary) are written as generators that yield every few
// milliseconds of work: the agent runs them on its event loop a slice at a time, everything else runs
// them to the end at once with runSteps.

/** A computation that yields between slices of work and returns T. */
export type Steps<T> = Generator<void, T, void>;

/** Runs every step of `steps` now and returns its result. */
export function runSteps<T>(steps: Steps<T>): T {
  let r = steps.next();
  while (r.done !== true) r = steps.next();
  return r.value;
}
