// The public surface of the SWIM core.
export type * from './types.js';
export type { SwimConfig, ProfileName } from './config.js';
export { PROFILES, profileConfig, validateConfig, MIN_PACKET_BUDGET } from './config.js';
export type { ByteMeasure, SwimCoreOptions } from './swim.js';
export { SwimCore, estimateMeasure } from './swim.js';
export { seededRandom, shuffleInPlace } from './random.js';
export { suspicionMinTimeout, suspicionTimeout, expectedConfirmations } from './suspicion.js';
export { retransmitLimit } from './broadcast-queue.js';
export type { MemberIndex } from './member-index.js';
export { PrivateMemberIndex, SharedMemberIndex } from './member-index.js';
export { pushPullInterval, DEFAULT_MAX_MEMBERS } from './limits.js';
