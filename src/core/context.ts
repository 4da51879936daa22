// What the core's components share: settings, injected randomness, counters, the deadline heap and
// Lifeguard's health score. One object, built once by SwimCore, so each component states what it uses.
import type { Awareness } from './awareness.js';
import type { SwimConfig } from './config.js';
import type { Timers } from './timers.js';
import type { Address, CoreCounters, Random } from './types.js';

export interface CoreContext {
  readonly config: SwimConfig;
  readonly random: Random;
  readonly counters: CoreCounters;
  readonly timers: Timers;
  readonly awareness: Awareness;
  /** Whether a peer's address can be carried by the control plane (SwimCoreOptions.acceptsAddress). */
  readonly acceptsAddress: (addr: Address) => boolean;
}
