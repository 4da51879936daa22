// One hand-fed Member's configuration for tests: a single member `m` on the local profile, the
// join and drain timings short enough to run through by hand. Tests override what they look at.
import { profileConfig } from '../../src/core/config.js';
import type { MemberConfig } from '../../src/member/member.js';

export function testMemberConfig(overrides: Partial<MemberConfig> = {}): MemberConfig {
  return {
    name: 'm',
    lifeId: 'm-life',
    incarnation: 1,
    gossipAddr: 'm:7946',
    grpcAddr: 'm:7947',
    appAddr: '',
    tags: {},
    swim: profileConfig('local'),
    randomSeed: 7,
    seeds: ['seed:7947'],
    bootstrap: true,
    joinRetryInitialMs: 100,
    joinRetryMaxMs: 400,
    joinTimeoutMs: 1000,
    settleMs: 100,
    drainMs: 500,
    appChecked: false,
    antiEntropy: 'digest',
    ...overrides,
  };
}
